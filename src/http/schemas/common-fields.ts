/**
 * The request fields completions and chat share, as zod schemas of their wire shape.
 *
 * Owns: types and structural checks of the shared OpenAI and vLLM sampling fields (snake_case,
 * as in the API). Schemas check shape only and set no defaults: value ranges and defaults are
 * resolved in one place per endpoint (`params/`), with vLLM's messages, like vLLM's
 * SamplingParams does after pydantic. Unknown fields are dropped (vLLM ignores them).
 */
import { z } from 'zod';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An int64 seed, exact (the body parser hands large integer literals on as bigints). */
export const seedSchema = z
  .union([z.bigint(), z.int()], { error: 'Input should be a valid integer' })
  .transform((value) => BigInt(value))
  .superRefine((value, ctx) => {
    if (value < INT64_MIN) {
      ctx.addIssue({
        code: 'custom',
        message: `Input should be greater than or equal to ${INT64_MIN} [type=greater_than_equal]`,
      });
    } else if (value > INT64_MAX) {
      ctx.addIssue({
        code: 'custom',
        message: `Input should be less than or equal to ${INT64_MAX} [type=less_than_equal]`,
      });
    }
  });

/** A token id: a non-negative integer (its bound reads as pydantic's, see parse-request.ts). */
export const tokenIdSchema = z.int({ error: 'Input should be a valid integer' }).min(0);

/** `stream_options`; unknown keys are kept so "any key set" can be told from `{}`. */
export const streamOptionsSchema = z.looseObject({
  include_usage: z.boolean().nullable().optional(),
  continuous_usage_stats: z.boolean().nullable().optional(),
});

/** `response_format` (OpenAI's three types plus vLLM's structural_tag). */
export const responseFormatSchema = z.looseObject({
  type: z.enum(['text', 'json_object', 'json_schema', 'structural_tag']),
  json_schema: z.looseObject({ name: z.string().optional() }).nullable().optional(),
});

const optionalNumber = z.number().nullable().optional();
const jsonObject = z.record(z.string(), z.unknown());

/** Fields both endpoints accept, by their API names. */
export const commonRequestFields = {
  model: z.string().nullable().optional(),
  frequency_penalty: optionalNumber,
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  n: z.int().nullable().optional(),
  presence_penalty: optionalNumber,
  response_format: responseFormatSchema.nullable().optional(),
  seed: seedSchema.nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string())])
    .nullable()
    .optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptionsSchema.nullable().optional(),
  temperature: optionalNumber,
  top_p: optionalNumber,
  user: z.string().nullable().optional(),
  // vLLM sampling parameters
  use_beam_search: z.boolean().optional(),
  top_k: z.int().nullable().optional(),
  min_p: optionalNumber,
  repetition_penalty: optionalNumber,
  length_penalty: z.number().optional(),
  early_stopping: z.union([z.boolean(), z.literal('never')]).optional(),
  stop_token_ids: z.array(tokenIdSchema).nullable().optional(),
  include_stop_str_in_output: z.boolean().optional(),
  ignore_eos: z.boolean().optional(),
  min_tokens: z.int().optional(),
  skip_special_tokens: z.boolean().optional(),
  spaces_between_special_tokens: z.boolean().optional(),
  truncate_prompt_tokens: z.int().min(-1).nullable().optional(),
  truncation_side: z.enum(['left', 'right']).nullable().optional(),
  prompt_logprobs: z.int().nullable().optional(),
  allowed_token_ids: z.array(z.int()).nullable().optional(),
  // vLLM extra parameters
  echo: z.boolean().nullable().optional(),
  add_special_tokens: z.boolean().optional(),
  structured_outputs: jsonObject.nullable().optional(),
  // The seed era's structured-output parameters (aliases of structured_outputs).
  guided_json: z.unknown().optional(),
  guided_regex: z.unknown().optional(),
  guided_choice: z.unknown().optional(),
  guided_grammar: z.unknown().optional(),
  guided_decoding_backend: z.unknown().optional(),
  guided_whitespace_pattern: z.unknown().optional(),
  priority: z.int().optional(),
  request_id: z.string().optional(),
  return_tokens_as_token_ids: z.boolean().nullable().optional(),
  return_token_ids: z.boolean().nullable().optional(),
  cache_salt: z.string().nullable().optional(),
  kv_transfer_params: jsonObject.nullable().optional(),
  vllm_xargs: jsonObject.nullable().optional(),
  repetition_detection: jsonObject.nullable().optional(),
  thinking_token_budget: z.int().nullable().optional(),
};

/** The shared fields as one parsed object type (what `params/` reads). */
export type CommonRequest = z.output<z.ZodObject<typeof commonRequestFields>>;
