/**
 * `POST /v1/chat/completions` request schema (vLLM's ChatCompletionRequest, wire shape).
 *
 * Owns: messages (any role string; content as a string, null or a list of parts; the fields a
 * chat template may read), tools and tool_choice as shapes, and the chat-only fields
 * (`max_completion_tokens`, `logprobs`/`top_logprobs`, template controls). Content part types
 * and tool semantics are judged where they are used (`chat/`, `params/`).
 */
import { z } from 'zod';
import { commonRequestFields } from './common-fields.ts';

/** One element of list content: a bare string or a typed part such as {"type":"text","text":...}. */
export const contentPartSchema = z.union([z.string(), z.looseObject({ type: z.string() })]);

/** An assistant message's tool call (arguments as a JSON string). */
export const toolCallSchema = z.looseObject({
  id: z.string().nullable().optional(),
  type: z.string().nullable().optional(),
  function: z.looseObject({
    name: z.string(),
    arguments: z.string().nullable().optional(),
  }),
});

/** One request message; roles are free strings (custom roles are accepted, as in vLLM). */
export const chatMessageSchema = z.object({
  role: z.string(),
  content: z
    .union([z.string(), z.array(contentPartSchema)])
    .nullable()
    .optional(),
  name: z.string().nullable().optional(),
  tool_calls: z.array(toolCallSchema).nullable().optional(),
  tool_call_id: z.string().nullable().optional(),
  reasoning: z.string().nullable().optional(),
  /** Deprecated spelling of `reasoning`. */
  reasoning_content: z.string().nullable().optional(),
});

/** A tool definition (`{"type":"function","function":{...}}`). */
export const toolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string(),
    description: z.string().nullable().optional(),
    parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
});

const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

/** The whole chat request; unknown fields are dropped. */
export const chatRequestSchema = z.object({
  ...commonRequestFields,
  messages: z.array(chatMessageSchema),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.int().nullable().optional(),
  /** Deprecated by OpenAI in favour of max_completion_tokens, which wins when both are set. */
  max_tokens: z.int().nullable().optional(),
  max_completion_tokens: z.int().nullable().optional(),
  tools: z.array(toolSchema).nullable().optional(),
  tool_choice: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .nullable()
    .optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  reasoning_effort: z.enum(REASONING_EFFORTS).nullable().optional(),
  include_reasoning: z.boolean().optional(),
  bad_words: z.array(z.string()).optional(),
  add_generation_prompt: z.boolean().optional(),
  continue_final_message: z.boolean().optional(),
  documents: z.array(z.record(z.string(), z.string())).nullable().optional(),
  chat_template: z.string().nullable().optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  media_io_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  mm_processor_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** A validated chat request (wire names). */
export type ChatRequest = z.output<typeof chatRequestSchema>;
/** One validated request message. */
export type ChatRequestMessage = z.output<typeof chatMessageSchema>;
/** One validated tool definition. */
export type ChatTool = z.output<typeof toolSchema>;
