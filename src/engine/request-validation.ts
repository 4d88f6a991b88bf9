/**
 * The engine's guard at `add`: refuses, at once and naming the parameter, a request that could
 * never run or that would make the backend reject a whole batch.
 *
 * Owns: the engine-side checks of an `EngineRequest`. The HTTP layer validates first (and
 * produces vLLM's exact context-length message itself); this is the second line, so a bad request
 * fails alone instead of failing the step it would have joined.
 */
import { EngineRequestError, type EngineRequest } from './engine-types.ts';

/** What a request is checked against. */
export interface RequestLimits {
  readonly vocabSize: number;
  readonly maxModelLen: number;
}

function refuse(message: string, parameter: string): never {
  throw new EngineRequestError(message, parameter);
}

/** Throws EngineRequestError naming the parameter at fault. */
export function validateEngineRequest(request: EngineRequest, limits: RequestLimits): void {
  const { promptTokens, params } = request;
  if (promptTokens.length === 0) refuse('The decoder prompt cannot be empty', 'prompt');
  for (const token of promptTokens) {
    if (!Number.isInteger(token) || token < 0 || token >= limits.vocabSize) {
      refuse(`Token id ${token} is out of vocabulary (size ${limits.vocabSize})`, 'prompt');
    }
  }
  if (!Number.isInteger(params.maxTokens) || params.maxTokens < 1) {
    refuse(`max_tokens must be at least 1, got ${params.maxTokens}.`, 'max_tokens');
  }
  const total = promptTokens.length + params.maxTokens;
  if (total > limits.maxModelLen) {
    refuse(
      `This model's maximum context length is ${limits.maxModelLen} tokens. However, you ` +
        `requested ${total} tokens (${promptTokens.length} in the messages, ${params.maxTokens} ` +
        `in the completion). Please reduce the length of the messages or completion.`,
      promptTokens.length >= limits.maxModelLen ? 'prompt' : 'max_tokens',
    );
  }
  if (!(params.temperature >= 0) || !Number.isFinite(params.temperature)) {
    refuse(`temperature must be non-negative, got ${params.temperature}.`, 'temperature');
  }
  if (!(params.topP > 0 && params.topP <= 1)) {
    refuse(`top_p must be in (0, 1], got ${params.topP}.`, 'top_p');
  }
  if (!Number.isInteger(params.topK) || params.topK < 0) {
    refuse(`top_k must be 0 (disable), or at least 1, got ${params.topK}.`, 'top_k');
  }
  if (!(params.minP >= 0 && params.minP <= 1)) {
    refuse(`min_p must be in [0, 1], got ${params.minP}.`, 'min_p');
  }
  if (params.stop.some((stop) => stop.length === 0)) {
    refuse('stop cannot contain an empty string.', 'stop');
  }
  if (params.logitBias !== null) {
    const outside = [...params.logitBias.keys()].filter(
      (token) => !Number.isInteger(token) || token < 0 || token >= limits.vocabSize,
    );
    if (outside.length > 0) {
      refuse(
        `token_id(s) [${outside.join(', ')}] in logit_bias contain out-of-vocab token ids. ` +
          `Vocabulary size: ${limits.vocabSize}`,
        'logit_bias',
      );
    }
    for (const [token, bias] of params.logitBias) {
      if (!Number.isFinite(bias))
        refuse(`logit_bias[${token}] must be finite, got ${bias}.`, 'logit_bias');
    }
  }
  for (const [value, parameter] of [
    [params.logprobs, 'logprobs'],
    [params.promptLogprobs, 'prompt_logprobs'],
  ] as const) {
    if (value !== null && !(Number.isInteger(value) && value >= 0 && value <= limits.vocabSize)) {
      refuse(`${parameter} must be in [0, ${limits.vocabSize}], got ${value}.`, parameter);
    }
  }
  for (const [value, parameter] of [
    [params.presencePenalty, 'presence_penalty'],
    [params.frequencyPenalty, 'frequency_penalty'],
  ] as const) {
    if (!(value >= -2 && value <= 2))
      refuse(`${parameter} must be in [-2, 2], got ${value}.`, parameter);
  }
  if (!(params.repetitionPenalty > 0) || !Number.isFinite(params.repetitionPenalty)) {
    refuse(
      `repetition_penalty must be greater than zero, got ${params.repetitionPenalty}.`,
      'repetition_penalty',
    );
  }
  if (!Number.isInteger(params.minTokens) || params.minTokens < 0) {
    refuse(`min_tokens must be greater than or equal to 0, got ${params.minTokens}.`, 'min_tokens');
  }
  if (params.minTokens > params.maxTokens) {
    refuse(
      `min_tokens must be less than or equal to max_tokens=${params.maxTokens}, got ${params.minTokens}.`,
      'min_tokens',
    );
  }
  const inVocabulary = (token: number) =>
    Number.isInteger(token) && token >= 0 && token < limits.vocabSize;
  if (params.allowedTokenIds !== null) {
    if (params.allowedTokenIds.length === 0) {
      refuse('allowed_token_ids is not None and empty!', 'allowed_token_ids');
    }
    if (!params.allowedTokenIds.every(inVocabulary)) {
      refuse('allowed_token_ids contains out-of-vocab token id!', 'allowed_token_ids');
    }
  }
  for (const word of params.badWords) {
    if (word.length === 0 || !word.every(inVocabulary)) {
      refuse(`bad_words must be non-empty token sequences within the vocabulary.`, 'bad_words');
    }
  }
  for (const token of params.stopTokenIds) {
    if (!Number.isInteger(token))
      refuse(`stop_token_ids must be integers, got ${token}.`, 'stop_token_ids');
  }
}
