/**
 * `POST /v1/embeddings` through the whole server on a generated embedding model: the successor
 * model with `llama.pooling_type = mean`, whose hidden state after the final norm is one-hot(t)
 * for each token t, so an input's embedding is its token frequencies, L2-normalized as vLLM
 * normalizes `embed` outputs. Checked against that formula: every input form, more inputs than
 * one decode holds, base64 (through the openai client, which asks for it), usage and vLLM's
 * refusals, float answers validated as OpenAI's CreateEmbeddingResponse; a generation model refuses the endpoint and an embedding model the generation ones.
 * The chat form (`messages`) embeds the conversation as the chat template renders it (checked
 * against the ChatML text the test model's template gives, and against /tokenize), and
 * `POST /invocations` serves both forms on the embedding model exactly as /v1/embeddings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { SUCCESSOR_EMBEDDING_LENGTH } from '../src/gguf/successor-model.ts';
import { testServeOptions } from './support/models.ts';
import { assertOpenAiType } from './support/openai-schemas.ts';

/** The expected embedding of `tokens`: normalized token counts over the embedding dimensions. */
function expectedEmbedding(tokens: readonly number[]): Float64Array {
  const counts = new Float64Array(SUCCESSOR_EMBEDDING_LENGTH);
  for (const token of tokens) counts[token]! += 1;
  const norm = Math.sqrt(counts.reduce((sum, c) => sum + c * c, 0));
  return counts.map((c) => c / norm);
}

function assertEmbedding(actual: readonly number[], tokens: readonly number[], what: string): void {
  const expected = expectedEmbedding(tokens);
  assert.equal(actual.length, expected.length, what);
  actual.forEach((value, d) => {
    assert.ok(
      Math.abs(value - expected[d]!) <= 1e-5,
      `${what} dim ${d}: ${value} vs ${expected[d]}`,
    );
  });
}

const bytes = (text: string): number[] => [...Buffer.from(text, 'utf8')];

/** The successor model's ChatML control tokens (src/gguf/byte-vocabulary.ts). */
const IM_START = 257;
const IM_END = 258;
/** The tokens of one ChatML message, `<|im_start|>role\ncontent<|im_end|>\n`. */
const chatml = (role: string, content: string): number[] => [
  IM_START,
  ...bytes(`${role}\n${content}`),
  IM_END,
  ...bytes('\n'),
];

interface EmbeddingAnswer {
  id: string;
  object: string;
  model: string;
  data: { index: number; object: string; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

describe('/v1/embeddings on a mean-pooling embedding model', () => {
  let server: RunningServer;
  let generator: RunningServer;

  before(async () => {
    const model = await ensureModel({
      preset: 'successor',
      weightType: 'f32',
      poolingType: 'mean',
    });
    server = await startServer(
      await testServeOptions({ model, servedModelNames: ['embedder'], maxNumSeqs: 4 }),
    );
    generator = await startServer(await testServeOptions());
  });
  after(async () => {
    await server.close();
    await generator.close();
  });

  async function post(base: string, path: string, body: unknown) {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('embeds a text as its normalized token counts, vLLM-shaped', async () => {
    const { status, json } = await post(server.url, '/v1/embeddings', { input: 'abca' });
    assert.equal(status, 200);
    assertOpenAiType('CreateEmbeddingResponse', json);
    const answer = json as unknown as EmbeddingAnswer;
    assert.match(answer.id, /^embd-/);
    assert.equal(answer.object, 'list');
    assert.equal(answer.model, 'embedder');
    assert.equal(answer.data.length, 1);
    assert.equal(answer.data[0]!.object, 'embedding');
    assertEmbedding(answer.data[0]!.embedding as number[], bytes('abca'), 'abca');
    assert.deepEqual(answer.usage, {
      prompt_tokens: 4,
      total_tokens: 4,
      completion_tokens: 0,
      prompt_tokens_details: null,
    });
  });

  it('keeps the order of many inputs in every form, over several decodes', async () => {
    const texts = Array.from({ length: 11 }, (_, i) => 'xyz'.repeat(i + 1) + String(i));
    const { json } = await post(server.url, '/v1/embeddings', { input: texts });
    assertOpenAiType('CreateEmbeddingResponse', json);
    const answer = json as unknown as EmbeddingAnswer;
    assert.deepEqual(
      answer.data.map((d) => d.index),
      texts.map((_, i) => i),
    );
    answer.data.forEach((d, i) =>
      assertEmbedding(d.embedding as number[], bytes(texts[i]!), texts[i]!),
    );
    assert.equal(
      answer.usage.prompt_tokens,
      texts.reduce((sum, t) => sum + t.length, 0),
    );
    const ids = await post(server.url, '/v1/embeddings', { input: [98, 98, 99] });
    assertEmbedding(
      (ids.json as unknown as EmbeddingAnswer).data[0]!.embedding as number[],
      [98, 98, 99],
      'token ids',
    );
    const lists = await post(server.url, '/v1/embeddings', { input: [[97], [98, 99]] });
    const data = (lists.json as unknown as EmbeddingAnswer).data;
    assertEmbedding(data[0]!.embedding as number[], [97], 'first list');
    assertEmbedding(data[1]!.embedding as number[], [98, 99], 'second list');
  });

  it('truncates each input to truncate_prompt_tokens, from the left unless told otherwise', async () => {
    const embed = async (body: Record<string, unknown>) => {
      const { status, json } = await post(server.url, '/v1/embeddings', body);
      assert.equal(status, 200, JSON.stringify(json));
      return json as unknown as EmbeddingAnswer;
    };
    const left = await embed({ input: ['abcde', 'xy', 'z'], truncate_prompt_tokens: 2 });
    assertEmbedding(left.data[0]!.embedding as number[], bytes('de'), 'left, text');
    assertEmbedding(left.data[1]!.embedding as number[], bytes('xy'), 'short enough');
    assert.equal(left.usage.prompt_tokens, 5);
    const ids = await embed({ input: [[1, 2, 3]], truncate_prompt_tokens: 2 });
    assertEmbedding(ids.data[0]!.embedding as number[], [2, 3], 'left, token ids');
    const right = await embed({
      input: 'abcde',
      truncate_prompt_tokens: 3,
      truncation_side: 'right',
    });
    assertEmbedding(right.data[0]!.embedding as number[], bytes('abc'), 'right');
    const whole = await embed({ input: 'abcde', truncate_prompt_tokens: -1 });
    assertEmbedding(whole.data[0]!.embedding as number[], bytes('abcde'), '-1 keeps what fits');
    const long = await embed({ input: 'ab'.repeat(400), truncate_prompt_tokens: -1 });
    assert.ok(long.usage.prompt_tokens < 800, `${long.usage.prompt_tokens} tokens kept`);
    const tooBig = await post(server.url, '/v1/embeddings', {
      input: 'abc',
      truncate_prompt_tokens: 100_000,
    });
    assert.equal(tooBig.status, 400);
    const error = tooBig.json.error as { message: string; param: string };
    assert.equal(error.param, 'truncate_prompt_tokens');
    assert.match(
      error.message,
      /^truncate_prompt_tokens value \(100000\) is greater than max_model_len \(\d+\)/,
    );
  });

  it('answers base64 floats, as the openai client asks and decodes them', async () => {
    const raw = await post(server.url, '/v1/embeddings', {
      input: 'hello',
      encoding_format: 'base64',
    });
    const encoded = (raw.json as unknown as EmbeddingAnswer).data[0]!.embedding as string;
    const buffer = Buffer.from(encoded, 'base64');
    const floats = Array.from({ length: buffer.length / 4 }, (_, i) => buffer.readFloatLE(i * 4));
    assertEmbedding(floats, bytes('hello'), 'base64');
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const answer = await client.embeddings.create({ model: 'embedder', input: ['hi', 'there'] });
    assertEmbedding(answer.data[1]!.embedding, bytes('there'), 'openai client');
  });

  it("refuses what vLLM refuses, and the other model kind's endpoints", async () => {
    const dimensions = await post(server.url, '/v1/embeddings', { input: 'a', dimensions: 8 });
    assert.equal(dimensions.status, 400);
    assert.equal((dimensions.json.error as { param: string }).param, 'dimensions');
    const long = await post(server.url, '/v1/embeddings', { input: 'a'.repeat(600) });
    assert.equal(long.status, 400);
    assert.match(
      (long.json.error as { message: string }).message,
      /maximum context length is \d+ tokens\. However, you requested 600 tokens in the input for embedding generation/,
    );
    assert.equal((await post(server.url, '/v1/embeddings', { input: [] })).status, 400);
    assert.equal((await post(server.url, '/v1/embeddings', { input: '' })).status, 400);
    const completion = await post(server.url, '/v1/completions', { prompt: 'abc' });
    assert.equal(completion.status, 400);
    assert.equal(
      (completion.json.error as { message: string }).message,
      'The model does not support Completions API',
    );
    const embeddings = await post(generator.url, '/v1/embeddings', { input: 'abc' });
    assert.equal(embeddings.status, 400);
    assert.equal(
      (embeddings.json.error as { message: string }).message,
      'The model does not support Embeddings API',
    );
  });
  it('embeds chat messages as the template renders them, without a generation prompt', async () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
    ];
    const rendered = [...chatml('system', 'be brief'), ...chatml('user', 'hi')];
    const { status, json } = await post(server.url, '/v1/embeddings', { messages });
    assert.equal(status, 200, JSON.stringify(json));
    assertOpenAiType('CreateEmbeddingResponse', json);
    const answer = json as unknown as EmbeddingAnswer;
    assert.match(answer.id, /^embd-/);
    assert.equal(answer.data.length, 1);
    assertEmbedding(answer.data[0]!.embedding as number[], rendered, 'chat');
    assert.equal(answer.usage.prompt_tokens, rendered.length);
    // The same tokens /tokenize renders for these messages without a generation prompt.
    const tokenized = await post(server.url, '/tokenize', {
      messages,
      add_generation_prompt: false,
    });
    assert.deepEqual(tokenized.json.tokens, rendered);

    const prompted = await post(server.url, '/v1/embeddings', {
      messages,
      add_generation_prompt: true,
      encoding_format: 'base64',
    });
    const buffer = Buffer.from(
      (prompted.json as unknown as EmbeddingAnswer).data[0]!.embedding as string,
      'base64',
    );
    const floats = Array.from({ length: buffer.length / 4 }, (_, i) => buffer.readFloatLE(i * 4));
    assertEmbedding(floats, [...rendered, IM_START, ...bytes('assistant\n')], 'generation prompt');

    // continue_final_message leaves the last message open (add_generation_prompt is false).
    const continued = await post(server.url, '/v1/embeddings', {
      messages: [...messages, { role: 'assistant', content: 'ab' }],
      continue_final_message: true,
    });
    assert.equal(continued.status, 200, JSON.stringify(continued.json));
    assertEmbedding(
      (continued.json as unknown as EmbeddingAnswer).data[0]!.embedding as number[],
      [...rendered, IM_START, ...bytes('assistant\nab')],
      'continued',
    );
  });

  it("refuses the chat form's invalid template controls as vLLM does", async () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const both = await post(server.url, '/v1/embeddings', {
      messages,
      add_generation_prompt: true,
      continue_final_message: true,
    });
    assert.equal(both.status, 400);
    assert.equal(
      (both.json.error as { message: string }).message,
      'Value error, Cannot set both `continue_final_message` and `add_generation_prompt` to True.',
    );
    const template = await post(server.url, '/v1/embeddings', {
      messages,
      chat_template: '{{ messages }}',
    });
    assert.equal(template.status, 400);
    assert.match((template.json.error as { message: string }).message, /untrusted chat template/);
    const badMessage = await post(server.url, '/v1/embeddings', { messages: [{ content: 'x' }] });
    assert.equal(badMessage.status, 400);
    assert.match((badMessage.json.error as { message: string }).message, /messages\.0\.role/);
  });

  it('serves /invocations as /v1/embeddings on an embedding model, and only that', async () => {
    for (const body of [
      { input: ['abca', 'xyz'] },
      { messages: [{ role: 'user', content: 'hi' }] },
    ]) {
      const direct = await post(server.url, '/v1/embeddings', body);
      const invoked = await post(server.url, '/invocations', body);
      assert.equal(invoked.status, 200, JSON.stringify(invoked.json));
      assert.deepEqual(Object.keys(invoked.json).sort(), Object.keys(direct.json).sort());
      assert.deepEqual(invoked.json.data, direct.json.data);
      assert.deepEqual(invoked.json.usage, direct.json.usage);
    }
    const completion = await post(server.url, '/invocations', { prompt: 'abc' });
    assert.equal(completion.status, 400);
    assert.equal(
      (completion.json.error as { message: string }).message,
      "Cannot find suitable handler for request. Expected one of: ['EmbeddingCompletionRequest | EmbeddingChatRequest']",
    );
    const generation = await post(generator.url, '/invocations', { input: 'abc' });
    assert.equal(generation.status, 400);
    assert.equal(
      (generation.json.error as { message: string }).message,
      "Cannot find suitable handler for request. Expected one of: ['ChatCompletionRequest', 'CompletionRequest']",
    );
  });
});
