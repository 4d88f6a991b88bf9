/**
 * Test fixtures for the HTTP layer: a byte-tokenizer model, a ChatML template and an app built
 * around a ScriptedEngine.
 *
 * Owns: the defaults route tests share (served names "test-model" and "alias", max_model_len
 * 64, no API key) so each test states only what it changes.
 */
import type { FastifyInstance } from 'fastify';
import { ByteTokenizer } from '../../backend/fake-tokenizer.ts';
import type { ModelInfo } from '../../backend/model-backend.ts';
import { createApp, type AppOptions } from '../app.ts';
import { ScriptedEngine } from './scripted-engine.ts';

/** Special tokens of the test tokenizer: ids 256, 257, 258. */
export const TEST_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/** A ChatML template, as Qwen-style models ship it. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** vLLM's default request limits: --max-logprobs 20, tokens named by their text, n <= 16384. */
export const PLAN_LIMITS = { maxLogprobs: 20, returnTokensAsTokenIds: false, maxN: 16384 } as const;

/** Bytes 0..255 plus TEST_SPECIALS; 256 and 258 end generation. */
export function testTokenizer(): ByteTokenizer {
  return new ByteTokenizer(TEST_SPECIALS, [256, 258]);
}

/** ModelInfo of the test tokenizer's model: bos 256, eos 258, ChatML template. */
export function testModelInfo(overrides: Partial<ModelInfo> = {}): ModelInfo {
  return {
    vocabSize: 256 + TEST_SPECIALS.length,
    trainContextLength: 64,
    embeddingLength: 8,
    layerCount: 1,
    parameterCount: 1000,
    sizeBytes: 2000,
    description: 'test model',
    bosToken: 256,
    eosToken: 258,
    eotToken: null,
    fillInTheMiddle: null,
    addBos: false,
    endOfGenerationTokens: [256, 258],
    chatTemplate: CHATML_TEMPLATE,
    metadata: {},
    poolingType: 'none',
    ...overrides,
  };
}

/** An app around `engine` with the test defaults, overridable per test. */
export function testApp(
  engine: ScriptedEngine = new ScriptedEngine({ maxModelLen: 64 }),
  overrides: Partial<AppOptions> = {},
): { app: FastifyInstance; engine: ScriptedEngine } {
  const app = createApp({
    engine,
    tokenizer: testTokenizer(),
    model: testModelInfo(),
    servedModelNames: ['test-model', 'alias'],
    chatTemplate: CHATML_TEMPLATE,
    apiKey: null,
    maxModelLen: 64,
    version: '0.1.0-test',
    modelRoot: '/models/test.gguf',
    ...overrides,
  });
  return { app, engine };
}

/** The JSON payloads of an SSE body, "[DONE]" as the string itself. */
export function sseEvents(body: string): unknown[] {
  if (!body.endsWith('\n\n')) throw new Error(`SSE body does not end with a blank line: ${body}`);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      if (!frame.startsWith('data: ')) throw new Error(`not an SSE data frame: ${frame}`);
      const data = frame.slice('data: '.length);
      return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
    });
}
