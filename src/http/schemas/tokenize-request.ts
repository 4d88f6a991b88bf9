/**
 * `POST /tokenize` and `POST /detokenize` request schemas (vLLM's TokenizeCompletionRequest,
 * TokenizeChatRequest and DetokenizeRequest, wire shape).
 *
 * Owns: the two forms of /tokenize (a body with `messages` is the chat form) and their fields;
 * unknown fields are dropped.
 */
import { z } from 'zod';
import { chatMessageSchema, toolSchema } from './chat-request.ts';
import { tokenIdSchema } from './common-fields.ts';

/** The completion form: a text prompt, special tokens added by default. */
export const tokenizeCompletionSchema = z.object({
  model: z.string().nullable().optional(),
  prompt: z.string(),
  add_special_tokens: z.boolean().optional(),
  return_token_strs: z.boolean().nullable().optional(),
});

/** The chat form: messages rendered through the chat template. */
export const tokenizeChatSchema = z.object({
  model: z.string().nullable().optional(),
  messages: z.array(chatMessageSchema),
  add_generation_prompt: z.boolean().optional(),
  continue_final_message: z.boolean().optional(),
  add_special_tokens: z.boolean().optional(),
  return_token_strs: z.boolean().nullable().optional(),
  chat_template: z.string().nullable().optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  tools: z.array(toolSchema).nullable().optional(),
  documents: z.array(z.record(z.string(), z.string())).nullable().optional(),
  media_io_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  mm_processor_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const detokenizeSchema = z.object({
  model: z.string().nullable().optional(),
  tokens: z.array(tokenIdSchema),
});

export type TokenizeCompletionRequest = z.output<typeof tokenizeCompletionSchema>;
export type TokenizeChatRequest = z.output<typeof tokenizeChatSchema>;
export type DetokenizeRequest = z.output<typeof detokenizeSchema>;

/** Whether a /tokenize body is the chat form. */
export function isTokenizeChat(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'messages' in body;
}
