/**
 * Response wire types: what the API sends, snake_case and in vLLM's field order.
 *
 * Owns: the shapes of completion and chat responses, their stream chunks, usage and the model
 * list, and the three logprobs formats. Fields vLLM always serializes but servellm does not
 * produce yet (token ids, tool calls, ...) are typed as their null/empty value so a later issue widens the type
 * deliberately. Request types live with their schemas in `schemas/`.
 */
import type { FinishReason } from '../engine/engine-types.ts';

/** Token counts of a whole response (or, with continuous_usage_stats, of one choice so far). */
export interface Usage {
  readonly prompt_tokens: number;
  readonly total_tokens: number;
  readonly completion_tokens: number;
  /** With --enable-prompt-tokens-details and some prompt tokens found cached; else null. */
  readonly prompt_tokens_details: PromptTokensDetails | null;
}

/** vLLM's PromptTokenUsageInfo. */
export interface PromptTokensDetails {
  /** Prompt tokens found in the prefix cache (not computed for this response); > 0. */
  readonly cached_tokens: number;
}

/** vLLM's stop_reason: the matched stop string, the stop token id, or null (EOS, length). */
export type StopReason = string | number | null;

/** What every response and chunk of one request shares. */
export interface ResponseHeader {
  /** `cmpl-<id>` or `chatcmpl-<id>`. */
  readonly id: string;
  /** Unix seconds, fixed for the whole response. */
  readonly created: number;
  /** The served model name answered. */
  readonly model: string;
}

/**
 * Completions logprobs (also OpenAI's legacy format): per token its text, raw logprob (null for
 * the first echoed prompt token) and a map of candidate texts to logprobs, and the character
 * offset of each token's text.
 */
export interface CompletionLogprobs {
  readonly text_offset: number[];
  readonly token_logprobs: (number | null)[];
  readonly tokens: string[];
  readonly top_logprobs: (Record<string, number> | null)[];
}

/** vLLM's entry of one candidate at one prompt position. */
export interface PromptLogprobEntry {
  readonly logprob: number;
  readonly rank: number;
  readonly decoded_token: string;
}

/** vLLM's `prompt_logprobs`: per prompt token, null for the first, else token id -> entry. */
export type PromptLogprobs = (Record<string, PromptLogprobEntry> | null)[];

/** One choice of a non-streaming completion. */
export interface CompletionChoice {
  readonly index: number;
  readonly text: string;
  readonly logprobs: CompletionLogprobs | null;
  readonly finish_reason: FinishReason;
  readonly stop_reason: StopReason;
  /** return_token_ids: the generated token ids. */
  readonly token_ids: number[] | null;
  readonly prompt_logprobs: PromptLogprobs | null;
  /** return_token_ids: the prompt's token ids. */
  readonly prompt_token_ids: readonly number[] | null;
}

/** The body of a non-streaming `/v1/completions` answer. */
export interface CompletionResponse {
  readonly id: string;
  readonly object: 'text_completion';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly CompletionChoice[];
  readonly service_tier: null;
  readonly system_fingerprint: string;
  readonly usage: Usage;
  readonly kv_transfer_params: null;
}

/** The one choice of a completions stream chunk. */
export interface CompletionStreamChoice {
  readonly index: number;
  readonly text: string;
  readonly logprobs: CompletionLogprobs | null;
  readonly finish_reason: FinishReason | null;
  readonly stop_reason: StopReason;
  /** return_token_ids: the prompt's ids on the choice's first event. */
  readonly prompt_token_ids: readonly number[] | null;
  /** return_token_ids: the ids generated since the previous event. */
  readonly token_ids: readonly number[] | null;
}

/** One completions SSE event: exactly one choice. */
export interface CompletionChunk {
  readonly id: string;
  readonly object: 'text_completion';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly [CompletionStreamChoice];
  readonly usage?: Usage;
}

/** A chat choice's finish: the engine's, or `tool_calls` when its output became tool calls. */
export type ChatFinishReason = FinishReason | 'tool_calls';

/** One tool call of an answer message. */
export interface ChatToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

/** One element of a streamed `delta.tool_calls`: the first of a call has id, type and name. */
export interface ChatToolCallDelta {
  readonly index: number;
  readonly id?: string;
  readonly type?: 'function';
  readonly function: { readonly name?: string; readonly arguments?: string };
}

/** The answer message of a non-streaming chat completion. */
export interface ChatMessage {
  readonly role: string;
  readonly content: string | null;
  readonly refusal: null;
  readonly annotations: null;
  readonly audio: null;
  readonly function_call: null;
  readonly tool_calls: readonly ChatToolCall[];
  readonly reasoning: null;
}

/** One candidate token in chat logprobs: its text, raw logprob and the text's UTF-8 bytes. */
export interface ChatTopLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly bytes: number[] | null;
}

/** One generated token in chat logprobs, with the most likely candidates at its position. */
export interface ChatTokenLogprob extends ChatTopLogprob {
  readonly top_logprobs: ChatTopLogprob[];
}

/** OpenAI's chat logprobs. */
export interface ChatLogprobs {
  readonly content: ChatTokenLogprob[];
}

/** One choice of a non-streaming chat completion. */
export interface ChatChoice {
  readonly index: number;
  readonly message: ChatMessage;
  readonly logprobs: ChatLogprobs | null;
  readonly finish_reason: ChatFinishReason;
  readonly stop_reason: StopReason;
  /** return_token_ids: the generated token ids. */
  readonly token_ids: number[] | null;
}

/** The body of a non-streaming `/v1/chat/completions` answer. */
export interface ChatCompletionResponse {
  readonly id: string;
  readonly object: 'chat.completion';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly ChatChoice[];
  readonly service_tier: null;
  readonly system_fingerprint: string;
  readonly usage: Usage;
  readonly prompt_logprobs: PromptLogprobs | null;
  /** return_token_ids: the rendered prompt's token ids. */
  readonly prompt_token_ids: readonly number[] | null;
  readonly kv_transfer_params: null;
}

/** A streamed message fragment: the role (first chunk of a choice) and/or new content. */
export interface ChatDelta {
  readonly role?: string;
  readonly content?: string;
  readonly tool_calls?: readonly ChatToolCallDelta[];
}

/** The one choice of a chat stream chunk. */
export interface ChatStreamChoice {
  readonly index: number;
  readonly delta: ChatDelta;
  readonly logprobs: ChatLogprobs | null;
  readonly finish_reason: ChatFinishReason | null;
  /** Present on the choice's last chunk only. */
  readonly stop_reason?: StopReason;
  /** Absent on the role chunk; return_token_ids: the ids generated since the previous chunk. */
  readonly token_ids?: readonly number[] | null;
}

/** One chat SSE event: exactly one choice. */
export interface ChatCompletionChunk {
  readonly id: string;
  readonly object: 'chat.completion.chunk';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly [ChatStreamChoice];
  /** On the role chunks only (return_token_ids: the prompt's ids, on the first one). */
  readonly prompt_token_ids?: readonly number[] | null;
  readonly usage?: Usage;
}

/** The last event of a stream with stream_options.include_usage. */
export interface UsageChunk {
  readonly id: string;
  readonly object: 'text_completion' | 'chat.completion.chunk';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly [];
  readonly usage: Usage;
  readonly system_fingerprint: string;
}

/** vLLM's fixed permission entry of a model card. */
export interface ModelPermission {
  readonly id: string;
  readonly object: 'model_permission';
  readonly created: number;
  readonly allow_create_engine: false;
  readonly allow_sampling: true;
  readonly allow_logprobs: true;
  readonly allow_search_indices: false;
  readonly allow_view: true;
  readonly allow_fine_tuning: false;
  readonly organization: '*';
  readonly group: null;
  readonly is_blocking: false;
}

/** One served name in `/v1/models`. */
export interface ModelCard {
  readonly id: string;
  readonly object: 'model';
  readonly created: number;
  readonly owned_by: 'vllm';
  readonly root: string;
  readonly parent: null;
  readonly max_model_len: number;
  readonly permission: readonly [ModelPermission];
}

/** The `/v1/models` body. */
export interface ModelList {
  readonly object: 'list';
  readonly data: readonly ModelCard[];
}
