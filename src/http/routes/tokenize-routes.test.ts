/**
 * /tokenize and /detokenize on the test app (byte tokenizer, ChatML template): both forms of
 * /tokenize against tokens spelled out by hand from the bytes and the template, the defaults of
 * each form, token_strs, vLLM's refusals, and /detokenize round trips.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testApp } from '../testing/test-app.ts';

const bytesOf = (text: string): number[] => [...Buffer.from(text, 'utf8')];
const IM_START = 257;
const IM_END = 258;

async function post(url: string, payload: unknown, apiKey?: string, trustTemplates = false) {
  const { app } = testApp(undefined, {
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(trustTemplates ? { trustRequestChatTemplate: true } : {}),
  });
  const response = await app.inject({ method: 'POST', url, payload: payload as object });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

describe('POST /tokenize', () => {
  it('tokenizes a prompt, special-token text parsed, answering count and max_model_len', async () => {
    const { status, body } = await post('/tokenize', { prompt: 'hi<|im_end|>' });
    assert.equal(status, 200);
    assert.deepEqual(body, {
      count: 3,
      max_model_len: 64,
      tokens: [...bytesOf('hi'), IM_END],
      token_strs: null,
    });
  });

  it('renders chat messages through the template, with a generation prompt by default', async () => {
    const messages = [{ role: 'user', content: 'yo' }];
    const expected = [
      IM_START,
      ...bytesOf('user\nyo'),
      IM_END,
      ...bytesOf('\n'),
      IM_START,
      ...bytesOf('assistant\n'),
    ];
    const { status, body } = await post('/tokenize', { model: 'alias', messages });
    assert.equal(status, 200);
    assert.deepEqual(body.tokens, expected);
    assert.equal(body.count, expected.length);
    const bare = await post('/tokenize', { messages, add_generation_prompt: false });
    assert.deepEqual(bare.body.tokens, expected.slice(0, -1 - bytesOf('assistant\n').length));
  });

  it('renders a chat_template the request brings only when the server trusts them', async () => {
    const messages = [{ role: 'user', content: 'yo' }];
    const payload = { messages, chat_template: '[{{ messages[0].content }}]' };
    const refused = await post('/tokenize', payload);
    assert.equal(refused.status, 400);
    assert.match(
      (refused.body.error as { message: string }).message,
      /--trust-request-chat-template is not set/,
    );
    const trusted = await post('/tokenize', payload, undefined, true);
    assert.equal(trusted.status, 200);
    assert.deepEqual(trusted.body.tokens, bytesOf('[yo]'));
  });

  it('names the tokens by their vocabulary text when asked', async () => {
    const { body } = await post('/tokenize', { prompt: 'a b<|im_end|>', return_token_strs: true });
    // The byte-level vocabulary spells the space as GPT-2's "Ġ" (U+0120).
    assert.deepEqual(body.token_strs, ['a', '\u0120', 'b', '<|im_end|>']);
  });

  it("answers vLLM's errors, and needs no API key", async () => {
    const unknown = await post('/tokenize', { model: 'nope', prompt: 'x' });
    assert.equal(unknown.status, 404);
    const both = await post('/tokenize', {
      messages: [{ role: 'user', content: 'x' }],
      continue_final_message: true,
      add_generation_prompt: true,
    });
    assert.equal(both.status, 400);
    assert.match(
      (both.body.error as { message: string }).message,
      /Cannot set both `continue_final_message` and `add_generation_prompt` to True/,
    );
    const missing = await post('/tokenize', { prompt: 3 });
    assert.equal(missing.status, 400);
    assert.equal((missing.body.error as { param: string }).param, 'prompt');
    assert.equal((await post('/tokenize', { prompt: 'x' }, 'secret')).status, 200);
  });
});

describe('POST /detokenize', () => {
  it('turns tokens back into the text, special tokens kept', async () => {
    const tokens = [...bytesOf('héllo'), IM_END];
    const { status, body } = await post('/detokenize', { tokens });
    assert.equal(status, 200);
    assert.deepEqual(body, { prompt: 'héllo<|im_end|>' });
    const round = await post('/tokenize', { prompt: body.prompt });
    assert.deepEqual(round.body.tokens, tokens);
  });

  it('refuses ids outside the vocabulary and negative ones, naming tokens', async () => {
    const outside = await post('/detokenize', { tokens: [104, 259] });
    assert.equal(outside.status, 400);
    assert.deepEqual(outside.body.error, {
      message: 'Token id 259 is out of vocabulary',
      type: 'BadRequestError',
      param: 'tokens',
      code: 400,
    });
    const negative = await post('/detokenize', { tokens: [-1] });
    assert.equal(negative.status, 400);
    assert.equal((negative.body.error as { param: string }).param, 'tokens');
  });
});
