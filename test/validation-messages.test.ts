/**
 * Every rule of the reference's validation section (../shared/reference/vllm-openai-contract.md,
 * section 2.5) that applies before structured outputs and tool parsers exist: the request that
 * breaks it, the 400, vLLM's message and the `param` it names. In-process (the ScriptedEngine
 * app of src/http/testing: max_model_len 64, a 259-token byte vocabulary, --max-logprobs 20).
 * The rules of structured outputs and of tools with a parser belong to their own issue.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testApp } from '../src/http/testing/test-app.ts';

interface Rule {
  readonly name: string;
  readonly path: '/v1/completions' | '/v1/chat/completions' | '/tokenize';
  /** The body, or its JSON text where a number must not pass through a JavaScript double. */
  readonly body: Record<string, unknown> | string;
  /** Text the message must contain (vLLM's message, or its distinctive part). */
  readonly message: string;
  /** The `param` vLLM sets, or null where it sets none. */
  readonly param: string | null;
  /**
   * Where vLLM rejects it: `model` for the request model's validators and field constraints
   * (its request-validation handler: type "Bad Request", pydantic's text), `serving` for the
   * checks after parsing (type "BadRequestError"). Default `serving`.
   */
  readonly stage?: 'model' | 'serving';
}

const completion = (fields: Record<string, unknown>): Record<string, unknown> => ({
  model: 'test-model',
  prompt: 'abc',
  ...fields,
});
const chat = (fields: Record<string, unknown>): Record<string, unknown> => ({
  model: 'test-model',
  messages: [{ role: 'user', content: 'hi' }],
  ...fields,
});
const C = '/v1/completions' as const;
const CHAT = '/v1/chat/completions' as const;
const TOOL = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } };

const RULES: readonly Rule[] = [
  // Request-model validators.
  {
    name: 'json_schema response_format without json_schema',
    path: CHAT,
    body: chat({ response_format: { type: 'json_schema' } }),
    message:
      "When response_format type is 'json_schema', the 'json_schema' field must be provided.",
    stage: 'model',
    param: 'response_format',
  },
  {
    name: 'stream_options without stream (completions)',
    path: C,
    body: completion({ stream_options: { include_usage: true } }),
    message: 'Stream options can only be defined when `stream=True`.',
    stage: 'model',
    param: 'stream_options',
  },
  {
    name: 'stream_options without stream (chat)',
    path: CHAT,
    body: chat({ stream: false, stream_options: { include_usage: true } }),
    message: 'Stream options can only be defined when `stream=True`.',
    stage: 'model',
    param: 'stream_options',
  },
  {
    name: 'prompt_logprobs while streaming',
    path: C,
    body: completion({ stream: true, prompt_logprobs: 1 }),
    message: '`prompt_logprobs` are not available when `stream=True`.',
    stage: 'model',
    param: 'prompt_logprobs',
  },
  {
    name: 'prompt_logprobs below -1',
    path: CHAT,
    body: chat({ prompt_logprobs: -2 }),
    message: '`prompt_logprobs` must be a positive value or -1.',
    stage: 'model',
    param: 'prompt_logprobs',
  },
  {
    name: 'chat top_logprobs below -1',
    path: CHAT,
    body: chat({ logprobs: true, top_logprobs: -2 }),
    message: '`top_logprobs` must be a positive value or -1.',
    stage: 'model',
    param: 'top_logprobs',
  },
  {
    name: 'chat top_logprobs without logprobs',
    path: CHAT,
    body: chat({ top_logprobs: 2 }),
    message: 'when using `top_logprobs`, `logprobs` must be set to true.',
    stage: 'model',
    param: 'top_logprobs',
  },
  {
    name: 'completions logprobs below 0',
    path: C,
    body: completion({ logprobs: -1 }),
    message: '`logprobs` must be a positive value.',
    stage: 'model',
    param: 'logprobs',
  },
  {
    name: 'tools empty',
    path: CHAT,
    body: chat({ tools: [] }),
    message:
      '`tools` must not be an empty array. Either provide at least one tool or omit the field entirely.',
    stage: 'model',
    param: null,
  },
  {
    name: 'tool_choice without tools',
    path: CHAT,
    body: chat({ tool_choice: 'auto' }),
    message: 'When using `tool_choice`, `tools` must be set.',
    stage: 'model',
    param: null,
  },
  {
    name: 'tool_choice an unknown string',
    path: CHAT,
    body: chat({ tools: [TOOL], tool_choice: 'sometimes' }),
    message:
      'Invalid value for `tool_choice`: sometimes! Only named tools, "none", "auto" or "required" are supported.',
    stage: 'model',
    param: null,
  },
  {
    name: 'named tool_choice whose function is not an object',
    path: CHAT,
    body: chat({ tools: [TOOL], tool_choice: { type: 'function', function: 'f' } }),
    message:
      'Invalid value for `function`: `f` in `tool_choice`! Correct usage: `{"type": "function", "function": {"name": "my_function"}}`',
    stage: 'model',
    param: null,
  },
  {
    name: 'named tool_choice without a name',
    path: CHAT,
    body: chat({ tools: [TOOL], tool_choice: { type: 'function', function: {} } }),
    message: 'Expected field `name` in `function` in `tool_choice`!',
    stage: 'model',
    param: null,
  },
  {
    name: 'named tool_choice with an empty name',
    path: CHAT,
    body: chat({ tools: [TOOL], tool_choice: { type: 'function', function: { name: '' } } }),
    message: 'Invalid `name` in `function`: `` in `tool_choice`! Correct usage:',
    stage: 'model',
    param: null,
  },
  {
    name: 'named tool_choice not among the tools',
    path: CHAT,
    body: chat({ tools: [TOOL], tool_choice: { type: 'function', function: { name: 'g' } } }),
    message: 'The tool specified in `tool_choice` does not match any of the specified `tools`',
    stage: 'model',
    param: null,
  },
  {
    name: 'continue_final_message with add_generation_prompt (chat)',
    path: CHAT,
    body: chat({ continue_final_message: true, add_generation_prompt: true }),
    message: 'Cannot set both `continue_final_message` and `add_generation_prompt` to True.',
    stage: 'model',
    param: null,
  },
  {
    name: 'continue_final_message with add_generation_prompt (/tokenize)',
    path: '/tokenize',
    body: chat({ continue_final_message: true, add_generation_prompt: true }),
    message: 'Cannot set both `continue_final_message` and `add_generation_prompt` to True.',
    stage: 'model',
    param: null,
  },
  {
    name: 'cache_salt empty',
    path: C,
    body: completion({ cache_salt: '' }),
    message: "Parameter 'cache_salt' must be a non-empty string if provided.",
    stage: 'model',
    param: null,
  },
  {
    name: 'seed below int64',
    path: C,
    body: '{"model": "test-model", "prompt": "abc", "seed": -9223372036854775809}',
    message: 'greater_than_equal',
    stage: 'model',
    param: 'seed',
  },
  {
    name: 'seed above int64',
    path: CHAT,
    body: '{"model": "test-model", "messages": [{"role": "user", "content": "hi"}], "seed": 9223372036854775808}',
    message: 'less_than_equal',
    stage: 'model',
    param: 'seed',
  },
  {
    name: 'truncate_prompt_tokens below -1',
    path: C,
    body: completion({ truncate_prompt_tokens: -2 }),
    message: 'greater_than_equal',
    stage: 'model',
    param: 'truncate_prompt_tokens',
  },
  {
    name: 'negative prompt token ids',
    path: C,
    body: completion({ prompt: [1, -1] }),
    message: 'greater_than_equal',
    stage: 'model',
    param: 'prompt',
  },
  // SamplingParams.
  {
    name: 'n below 1',
    path: C,
    body: completion({ n: 0 }),
    message: 'n must be at least 1, got 0.',
    param: 'n',
  },
  {
    name: 'n above VLLM_MAX_N_SEQUENCES',
    path: C,
    body: completion({ n: 16385 }),
    message:
      'n must be at most 16384, got 16385. To increase this limit, set the VLLM_MAX_N_SEQUENCES environment variable.',
    param: 'n',
  },
  {
    name: 'presence_penalty outside [-2, 2]',
    path: C,
    body: completion({ presence_penalty: 2.5 }),
    message: 'presence_penalty must be in [-2, 2], got 2.5.',
    param: 'presence_penalty',
  },
  {
    name: 'frequency_penalty outside [-2, 2]',
    path: CHAT,
    body: chat({ frequency_penalty: -3 }),
    message: 'frequency_penalty must be in [-2, 2], got -3',
    param: 'frequency_penalty',
  },
  {
    name: 'repetition_penalty not positive',
    path: C,
    body: completion({ repetition_penalty: 0 }),
    message: 'repetition_penalty must be greater than zero, got 0',
    param: 'repetition_penalty',
  },
  {
    name: 'temperature negative',
    path: C,
    body: completion({ temperature: -0.5 }),
    message: 'temperature must be non-negative, got -0.5.',
    param: 'temperature',
  },
  {
    name: 'top_p outside (0, 1]',
    path: C,
    body: completion({ top_p: 0 }),
    message: 'top_p must be in (0, 1], got 0',
    param: 'top_p',
  },
  {
    name: 'top_k below -1',
    path: C,
    body: completion({ top_k: -2 }),
    message: 'top_k must be 0 (disable), or at least 1, got -2.',
    param: 'top_k',
  },
  {
    name: 'min_p outside [0, 1]',
    path: C,
    body: completion({ min_p: 1.5 }),
    message: 'min_p must be in [0, 1], got 1.5.',
    param: 'min_p',
  },
  {
    name: 'max_tokens below 1',
    path: C,
    body: completion({ max_tokens: -1 }),
    message: 'max_tokens must be at least 1, got -1.',
    param: 'max_tokens',
  },
  {
    name: 'min_tokens negative',
    path: C,
    body: completion({ min_tokens: -1 }),
    message: 'min_tokens must be greater than or equal to 0, got -1.',
    param: 'min_tokens',
  },
  {
    name: 'min_tokens above max_tokens',
    path: C,
    body: completion({ min_tokens: 5, max_tokens: 4 }),
    message: 'min_tokens must be less than or equal to max_tokens=4, got 5.',
    param: 'min_tokens',
  },
  {
    name: 'an empty stop string',
    path: C,
    body: completion({ stop: ['x', ''] }),
    message: 'stop cannot contain an empty string.',
    param: 'stop',
  },
  {
    name: 'an empty bad word (chat only: completions have no bad_words)',
    path: CHAT,
    body: chat({ bad_words: ['x', ''] }),
    message: "bad_words cannot contain an empty string. Got bad_words=['x', '']",
    param: 'bad_words',
  },
  {
    name: 'greedy with n > 1',
    path: C,
    body: completion({ temperature: 0, n: 2 }),
    message: 'n must be 1 when using greedy sampling, got 2.',
    param: 'n',
  },
  {
    name: 'logprobs over --max-logprobs',
    path: C,
    body: completion({ logprobs: 21 }),
    message: 'Requested sample logprobs of 21, which is greater than max allowed: 20',
    param: 'logprobs',
  },
  {
    name: 'prompt_logprobs over --max-logprobs',
    path: C,
    body: completion({ prompt_logprobs: 21 }),
    message: 'Requested prompt logprobs of 21, which is greater than max allowed: 20',
    param: 'prompt_logprobs',
  },
  {
    name: 'logit_bias outside the vocabulary',
    path: C,
    body: completion({ logit_bias: { '300': 1 } }),
    message: 'token_id(s) [300] in logit_bias contain out-of-vocab token ids. Vocabulary size: 259',
    param: 'logit_bias',
  },
  {
    name: 'allowed_token_ids empty',
    path: C,
    body: completion({ allowed_token_ids: [] }),
    message: 'allowed_token_ids is not None and empty!',
    param: 'allowed_token_ids',
  },
  {
    name: 'allowed_token_ids outside the vocabulary',
    path: C,
    body: completion({ allowed_token_ids: [1, 300] }),
    message: 'allowed_token_ids contains out-of-vocab token id!',
    param: 'allowed_token_ids',
  },
  // Prompt and context.
  {
    name: 'max_tokens above max_model_len',
    path: C,
    body: completion({ max_tokens: 65 }),
    message:
      'max_tokens=65 cannot be greater than max_model_len=max_total_tokens=64. Please request fewer output tokens.',
    param: 'max_tokens',
  },
  {
    name: 'max_completion_tokens above max_model_len',
    path: CHAT,
    body: chat({ max_completion_tokens: 65 }),
    message: 'max_completion_tokens=65 cannot be greater than max_model_len=max_total_tokens=64.',
    param: 'max_completion_tokens',
  },
  {
    name: 'truncate_prompt_tokens above max_model_len - max_tokens',
    path: C,
    body: completion({ max_tokens: 10, truncate_prompt_tokens: 60 }),
    message:
      'truncate_prompt_tokens=60 cannot be greater than max_model_len - max_tokens = 54. Please request a smaller truncation size.',
    param: 'truncate_prompt_tokens',
  },
  {
    name: 'prompt and output over the context',
    path: C,
    body: completion({ prompt: 'x'.repeat(60), max_tokens: 10 }),
    message:
      "This model's maximum context length is 64 tokens. However, you requested 10 output tokens and your prompt contains 60 input tokens, for a total of 70 tokens. Please reduce the length of the input prompt or the number of requested output tokens.",
    param: 'input_tokens',
  },
  {
    name: 'an empty text prompt (the request model, as vLLM since prompt_embeds)',
    path: C,
    body: completion({ prompt: '' }),
    message: 'Either prompt or prompt_embeds must be provided and non-empty.',
    stage: 'model',
    param: null,
  },
  {
    name: 'an empty list of token ids in a batch',
    path: C,
    body: completion({ prompt: [[1], []] }),
    message: 'The decoder prompt cannot be empty',
    param: null,
  },
  {
    name: 'a token id outside the vocabulary',
    path: C,
    body: completion({ prompt: [1, 999999] }),
    message: 'Token id 999999 is out of vocabulary',
    param: null,
  },
];

describe("vLLM's validation rules and messages (reference section 2.5)", () => {
  const { app } = testApp();
  after(() => app.close());

  for (const rule of RULES) {
    it(rule.name, async () => {
      const response = await app.inject({
        method: 'POST',
        url: rule.path,
        payload: rule.body,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(response.statusCode, 400, response.body);
      const { error } = response.json<{ error: Record<string, unknown> }>();
      assert.equal(error['code'], 400);
      const model = rule.stage === 'model';
      assert.equal(error['type'], model ? 'Bad Request' : 'BadRequestError');
      const expected =
        model && !/^[a-z_]+$/.test(rule.message) ? `Value error, ${rule.message}` : rule.message;
      assert.ok(
        String(error['message']).includes(expected),
        `message ${JSON.stringify(error['message'])} lacks ${JSON.stringify(expected)}`,
      );
      if (rule.param !== null) assert.equal(error['param'], rule.param);
    });
  }
});
