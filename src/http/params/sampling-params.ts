/**
 * The engine's SamplingParams from a validated request: every default resolved, every range
 * checked with vLLM's message (vLLM's SamplingParams construction and `_verify_args`).
 *
 * Owns: temperature (default 1.0; 0 < t < 0.01 raised to 0.01; 0 is greedy and then disables
 * top_p/top_k/min_p as vLLM does), top_p (default 1), top_k (default 0; -1 and 0 disable), min_p
 * (default 0), seed (-1 means none), stop strings, stop token ids, logit_bias (clamped to
 * [-100, 100], ids checked against the vocabulary), the penalties (presence and frequency in
 * [-2, 2], default 0; repetition > 0, default 1, clamped to [1e-30, 1e30] for the float32
 * samplers; top_p below the smallest float32 raised to it), min_tokens (0 to max_tokens),
 * allowed_token_ids and the boolean switches.
 * `max_tokens` arrives resolved against the context (`context-limit.ts`) and is checked here.
 * A field the request leaves out (or sends as null) takes the server's generation-config default
 * where it has one (temperature, top_p, top_k, min_p, repetition_penalty: vLLM's
 * `default_sampling_params`), else vLLM's neutral default; an explicit value always wins.
 */
import type { CompiledGrammar } from '../../grammar/automaton/byte-nfa.ts';
import type { SamplingParams } from '../../engine/engine-types.ts';
import { BadRequestError } from '../errors.ts';
import type { CommonRequest } from '../schemas/common-fields.ts';
import type { GenerationDefaults } from './generation-defaults.ts';
import { pyFloat } from './request-checks.ts';

/** vLLM's _MAX_TEMP: positive temperatures below it are raised to it. */
const MIN_POSITIVE_TEMPERATURE = 1e-2;

function resolveTemperature(value: number | null | undefined, fallback = 1.0): number {
  const temperature = value ?? fallback;
  if (temperature < 0) {
    throw new BadRequestError(
      `temperature must be non-negative, got ${pyFloat(temperature)}.`,
      'temperature',
    );
  }
  return temperature > 0 && temperature < MIN_POSITIVE_TEMPERATURE
    ? MIN_POSITIVE_TEMPERATURE
    : temperature;
}

/** The smallest positive float32: the samplers read top_p as a float32, where less is 0. */
const FLOAT32_MIN_POSITIVE = 2 ** -149;

function resolveTopP(value: number | null | undefined, fallback = 1.0): number {
  const topP = value ?? fallback;
  if (!(topP > 0 && topP <= 1)) {
    throw new BadRequestError(`top_p must be in (0, 1], got ${pyFloat(topP)}.`, 'top_p');
  }
  // A top_p below every float32 keeps the most likely token only, as the smallest one does.
  return Math.max(topP, FLOAT32_MIN_POSITIVE);
}

function resolveTopK(value: number | null | undefined, fallback = 0): number {
  const topK = value ?? fallback;
  if (topK < -1) {
    throw new BadRequestError(`top_k must be 0 (disable), or at least 1, got ${topK}.`, 'top_k');
  }
  return topK === -1 ? 0 : topK;
}

function resolveMinP(value: number | null | undefined, fallback = 0): number {
  const minP = value ?? fallback;
  if (!(minP >= 0 && minP <= 1)) {
    throw new BadRequestError(`min_p must be in [0, 1], got ${pyFloat(minP)}.`, 'min_p');
  }
  return minP;
}

function resolveStop(value: string | readonly string[] | null | undefined): readonly string[] {
  const stop =
    value === null || value === undefined ? [] : typeof value === 'string' ? [value] : value;
  if (stop.includes('')) throw new BadRequestError('stop cannot contain an empty string.', 'stop');
  return [...stop];
}

/** OpenAI/vLLM logit_bias clamp: each value is limited to [-100, 100]. */
const LOGIT_BIAS_LIMIT = 100;

/**
 * logit_bias as the engine takes it: keys are token ids (decimal strings), ids outside the
 * vocabulary are vLLM's 400, values are clamped to [-100, 100]. Empty or absent: null.
 */
export function resolveLogitBias(
  bias: Readonly<Record<string, number>> | null | undefined,
  vocabSize: number,
): ReadonlyMap<number, number> | null {
  if (bias === null || bias === undefined) return null;
  const resolved = new Map<number, number>();
  const outside: number[] = [];
  for (const [key, value] of Object.entries(bias)) {
    if (!/^-?\d+$/.test(key.trim())) {
      throw new BadRequestError(
        `logit_bias keys must be token ids, got ${JSON.stringify(key)}.`,
        'logit_bias',
      );
    }
    const token = Number(key);
    if (token < 0 || token >= vocabSize) outside.push(token);
    resolved.set(token, Math.min(LOGIT_BIAS_LIMIT, Math.max(-LOGIT_BIAS_LIMIT, value)));
  }
  if (outside.length > 0) {
    throw new BadRequestError(
      `token_id(s) [${outside.join(', ')}] in logit_bias contain out-of-vocab token ids. ` +
        `Vocabulary size: ${vocabSize}`,
      'logit_bias',
    );
  }
  return resolved.size === 0 ? null : resolved;
}

/** The logprobs counts an endpoint resolved (see logprobs-params.ts); null = none. */
export interface LogprobsCounts {
  readonly sample: number | null;
  readonly prompt: number | null;
}

/**
 * The repetition penalties the samplers take. They divide a positive logit by it (multiply a
 * negative one) in float32: below 1e-30 a logit of a few units becomes +Infinity, which fails
 * the whole decode step (every request in it), and a value beyond float32 is Infinity. The
 * ends act as the values beyond them do (seen tokens' logits huge, or ~0 and hugely negative),
 * so values beyond are clamped, as vLLM raises tiny temperatures.
 */
const REPETITION_RANGE = [1e-30, 1e30] as const;

/**
 * vLLM's penalty ranges, checked with its messages; absent or null is the neutral value (for
 * repetition_penalty: the server's default, if any).
 */
function resolvePenalties(
  request: CommonRequest,
  defaultRepetition = 1,
): {
  presence: number;
  frequency: number;
  repetition: number;
} {
  const additive = (param: 'presence_penalty' | 'frequency_penalty'): number => {
    const value = request[param] ?? 0;
    if (!(value >= -2 && value <= 2)) {
      throw new BadRequestError(`${param} must be in [-2, 2], got ${pyFloat(value)}.`, param);
    }
    return value;
  };
  const repetition = request.repetition_penalty ?? defaultRepetition;
  if (!(repetition > 0)) {
    throw new BadRequestError(
      `repetition_penalty must be greater than zero, got ${pyFloat(repetition)}.`,
      'repetition_penalty',
    );
  }
  return {
    presence: additive('presence_penalty'),
    frequency: additive('frequency_penalty'),
    repetition: Math.min(Math.max(repetition, REPETITION_RANGE[0]), REPETITION_RANGE[1]),
  };
}

/** min_tokens within [0, max_tokens], with vLLM's messages. */
function resolveMinTokens(value: number | undefined, maxTokens: number): number {
  const minTokens = value ?? 0;
  if (minTokens < 0) {
    throw new BadRequestError(
      `min_tokens must be greater than or equal to 0, got ${minTokens}.`,
      'min_tokens',
    );
  }
  if (minTokens > maxTokens) {
    throw new BadRequestError(
      `min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`,
      'min_tokens',
    );
  }
  return minTokens;
}

/** allowed_token_ids: null for any token; empty or out-of-vocabulary lists are vLLM's 400s. */
function resolveAllowedTokenIds(
  ids: readonly number[] | null | undefined,
  vocabSize: number,
): readonly number[] | null {
  if (ids === null || ids === undefined) return null;
  if (ids.length === 0) {
    throw new BadRequestError('allowed_token_ids is not None and empty!', 'allowed_token_ids');
  }
  if (ids.some((id) => id < 0 || id >= vocabSize)) {
    throw new BadRequestError(
      'allowed_token_ids contains out-of-vocab token id!',
      'allowed_token_ids',
    );
  }
  return [...ids];
}

/** What an endpoint resolved beyond the shared fields. */
export interface EndpointSampling {
  readonly logprobs?: LogprobsCounts;
  /** bad_words as token sequences (chat only). */
  readonly badWords?: readonly (readonly number[])[];
  /** The server's sampling defaults for fields the request leaves out. Default: none. */
  readonly defaults?: GenerationDefaults | undefined;
  /** The request's compiled structured output (structured-outputs.ts). Default: none. */
  readonly structuredOutput?: CompiledGrammar | null;
}

/**
 * SamplingParams for one engine request. `maxTokens` is the resolved output budget (already
 * within the context); below 1 it is refused with vLLM's message.
 */
export function resolveSamplingParams(
  request: CommonRequest,
  maxTokens: number,
  vocabSize: number,
  endpoint: EndpointSampling = {},
): SamplingParams {
  const logprobs = endpoint.logprobs ?? { sample: null, prompt: null };
  const defaults = endpoint.defaults ?? {};
  const penalties = resolvePenalties(request, defaults.repetitionPenalty);
  const temperature = resolveTemperature(request.temperature, defaults.temperature);
  const topP = resolveTopP(request.top_p, defaults.topP);
  const topK = resolveTopK(request.top_k, defaults.topK);
  const minP = resolveMinP(request.min_p, defaults.minP);
  if (maxTokens < 1) {
    throw new BadRequestError(`max_tokens must be at least 1, got ${maxTokens}.`, 'max_tokens');
  }
  const seed = request.seed ?? null;
  const greedy = temperature === 0;
  return {
    temperature,
    topP: greedy ? 1 : topP,
    topK: greedy ? 0 : topK,
    minP: greedy ? 0 : minP,
    seed: seed === -1n ? null : seed,
    maxTokens,
    stop: resolveStop(request.stop),
    stopTokenIds: [...(request.stop_token_ids ?? [])],
    includeStopStrInOutput: request.include_stop_str_in_output ?? false,
    ignoreEos: request.ignore_eos ?? false,
    skipSpecialTokens: request.skip_special_tokens ?? true,
    logitBias: resolveLogitBias(request.logit_bias, vocabSize),
    logprobs: logprobs.sample,
    promptLogprobs: logprobs.prompt,
    presencePenalty: penalties.presence,
    frequencyPenalty: penalties.frequency,
    repetitionPenalty: penalties.repetition,
    minTokens: resolveMinTokens(request.min_tokens, maxTokens),
    allowedTokenIds: resolveAllowedTokenIds(request.allowed_token_ids, vocabSize),
    badWords: endpoint.badWords ?? [],
    structuredOutput: endpoint.structuredOutput ?? null,
  };
}
