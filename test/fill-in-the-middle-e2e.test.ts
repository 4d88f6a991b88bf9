/**
 * `suffix` on /v1/completions end to end: the successor model built with fill-in-the-middle tokens
 * (`<|fim_prefix|>` 259, `<|fim_suffix|>` 260, `<|fim_middle|>` 261, declared by their GGUF keys
 * and read through the addon's llama_vocab_fim_*), served in-process. The engine must receive
 * exactly `<FIM_PRE> prompt <FIM_SUF> suffix <FIM_MID>` (the model adds no BOS), which the
 * successor formula answers with "0123456789." then EOS (succ(<|fim_middle|>) = '0'); the same
 * model without the tokens answers vLLM's 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { testServeOptions } from './support/models.ts';

type Json = Record<string, unknown>;

const FIM_PRE = 259;
const FIM_SUF = 260;
const FIM_MID = 261;
const bytes = (text: string) => [...Buffer.from(text)];

async function post(server: RunningServer, path: string, body: Json) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function json(server: RunningServer, path: string, body: Json): Promise<Json> {
  const answer = await post(server, path, body);
  assert.equal(answer.status, 200, answer.text);
  return JSON.parse(answer.text) as Json;
}

const first = (answer: Json) => (answer.choices as Json[])[0]!;
const usage = (answer: Json) => answer.usage as Record<string, number>;

describe('completions suffix (fill-in-the-middle)', () => {
  let fim: RunningServer;
  let plain: RunningServer;

  before(async () => {
    fim = await startServer(
      await testServeOptions({
        model: await ensureModel({ preset: 'successor', weightType: 'f16', fillInTheMiddle: true }),
      }),
    );
    plain = await startServer(await testServeOptions());
  });
  after(async () => {
    await fim.close();
    await plain.close();
  });

  const infill = (body: Json) =>
    json(fim, '/v1/completions', { model: 'successor', temperature: 0, max_tokens: 20, ...body });

  it('sends <FIM_PRE> prompt <FIM_SUF> suffix <FIM_MID> to the engine and answers the middle', async () => {
    const answer = await infill({ prompt: 'def', suffix: 'xyz', return_token_ids: true });
    const expected = [FIM_PRE, ...bytes('def'), FIM_SUF, ...bytes('xyz'), FIM_MID];
    const choice = first(answer);
    assert.deepEqual(choice.prompt_token_ids, expected);
    assert.equal(choice.text, '0123456789.');
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(usage(answer).prompt_tokens, expected.length, 'usage counts the whole prompt');
    assert.equal(usage(answer).completion_tokens, (choice.token_ids as number[]).length);
    // /tokenize with the control tokens spelled out gives the same ids.
    const tokenized = await json(fim, '/tokenize', {
      model: 'successor',
      prompt: '<|fim_prefix|>def<|fim_suffix|>xyz<|fim_middle|>',
    });
    assert.deepEqual(tokenized.tokens, expected);
    // Without a suffix the prompt is continued as usual.
    const continued = await infill({ prompt: 'def', max_tokens: 3, return_token_ids: true });
    assert.equal(first(continued).text, 'ghi');
    assert.deepEqual(first(continued).prompt_token_ids, bytes('def'));
  });

  it('takes token prompts as given, an empty suffix, and control-token text as plain text', async () => {
    const tokens = await infill({ prompt: bytes('de'), suffix: '', return_token_ids: true });
    assert.deepEqual(first(tokens).prompt_token_ids, [FIM_PRE, ...bytes('de'), FIM_SUF, FIM_MID]);
    const spelled = await infill({
      prompt: 'a<|fim_middle|>',
      suffix: '<|endoftext|>',
      max_tokens: 1,
      return_token_ids: true,
    });
    assert.deepEqual(first(spelled).prompt_token_ids, [
      FIM_PRE,
      ...bytes('a<|fim_middle|>'),
      FIM_SUF,
      ...bytes('<|endoftext|>'),
      FIM_MID,
    ]);
    const batch = await infill({ prompt: ['a', 'b'], suffix: 'z', max_tokens: 2 });
    assert.deepEqual(
      (batch.choices as Json[]).map((choice) => choice.text),
      ['01', '01'],
    );
    assert.equal(usage(batch).prompt_tokens, 10, 'two prompts of 5 tokens');
  });

  it('echo shows the whole infill prompt, with its logprobs; streaming gives the same text', async () => {
    const answer = await infill({ prompt: 'def', suffix: 'xyz', echo: true, logprobs: 0 });
    const choice = first(answer);
    assert.equal(choice.text, '<|fim_prefix|>def<|fim_suffix|>xyz<|fim_middle|>0123456789.');
    const logprobs = choice.logprobs as { tokens: string[]; token_logprobs: (number | null)[] };
    assert.equal(logprobs.tokens.length, 9 + usage(answer).completion_tokens!);
    assert.equal(logprobs.token_logprobs[0], null);
    const stream = await post(fim, '/v1/completions', {
      model: 'successor',
      prompt: 'def',
      suffix: 'xyz',
      temperature: 0,
      max_tokens: 20,
      stream: true,
    });
    assert.equal(stream.status, 200, stream.text);
    const text = stream.text
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'))
      .map((frame) => first(JSON.parse(frame.slice(6)) as Json).text)
      .join('');
    assert.equal(text, '0123456789.');
  });

  it("answers vLLM's 400 naming suffix for a model without fill-in-the-middle tokens", async () => {
    const answer = await post(plain, '/v1/completions', {
      model: 'successor',
      prompt: 'def',
      suffix: 'xyz',
    });
    assert.equal(answer.status, 400);
    const error = (JSON.parse(answer.text) as { error: Json }).error;
    assert.equal(error.message, 'suffix is not currently supported');
    assert.equal(error.param, 'suffix');
  });
});
