/**
 * The generation-config defaults as requests meet them, case by case as vLLM's
 * test_serving_chat.py checks them (a 7-token prompt, max_model_len 100), for chat and
 * completions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatTemplate } from '../chat/chat-template.ts';
import { ApiError } from '../errors.ts';
import { chatRequestSchema } from '../schemas/chat-request.ts';
import { completionRequestSchema } from '../schemas/completion-request.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import { PLAN_LIMITS, testTokenizer } from '../testing/test-app.ts';
import { toChatPlan, type ChatPlanContext } from './chat-params.ts';
import { toCompletionPlan } from './completion-params.ts';
import { resolveMaxTokens } from './context-limit.ts';
import type { GenerationDefaults } from './generation-defaults.ts';

/** A template that renders the first message's text alone: "abcdefg" is a 7-token prompt. */
const CONTENT_ONLY = "{{ messages[0]['content'] }}";
const SEVEN = [{ role: 'user', content: 'abcdefg' }];

function contextWith(generationDefaults?: GenerationDefaults): ChatPlanContext {
  return {
    tokenizer: testTokenizer(),
    vocabSize: 259,
    maxModelLen: 100,
    chatTemplate: {
      kind: 'ready',
      template: new ChatTemplate(CONTENT_ONLY, { bos_token: '', eos_token: '' }),
    },
    responseRole: 'assistant',
    ...PLAN_LIMITS,
    ...(generationDefaults !== undefined ? { generationDefaults } : {}),
  };
}

function chat(body: Record<string, unknown>, defaults?: GenerationDefaults) {
  const plan = toChatPlan(
    parseRequest(chatRequestSchema, { messages: SEVEN, ...body }),
    contextWith(defaults),
  );
  assert.equal(plan.requests[0]!.promptTokens.length, 7);
  return plan.requests[0]!.params;
}

function completion(body: Record<string, unknown>, defaults?: GenerationDefaults) {
  const plan = toCompletionPlan(
    parseRequest(completionRequestSchema, { prompt: 'abcdefg', ...body }),
    contextWith(defaults),
  );
  assert.equal(plan.requests[0]!.promptTokens.length, 7);
  return plan.requests[0]!.params;
}

/** What `--generation-config` (model or folder) gives: max_new_tokens 10, only a default. */
const MODEL_MAX_10: GenerationDefaults = { maxTokens: 10 };
/** What `--override-generation-config '{"max_new_tokens": 10}'` gives: default and ceiling. */
const OVERRIDE_MAX_10: GenerationDefaults = { maxTokens: 10, maxTokensCeiling: 10 };

describe('generation-config max_tokens (vLLM test_serving_chat, 7-token prompt, max_model_len 100)', () => {
  it('without a generation config: the rest of the context, or the request', () => {
    assert.equal(chat({}).maxTokens, 93);
    assert.equal(chat({ max_tokens: 10 }).maxTokens, 10);
  });

  it("the model's max_new_tokens is only a default: request values win", () => {
    assert.equal(chat({}, MODEL_MAX_10).maxTokens, 10);
    assert.equal(chat({ max_tokens: 15 }, MODEL_MAX_10).maxTokens, 15);
    assert.equal(chat({ max_tokens: 5 }, MODEL_MAX_10).maxTokens, 5);
    assert.equal(chat({ max_completion_tokens: 15 }, MODEL_MAX_10).maxTokens, 15);
  });

  it("--override-generation-config's max_new_tokens is a ceiling", () => {
    assert.equal(chat({}, OVERRIDE_MAX_10).maxTokens, 10);
    assert.equal(chat({ max_tokens: 15 }, OVERRIDE_MAX_10).maxTokens, 10);
    assert.equal(chat({ max_tokens: 5 }, OVERRIDE_MAX_10).maxTokens, 5);
    assert.equal(chat({ max_completion_tokens: 15 }, OVERRIDE_MAX_10).maxTokens, 10);
  });

  it('a default beyond the context is capped by it, not refused', () => {
    assert.equal(chat({}, { maxTokens: 200 }).maxTokens, 93);
  });

  it('a ceiling does not excuse a request beyond the context (checked on the value sent)', () => {
    assert.throws(
      () => chat({ max_tokens: 150 }, OVERRIDE_MAX_10),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 400 &&
        error.message.startsWith('max_tokens=150 cannot be greater than max_model_len'),
    );
  });

  it('truncate_prompt_tokens: 5 leaves 95, -1 keeps the prompt and leaves 93', () => {
    const long = [{ role: 'user', content: 'abcdefghij' }];
    const truncated = (size: number) =>
      toChatPlan(
        parseRequest(chatRequestSchema, { messages: long, truncate_prompt_tokens: size }),
        contextWith({ maxTokens: 200 }),
      ).requests[0]!.params.maxTokens;
    assert.equal(truncated(5), 95);
    assert.equal(truncated(-1), 90);
    assert.equal(chat({ truncate_prompt_tokens: -1 }).maxTokens, 93);
  });

  it('completions: the default 16 is a request value (a generation default does not replace it)', () => {
    assert.equal(completion({}, MODEL_MAX_10).maxTokens, 16);
    assert.equal(completion({ max_tokens: null }, MODEL_MAX_10).maxTokens, 10);
    assert.equal(completion({ max_tokens: null }).maxTokens, 93);
    assert.equal(completion({ max_tokens: 15 }, MODEL_MAX_10).maxTokens, 15);
  });

  it('completions: the ceiling caps the default 16 and any request', () => {
    assert.equal(completion({}, OVERRIDE_MAX_10).maxTokens, 10);
    assert.equal(completion({ max_tokens: 15 }, OVERRIDE_MAX_10).maxTokens, 10);
    assert.equal(completion({ max_tokens: 5 }, OVERRIDE_MAX_10).maxTokens, 5);
    assert.equal(completion({ max_tokens: null }, OVERRIDE_MAX_10).maxTokens, 10);
  });

  it('resolveMaxTokens: default, ceiling and context, as get_max_tokens takes their minimum', () => {
    const base = { param: 'max_tokens', maxModelLen: 100, promptTokens: 7 } as const;
    assert.equal(resolveMaxTokens({ ...base, requested: null, defaults: {} }), 93);
    assert.equal(
      resolveMaxTokens({
        ...base,
        requested: null,
        defaults: { maxTokens: 50, maxTokensCeiling: 20 },
      }),
      20,
    );
    assert.equal(
      resolveMaxTokens({ ...base, requested: null, defaults: { maxTokensCeiling: 20 } }),
      20,
    );
    assert.equal(resolveMaxTokens({ ...base, requested: 30, defaults: { maxTokens: 50 } }), 30);
    assert.equal(
      resolveMaxTokens({ ...base, requested: 93, defaults: { maxTokensCeiling: 100 } }),
      93,
    );
  });
});

describe('generation-config sampling defaults', () => {
  const MODEL: GenerationDefaults = { temperature: 0.5, repetitionPenalty: 1.05 };

  it('temperature 0.5 and repetition_penalty 1.05 are used where the request sends none', () => {
    for (const params of [chat({}, MODEL), completion({}, MODEL)]) {
      assert.equal(params.temperature, 0.5);
      assert.equal(params.repetitionPenalty, 1.05);
    }
    const nulls = chat({ temperature: null, repetition_penalty: null }, MODEL);
    assert.deepEqual([nulls.temperature, nulls.repetitionPenalty], [0.5, 1.05]);
  });

  it('request values override them; an explicit temperature 0 is honoured (greedy)', () => {
    const explicit = chat({ temperature: 0.8, repetition_penalty: 1.2 }, MODEL);
    assert.deepEqual([explicit.temperature, explicit.repetitionPenalty], [0.8, 1.2]);
    for (const params of [chat({ temperature: 0 }, MODEL), completion({ temperature: 0 }, MODEL)]) {
      assert.equal(params.temperature, 0);
      assert.equal(params.repetitionPenalty, 1.05);
    }
  });

  it('top_p, top_k and min_p defaults, each overridable; greedy still disables them', () => {
    const defaults: GenerationDefaults = { topP: 0.9, topK: 40, minP: 0.05 };
    const p = completion({}, defaults);
    assert.deepEqual([p.temperature, p.topP, p.topK, p.minP], [1, 0.9, 40, 0.05]);
    const q = chat({ top_p: 1, top_k: -1, min_p: 0 }, defaults);
    assert.deepEqual([q.topP, q.topK, q.minP], [1, 0, 0]);
    const greedy = chat({ temperature: 0 }, defaults);
    assert.deepEqual([greedy.topP, greedy.topK, greedy.minP], [1, 0, 0]);
    const greedyModel = chat({}, { ...defaults, temperature: 0 });
    assert.deepEqual([greedyModel.temperature, greedyModel.topK], [0, 0]);
  });

  it('without defaults, vLLM neutral values', () => {
    const p = chat({});
    assert.deepEqual([p.temperature, p.topP, p.topK, p.minP, p.repetitionPenalty], [1, 1, 0, 0, 1]);
  });

  it("a default outside vLLM's range is refused per request with vLLM's message", () => {
    assert.throws(
      () => chat({}, { temperature: -1 }),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 400 &&
        error.message === 'temperature must be non-negative, got -1.0.',
    );
    assert.equal(chat({ temperature: 0.7 }, { temperature: -1 }).temperature, 0.7);
  });
});
