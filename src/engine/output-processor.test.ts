import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteTokenizer } from '../backend/fake-tokenizer.ts';
import type { RequestOutput, SamplingParams } from './engine-types.ts';
import { bytesOf, EOS, params } from './engine-test-fixtures.ts';
import { RequestOutputProcessor } from './output-processor.ts';

const tokenizer = new ByteTokenizer(['<|endoftext|>', '<|im_start|>', '<|im_end|>'], [256, 258]);

function run(
  tokens: readonly number[],
  overrides: Partial<SamplingParams>,
  maxModelLen = 1000,
): RequestOutput[] {
  const p = new RequestOutputProcessor({
    requestId: 'r',
    promptTokens: 3,
    params: params(overrides),
    tokenizer,
    maxModelLen,
    cachedTokens: () => 0,
  });
  const outputs: RequestOutput[] = [];
  for (const token of tokens) {
    outputs.push(p.processToken(token));
    if (p.finished) break;
  }
  return outputs;
}

const joined = (outputs: readonly RequestOutput[]) => outputs.map((o) => o.text).join('');
const final = (outputs: readonly RequestOutput[]) => outputs[outputs.length - 1]!;

describe('RequestOutputProcessor', () => {
  it('emits one delta per token and finishes with length at maxTokens', () => {
    const outputs = run(bytesOf('hello world'), { maxTokens: 5 });
    assert.deepEqual(
      outputs.map((o) => [o.text, o.tokenIds, o.completionTokens, o.finishReason]),
      [
        ['h', [104], 1, null],
        ['e', [101], 2, null],
        ['l', [108], 3, null],
        ['l', [108], 4, null],
        ['o', [111], 5, 'length'],
      ],
    );
    assert.equal(final(outputs).stopReason, null);
    assert.equal(final(outputs).promptTokens, 3);
  });

  it('finishes with length at the context end (maxModelLen)', () => {
    const outputs = run(bytesOf('abcdef'), { maxTokens: 100 }, 5);
    assert.equal(outputs.length, 2);
    assert.equal(final(outputs).finishReason, 'length');
  });

  it('stops on EOS with stopReason null, counting the token but not its text', () => {
    const outputs = run([...bytesOf('ab'), EOS, ...bytesOf('c')], { skipSpecialTokens: false });
    assert.equal(joined(outputs), 'ab');
    assert.deepEqual(final(outputs), {
      requestId: 'r',
      text: '',
      tokenIds: [EOS],
      promptTokens: 3,
      completionTokens: 3,
      cachedTokens: 0,
      finishReason: 'stop',
      stopReason: null,
      logprobs: null,
      promptLogprobs: null,
    });
  });

  it('treats every end-of-generation token (EOT too) as EOS', () => {
    const outputs = run([0x61, 258], {});
    assert.equal(final(outputs).finishReason, 'stop');
    assert.equal(final(outputs).stopReason, null);
  });

  it('keeps going past EOS with ignoreEos', () => {
    const outputs = run([0x61, EOS, 0x62], {
      ignoreEos: true,
      maxTokens: 3,
      skipSpecialTokens: false,
    });
    assert.equal(joined(outputs), 'a<|endoftext|>b');
    assert.equal(final(outputs).finishReason, 'length');
  });

  it('reports length, not stop, when the last allowed token is EOS (vLLM checks length first)', () => {
    const outputs = run([0x61, EOS], { maxTokens: 2 });
    assert.equal(final(outputs).finishReason, 'length');
  });

  it('stops on a stop token id with stopReason = the id, its text excluded', () => {
    const outputs = run(bytesOf('abcd'), { stopTokenIds: [0x63] });
    assert.equal(joined(outputs), 'ab');
    assert.equal(final(outputs).finishReason, 'stop');
    assert.equal(final(outputs).stopReason, 0x63);
    assert.deepEqual(final(outputs).tokenIds, [0x63]);
    assert.equal(final(outputs).completionTokens, 3);
  });

  it('includes the stop token text with includeStopStrInOutput, as vLLM does', () => {
    const outputs = run(bytesOf('abcd'), { stopTokenIds: [0x63], includeStopStrInOutput: true });
    assert.equal(joined(outputs), 'abc');
  });

  it('cuts at a stop string spanning tokens, holding its start back meanwhile', () => {
    const outputs = run(bytesOf('abcdef'), { stop: ['cd'] });
    assert.deepEqual(
      outputs.map((o) => o.text),
      ['a', 'b', '', ''],
    );
    assert.equal(final(outputs).finishReason, 'stop');
    assert.equal(final(outputs).stopReason, 'cd');
    assert.equal(final(outputs).completionTokens, 4);
  });

  it('a stop string overrides length on the last token', () => {
    const outputs = run(bytesOf('abcd'), {
      stop: ['bc'],
      maxTokens: 3,
      includeStopStrInOutput: true,
    });
    assert.equal(joined(outputs), 'abc');
    assert.equal(final(outputs).finishReason, 'stop');
    assert.equal(final(outputs).stopReason, 'bc');
  });

  it('releases held-back text when the request ends by length', () => {
    const outputs = run(bytesOf('abcx'), { stop: ['cz'], maxTokens: 3 });
    assert.deepEqual(
      outputs.map((o) => o.text),
      ['a', 'b', 'c'],
    );
    assert.equal(final(outputs).finishReason, 'length');
  });

  it('releases held-back text before a stop token ends the request', () => {
    const outputs = run([0x61, 0x63, EOS], { stop: ['cz'] });
    assert.deepEqual(
      outputs.map((o) => o.text),
      ['a', '', 'c'],
    );
  });

  it('flushes an incomplete character at the end as U+FFFD', () => {
    const outputs = run([0x61, 0xe2, 0x82], { maxTokens: 3 });
    assert.deepEqual(
      outputs.map((o) => o.text),
      ['a', '', '\uFFFD'],
    );
  });

  it('skips special tokens text unless asked to keep it', () => {
    assert.equal(joined(run([0x61, 257, 0x62], { maxTokens: 3 })), 'ab');
    assert.equal(
      joined(run([0x61, 257, 0x62], { maxTokens: 3, skipSpecialTokens: false })),
      'a<|im_start|>b',
    );
  });

  it('ends an aborted request with an empty abort delta', () => {
    const p = new RequestOutputProcessor({
      requestId: 'r',
      promptTokens: 2,
      params: params({ stop: ['xy'] }),
      tokenizer,
      maxModelLen: 100,
      cachedTokens: () => 0,
    });
    assert.equal(p.processToken(0x78).text, '');
    assert.deepEqual(p.abortOutput(), {
      requestId: 'r',
      text: '',
      tokenIds: [],
      promptTokens: 2,
      completionTokens: 1,
      cachedTokens: 0,
      finishReason: 'abort',
      stopReason: null,
      logprobs: null,
      promptLogprobs: null,
    });
    assert.throws(() => p.processToken(0x79), /already finished/);
  });

  it("carries each token's logprobs, and the prompt's on the first output only", () => {
    const p = new RequestOutputProcessor({
      requestId: 'r',
      promptTokens: 2,
      params: params({ logprobs: 1, promptLogprobs: 0, maxTokens: 2 }),
      tokenizer,
      maxModelLen: 100,
      cachedTokens: () => 0,
    });
    const prompt = [null, { token: 0x62, logprob: -2, rank: 3, top: [] }];
    const first = { token: 0x63, logprob: -0.5, rank: 1, top: [{ token: 0x63, logprob: -0.5 }] };
    const second = { token: 0x64, logprob: -1.5, rank: 2, top: [{ token: 0x65, logprob: -1 }] };
    p.setPromptLogprobs(prompt);
    const a = p.processToken(0x63, first);
    assert.deepEqual(a.logprobs, [first]);
    assert.deepEqual(a.promptLogprobs, prompt);
    const b = p.processToken(0x64, second);
    assert.deepEqual(b.logprobs, [second]);
    assert.equal(b.promptLogprobs, null);
    assert.equal(b.finishReason, 'length');
    assert.throws(
      () =>
        new RequestOutputProcessor({
          requestId: 'q',
          promptTokens: 1,
          params: params({ logprobs: 0 }),
          tokenizer,
          maxModelLen: 100,
          cachedTokens: () => 0,
        }).processToken(0x63),
      /asked for logprobs but got none/,
    );
  });

  it('reports the cached prompt tokens as known at each output (the abort output too)', () => {
    let cached = 0;
    const p = new RequestOutputProcessor({
      requestId: 'r',
      promptTokens: 40,
      params: params({ maxTokens: 3 }),
      tokenizer,
      maxModelLen: 100,
      cachedTokens: () => cached,
    });
    assert.equal(p.processToken(0x61).cachedTokens, 0);
    cached = 32;
    assert.equal(p.processToken(0x62).cachedTokens, 32);
    assert.equal(p.abortOutput().cachedTokens, 32);
  });
});
