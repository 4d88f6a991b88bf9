/**
 * `/v1/completions`: a validated request to the engine requests it becomes (vLLM's
 * CompletionRequest.to_sampling_params plus its prompt handling), every default resolved.
 *
 * Owns: the prompt forms (each prompt one engine request, in order), their tokenization
 * (`add_special_tokens`, default true; special-token text parsed as in HF tokenizers), the
 * default `max_tokens` of 16 (explicit null: the rest of the context), and the completion-only
 * refusals (`suffix`, `logprobs`, `prompt_embeds`).
 */
import type { Tokenizer } from '../../backend/model-backend.ts';
import type { SamplingParams } from '../../engine/engine-types.ts';
import { BadRequestError } from '../errors.ts';
import type { CompletionRequest } from '../schemas/completion-request.ts';
import { checkPromptTokens, resolveMaxTokens } from './context-limit.ts';
import {
  notSupportedYet,
  rejectUnsupportedCommon,
  resolveStreamMode,
  type StreamMode,
} from './request-checks.ts';
import { resolveSamplingParams } from './sampling-params.ts';

/** What a request is checked against. */
export interface PlanContext {
  readonly tokenizer: Tokenizer;
  readonly vocabSize: number;
  readonly maxModelLen: number;
}

/** One engine request to make: its prompt and its fully resolved parameters. */
export interface PlannedRequest {
  readonly promptTokens: readonly number[];
  readonly params: SamplingParams;
}

/** The engine requests of one completions call and how to deliver them. */
export interface CompletionPlan {
  /** One per prompt, in prompt order (choice index = position). */
  readonly requests: readonly PlannedRequest[];
  readonly stream: StreamMode;
}

/** vLLM's default max_tokens for completions. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

const EMPTY_PROMPT = 'Either prompt or prompt_embeds must be provided and non-empty.';

function isTokenList(prompt: readonly unknown[]): prompt is readonly number[] {
  return typeof prompt[0] === 'number';
}

/** The prompts of a request as token lists, in order. */
function tokenizePrompts(request: CompletionRequest, context: PlanContext): number[][] {
  const prompt = request.prompt ?? null;
  if (prompt === null || prompt === '' || (Array.isArray(prompt) && prompt.length === 0)) {
    throw new BadRequestError(EMPTY_PROMPT, 'prompt');
  }
  const options = { addSpecial: request.add_special_tokens ?? true, parseSpecial: true };
  const tokenize = (text: string): number[] => context.tokenizer.tokenize(text, options);
  if (typeof prompt === 'string') return [tokenize(prompt)];
  if (isTokenList(prompt)) return [[...prompt]];
  return prompt.map((item) => (typeof item === 'string' ? tokenize(item) : [...item]));
}

function rejectUnsupportedCompletion(request: CompletionRequest): void {
  if (request.suffix !== null && request.suffix !== undefined) {
    throw new BadRequestError('suffix is not currently supported', 'suffix');
  }
  if (request.prompt_embeds !== null && request.prompt_embeds !== undefined) {
    throw notSupportedYet('prompt_embeds', 'prompt embeddings');
  }
  const logprobs = request.logprobs ?? null;
  if (logprobs !== null) {
    if (logprobs < 0) throw new BadRequestError('`logprobs` must be a positive value.', 'logprobs');
    throw notSupportedYet('logprobs', `got ${logprobs}`);
  }
}

/** The engine requests of a completions request; throws BadRequestError for any bad input. */
export function toCompletionPlan(request: CompletionRequest, context: PlanContext): CompletionPlan {
  const stream = resolveStreamMode(request);
  rejectUnsupportedCommon(request, stream.stream);
  rejectUnsupportedCompletion(request);
  const prompts = tokenizePrompts(request, context);
  const requested =
    request.max_tokens === undefined ? DEFAULT_COMPLETION_MAX_TOKENS : request.max_tokens;
  const requests = prompts.map((promptTokens) => {
    checkPromptTokens(promptTokens, context.vocabSize);
    const maxTokens = resolveMaxTokens({
      requested,
      param: 'max_tokens',
      promptTokens: promptTokens.length,
      maxModelLen: context.maxModelLen,
    });
    return { promptTokens, params: resolveSamplingParams(request, maxTokens, context.vocabSize) };
  });
  return { requests, stream };
}
