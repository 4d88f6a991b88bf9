/**
 * `POST /v1/embeddings` request schema (vLLM's EmbeddingCompletionRequest, wire shape).
 *
 * Owns: the input forms (a string, strings, token ids, lists of token ids), the encoding
 * (float or base64) and the fields vLLM accepts beside them; unknown fields are dropped.
 */
import { z } from 'zod';
import { tokenIdSchema } from './common-fields.ts';

const tokenIds = z.array(tokenIdSchema);

export const embeddingRequestSchema = z.object({
  model: z.string().nullable().optional(),
  input: z.union([z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)], {
    error: 'input must be a string, array of strings, array of tokens, or array of token arrays',
  }),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.int().nullable().optional(),
  user: z.string().nullable().optional(),
  add_special_tokens: z.boolean().optional(),
  truncate_prompt_tokens: z.int().min(-1).nullable().optional(),
  priority: z.int().optional(),
  request_id: z.string().optional(),
});

export type EmbeddingRequest = z.output<typeof embeddingRequestSchema>;
