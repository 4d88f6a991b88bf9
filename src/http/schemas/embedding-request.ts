/**
 * `POST /v1/embeddings` request schemas (vLLM's EmbeddingCompletionRequest and
 * EmbeddingChatRequest, wire shape).
 *
 * Owns: the two forms: `input` (a string, strings, token ids, lists of token ids) or chat
 * `messages` rendered through the chat template (with the template controls, and
 * `add_generation_prompt` and `add_special_tokens` defaulting to false); the encoding (float or
 * base64) and the fields vLLM accepts beside them; unknown fields are dropped.
 */
import { z } from 'zod';
import { chatMessageSchema } from './chat-request.ts';
import { tokenIdSchema } from './common-fields.ts';

const tokenIds = z.array(tokenIdSchema);

/** The fields both forms share. */
const sharedFields = {
  model: z.string().nullable().optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.int().nullable().optional(),
  user: z.string().nullable().optional(),
  add_special_tokens: z.boolean().optional(),
  truncate_prompt_tokens: z.int().min(-1).nullable().optional(),
  truncation_side: z.enum(['left', 'right']).nullable().optional(),
  priority: z.int().optional(),
  request_id: z.string().optional(),
};

/** The completion form: `input`, special tokens added by default. */
export const embeddingCompletionSchema = z.object({
  ...sharedFields,
  input: z.union([z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)], {
    error: 'input must be a string, array of strings, array of tokens, or array of token arrays',
  }),
});

/** The chat form: one conversation, rendered as chat completions render it, embedded whole. */
export const embeddingChatSchema = z.object({
  ...sharedFields,
  messages: z.array(chatMessageSchema),
  /** Default false (an embedding embeds the conversation, it answers nothing). */
  add_generation_prompt: z.boolean().optional(),
  continue_final_message: z.boolean().optional(),
  chat_template: z.string().nullable().optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  mm_processor_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** Either form (vLLM's EmbeddingRequest union): the completion form first. */
export const embeddingRequestSchema = z.union([embeddingCompletionSchema, embeddingChatSchema]);

export type EmbeddingCompletionRequest = z.output<typeof embeddingCompletionSchema>;
export type EmbeddingChatRequest = z.output<typeof embeddingChatSchema>;
export type EmbeddingRequest = EmbeddingCompletionRequest | EmbeddingChatRequest;

/** Whether a body is the chat form: it has `messages` and no `input`. */
export function isEmbeddingChat(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'messages' in body && !('input' in body);
}
