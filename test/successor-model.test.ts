/**
 * The llama.cpp backend against the successor model's closed formula: for every token of the
 * vocabulary, the greedy next token is succ(t) and the raw logprobs, ranks and top-N equal the
 * float64 log-softmax of the analytic logits (margin1 on succ(t), margin2 on succ(succ(t)), 0
 * elsewhere). Exact to 2e-6 in F32, F16 and Q8_0 (whose quantized matrices are the all-zero
 * blocks; embeddings and output stay F16, so the Q8_0 kernels run without changing the formula).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LlamaBackend } from '../src/backend/llama/llama-backend.ts';
import {
  IM_END_TOKEN_ID,
  IM_START_TOKEN_ID,
  ENDOFTEXT_TOKEN_ID,
} from '../src/gguf/byte-vocabulary.ts';
import type { WeightType } from '../src/gguf/llama-model-writer.ts';
import { successorLogits, successorLogprobs, successorOf } from '../src/gguf/successor-model.ts';
import { GREEDY, loadTestBackend, row } from './support/models.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Expected top-3: succ, succ(succ), then the lowest id among the zero-logit tokens. */
function expectedTop3(token: number): number[] {
  const first = successorOf(token);
  const second = successorOf(first);
  const third = range(300).find((t) => t !== first && t !== second)!;
  return [first, second, third];
}

async function checkEveryToken(backend: LlamaBackend, tolerance: number): Promise<void> {
  const vocab = backend.info.vocabSize;
  const tokens = range(vocab);
  const rows = tokens.map((t, i) =>
    row(i, { sampling: GREEDY, topLogprobs: 3, targetToken: successorOf(successorOf(t)) }),
  );
  const result = await backend.decode({
    chunks: [{ sequenceId: 0, startPosition: 0, tokens, rows }],
  });
  assert.equal(result.rows.length, vocab);
  for (const t of tokens) {
    const expected = successorLogprobs(t);
    const got = result.rows[t]!;
    const next = successorOf(t);
    assert.equal(got.token, next, `greedy successor of ${t}`);
    assert.equal(got.rank, 1);
    assert.ok(
      Math.abs(got.logprob - expected[next]!) <= tolerance,
      `logprob of succ(${t}): ${got.logprob} vs ${expected[next]}`,
    );
    assert.deepEqual(
      got.top.map((e) => e.token),
      expectedTop3(t),
      `top-3 after ${t}`,
    );
    for (const entry of got.top) {
      assert.ok(
        Math.abs(entry.logprob - expected[entry.token]!) <= tolerance,
        `top logprob ${entry.token} after ${t}`,
      );
    }
    const second = successorOf(next);
    assert.equal(got.target?.rank, 2);
    assert.ok(Math.abs(got.target.logprob - expected[second]!) <= tolerance);
  }
  backend.kv.clear();
}

/** Greedy generation of `count` tokens after `prompt`, one decode per token. */
async function generate(backend: LlamaBackend, prompt: string, count: number): Promise<number[]> {
  backend.kv.clear();
  let tokens = backend.tokenizer.tokenize(prompt, { addSpecial: false, parseSpecial: false });
  let position = 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const result = await backend.decode({
      chunks: [
        {
          sequenceId: 1,
          startPosition: position,
          tokens,
          rows: [row(tokens.length - 1, { sampling: GREEDY })],
        },
      ],
    });
    position += tokens.length;
    const next = result.rows[0]!.token!;
    out.push(next);
    if (backend.tokenizer.isEndOfGeneration(next)) break;
    tokens = [next];
  }
  return out;
}

for (const weightType of ['f32', 'f16'] as const satisfies WeightType[]) {
  describe(`successor model, ${weightType}`, () => {
    let backend: LlamaBackend;
    before(async () => {
      backend = await loadTestBackend({ preset: 'successor', weightType });
    });
    after(() => backend.dispose());

    it('gives the greedy successor and exact raw logprobs for every token', async () => {
      await checkEveryToken(backend, 2e-6);
    });

    it('returns the raw logits of the formula', async () => {
      const tokens = [97, 53, ENDOFTEXT_TOKEN_ID];
      const result = await backend.decode({
        chunks: [
          {
            sequenceId: 2,
            startPosition: 0,
            tokens,
            rows: tokens.map((_, i) => row(i, { returnLogits: true })),
          },
        ],
      });
      tokens.forEach((t, i) => {
        const logits = result.rows[i]!.logits!;
        const expected = successorLogits(t);
        assert.equal(logits.length, expected.length);
        for (let v = 0; v < expected.length; v++)
          assert.ok(Math.abs(logits[v]! - expected[v]!) <= 1e-5);
      });
      backend.kv.clear();
    });

    it('warms up without leaving KV or counting a decode, and answers the formula after', async () => {
      const decodes = backend.decodeCount;
      await backend.warmUp();
      assert.equal(backend.decodeCount, decodes);
      for (let id = 0; id < 4; id++) assert.equal(backend.kv.positions(id), null);
      const letters = await generate(backend, 'abc', 3);
      assert.equal(backend.tokenizer.detokenize(letters, { skipSpecial: true }), 'def');
    });

    it('continues "abc" with "defgh" and "5" with "6789." then EOS', async () => {
      const letters = await generate(backend, 'abc', 5);
      assert.equal(backend.tokenizer.detokenize(letters, { skipSpecial: true }), 'defgh');
      const digits = await generate(backend, '5', 10);
      assert.deepEqual(
        digits
          .slice(0, -1)
          .map((t) => String.fromCharCode(t))
          .join(''),
        '6789.',
      );
      assert.equal(digits.at(-1), ENDOFTEXT_TOKEN_ID);
    });
  });
}

describe('successor model, q8_0', () => {
  it('runs the Q8_0 kernels and keeps the exact formula', async () => {
    const backend = await loadTestBackend({ preset: 'successor', weightType: 'q8_0' });
    try {
      await checkEveryToken(backend, 2e-6);
    } finally {
      await backend.dispose();
    }
  });
});

describe('successor model tokenizer and metadata', () => {
  let backend: LlamaBackend;
  before(async () => {
    backend = await loadTestBackend({ preset: 'successor', weightType: 'f32' });
  });
  after(() => backend.dispose());

  it('tokenizes bytes one token each and round-trips text', () => {
    const t = backend.tokenizer;
    assert.deepEqual(t.tokenize('abc', { addSpecial: false, parseSpecial: false }), [97, 98, 99]);
    assert.deepEqual(t.tokenize('é', { addSpecial: false, parseSpecial: false }), [0xc3, 0xa9]);
    for (const text of ['hello, world !', ' leading space', 'tab\tand\nnewline', 'ünïcödé ✓']) {
      const ids = t.tokenize(text, { addSpecial: false, parseSpecial: false });
      assert.equal(t.detokenize(ids, { skipSpecial: false }), text);
    }
    assert.deepEqual([...t.tokenBytes(32)], [32]);
    assert.deepEqual([...t.tokenBytes(0xc3)], [0xc3]);
  });

  it('parses and skips special tokens', () => {
    const t = backend.tokenizer;
    const ids = t.tokenize('<|im_start|>x<|im_end|>', { addSpecial: false, parseSpecial: true });
    assert.deepEqual(ids, [IM_START_TOKEN_ID, 120, IM_END_TOKEN_ID]);
    assert.equal(t.tokenize('<|im_start|>', { addSpecial: false, parseSpecial: false }).length, 12);
    assert.equal(t.detokenize(ids, { skipSpecial: true }), 'x');
    assert.equal(t.detokenize(ids, { skipSpecial: false }), '<|im_start|>x<|im_end|>');
    assert.equal(new TextDecoder().decode(t.tokenBytes(IM_END_TOKEN_ID)), '<|im_end|>');
    assert.ok(t.isSpecial(IM_START_TOKEN_ID) && !t.isSpecial(97));
    assert.ok(t.isEndOfGeneration(ENDOFTEXT_TOKEN_ID) && t.isEndOfGeneration(IM_END_TOKEN_ID));
    assert.ok(!t.isEndOfGeneration(IM_START_TOKEN_ID));
  });

  it('reports the model facts and metadata', () => {
    const info = backend.info;
    assert.equal(info.vocabSize, 259);
    assert.equal(info.eosToken, ENDOFTEXT_TOKEN_ID);
    assert.equal(info.eotToken, IM_END_TOKEN_ID);
    assert.deepEqual(info.endOfGenerationTokens, [ENDOFTEXT_TOKEN_ID, IM_END_TOKEN_ID]);
    assert.equal(info.trainContextLength, 4096);
    assert.equal(info.metadata['general.architecture'], 'llama');
    assert.match(info.chatTemplate ?? '', /<\|im_start\|>/);
  });
});
