/**
 * `POST /v1/completions` request schema (vLLM's CompletionRequest, wire shape).
 *
 * Owns: the completion-only fields: `prompt` in its four forms (string, list of strings, token
 * ids, list of token-id lists), `max_tokens`, `logprobs`, `best_of`, `suffix`, `prompt_embeds`.
 */
import { z } from 'zod';
import { commonRequestFields, tokenIdSchema } from './common-fields.ts';

const tokenIds = z.array(tokenIdSchema);

/** The four prompt forms of the completions API. */
export const promptSchema = z.union(
  [z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)],
  {
    error: 'prompt must be a string, array of strings, array of tokens, or array of token arrays',
  },
);

/** The whole completions request; unknown fields are dropped. */
export const completionRequestSchema = z.object({
  ...commonRequestFields,
  prompt: promptSchema.nullable().optional(),
  /** Absent: 16. Null: the rest of the context (vLLM's `int | None = 16`). */
  max_tokens: z.int().nullable().optional(),
  logprobs: z.int().nullable().optional(),
  /** Legacy (vLLM before its removal): sample this many, answer the n most likely. */
  best_of: z.int().nullable().optional(),
  suffix: z.string().nullable().optional(),
  prompt_embeds: z.unknown().optional(),
});

/** A validated completions request (wire names). */
export type CompletionRequest = z.output<typeof completionRequestSchema>;
