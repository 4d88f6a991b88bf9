/**
 * `/v1/completions`: a validated request to the engine requests it becomes (vLLM's
 * CompletionRequest.to_sampling_params plus its prompt handling), every default resolved.
 *
 * Owns: the prompt forms (each prompt one engine request, in order), their tokenization
 * (`add_special_tokens`, default true; special-token text parsed as in HF tokenizers), the
 * default `max_tokens` of 16 (explicit null: the generation-config default, else the rest of the
 * context), `logprobs` and `echo`
 * (the prompt's text, and its logprobs, which `prompt_logprobs` defaults to when echoing;
 * `n` and the legacy `best_of` choices per prompt;
 * `max_tokens` 0 with echo generates one token and answers the prompt alone, as vLLM), `suffix`
 * (an infill prompt around each prompt, see infill-prompt.ts; truncation shortens the prompt
 * before the layout; echo shows the whole infill prompt, special tokens included, as the model
 * saw it) and the completion-only refusals (`prompt_embeds`).
 */
import type { Tokenizer } from '../../backend/model-backend.ts';
import { requestModelError } from '../errors.ts';
import type { GenerationDefaults } from './generation-defaults.ts';
import type { CompletionRequest } from '../schemas/completion-request.ts';
import { checkPromptTokens, resolveMaxTokens } from './context-limit.ts';
import { resolveInfill, type InfillPlan, type InfillTokens } from './infill-prompt.ts';
import {
  logprobsPlan,
  resolveLogprobsCount,
  resolvePromptLogprobs,
  type LogprobsLimits,
  type LogprobsPlan,
} from './logprobs-params.ts';
import {
  notSupportedYet,
  rejectUnsupportedCommon,
  resolveStreamMode,
  type StreamMode,
} from './request-checks.ts';
import {
  resolveBeamSearch,
  resolveBestOf,
  resolveN,
  samplesOf,
  type BeamSearchPlan,
  type PlannedRequest,
} from './n-samples.ts';
import { truncatePrompt } from './prompt-truncation.ts';
import { structuredOutputFor } from './structured-outputs.ts';
import { resolveSamplingParams } from './sampling-params.ts';

export type { PlannedRequest } from './n-samples.ts';

/** What a request is checked against. */
export interface PlanContext extends LogprobsLimits {
  readonly tokenizer: Tokenizer;
  readonly maxModelLen: number;
  /** The largest `n` (VLLM_MAX_N_SEQUENCES). */
  readonly maxN: number;
  /** `--enable-force-include-usage`: streams report usage on every chunk. Default false. */
  readonly forceIncludeUsage?: boolean;
  /** The model's fill-in-the-middle tokens (`suffix`); absent or null: `suffix` is refused. */
  readonly infill?: InfillTokens | null;
  /** `--generation-config` / `--override-generation-config` defaults. Default: none. */
  readonly generationDefaults?: GenerationDefaults;
}

/** The prompt a choice echoes. */
export interface EchoedPrompt {
  readonly text: string;
  readonly tokens: readonly number[];
  /** max_tokens 0: the choice is the prompt alone (the one generated token is dropped). */
  readonly only: boolean;
}

/** The engine requests of one completions call and how to deliver them. */
export interface CompletionPlan {
  /** One per choice: prompt-major, `n` per prompt (choice index = position); one per prompt for a beam search. */
  readonly requests: readonly PlannedRequest[];
  /** use_beam_search: one engine request per prompt in `requests`, each answering n beams. */
  readonly beamSearch: BeamSearchPlan | null;
  /** Choices per prompt before best_of picks: `best_of` (default `n`). */
  readonly choicesPerPrompt: number;
  /** `n`: the choices answered per prompt (the most likely of choicesPerPrompt when fewer). */
  readonly answersPerPrompt: number;
  readonly stream: StreamMode;
  readonly logprobs: LogprobsPlan | null;
  /** return_token_ids: answer the prompt's and each choice's token ids. */
  readonly returnTokenIds: boolean;
  /** Per choice (before best_of picks): the prompt tokens it answers. */
  readonly choicePrompts: readonly (readonly number[])[];
  /** Per choice: the prompt to echo, or null (echo off). */
  readonly echo: readonly (EchoedPrompt | null)[];
}

/** vLLM's default max_tokens for completions. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

const EMPTY_PROMPT = 'Either prompt or prompt_embeds must be provided and non-empty.';

function isTokenList(prompt: readonly unknown[]): prompt is readonly number[] {
  return typeof prompt[0] === 'number';
}

/** One prompt: its tokens, and its text as echo shows it. */
interface Prompt {
  readonly tokens: number[];
  /** The text given, or the tokens decoded (special tokens included) for a token prompt. */
  readonly text: () => string;
}

/** The prompts of a request, in order. */
function readPrompts(
  request: CompletionRequest,
  context: PlanContext,
  infill: InfillPlan | null,
): Prompt[] {
  const prompt = request.prompt ?? null;
  if (prompt === null || prompt === '' || (Array.isArray(prompt) && prompt.length === 0)) {
    throw requestModelError(EMPTY_PROMPT, 'prompt');
  }
  const options = infill?.prefixOptions ?? {
    addSpecial: request.add_special_tokens ?? true,
    parseSpecial: true,
  };
  const fromText = (text: string): Prompt => ({
    tokens: context.tokenizer.tokenize(text, options),
    text: () => text,
  });
  const fromTokens = (tokens: readonly number[]): Prompt => ({
    tokens: [...tokens],
    text: () => context.tokenizer.detokenize(tokens, { skipSpecial: false }),
  });
  if (typeof prompt === 'string') return [fromText(prompt)];
  if (isTokenList(prompt)) return [fromTokens(prompt)];
  return prompt.map((item) => (typeof item === 'string' ? fromText(item) : fromTokens(item)));
}

function rejectUnsupportedCompletion(request: CompletionRequest): void {
  if (request.prompt_embeds !== null && request.prompt_embeds !== undefined) {
    throw notSupportedYet('prompt_embeds', 'prompt embeddings');
  }
}

/** Completions' integer `logprobs` as a count, or null when not asked. */
function resolveSampleLogprobs(request: CompletionRequest, context: PlanContext): number | null {
  const logprobs = request.logprobs ?? null;
  if (logprobs === null) return null;
  if (logprobs < 0) throw requestModelError('`logprobs` must be a positive value.', 'logprobs');
  return resolveLogprobsCount(logprobs, 'sample', 'logprobs', context);
}

/** The engine requests of a completions request; throws BadRequestError for any bad input. */
export function toCompletionPlan(request: CompletionRequest, context: PlanContext): CompletionPlan {
  const stream = resolveStreamMode(request, context.forceIncludeUsage);
  rejectUnsupportedCommon(request);
  rejectUnsupportedCompletion(request);
  const sample = resolveSampleLogprobs(request, context);
  const echo = request.echo === true;
  const prompt = resolvePromptLogprobs(request, stream.stream, context) ?? (echo ? sample : null);
  const infill = resolveInfill(request, context.infill, context.tokenizer);
  const prompts = readPrompts(request, context, infill);
  const requested =
    request.max_tokens === undefined ? DEFAULT_COMPLETION_MAX_TOKENS : request.max_tokens;
  const echoOnly = echo && requested === 0;
  // vLLM answers echo with max_tokens 0 from one generated token.
  const budget = echoOnly ? 1 : requested;
  const n = resolveN(request.n, context.maxN);
  const beamSearch = resolveBeamSearch(request, n, stream.stream);
  if (beamSearch !== null && (request.best_of ?? n) !== n) {
    throw notSupportedYet('best_of', 'other than n together with use_beam_search');
  }
  const bestOf = resolveBestOf(request.best_of, n, stream.stream, context.maxN);
  const structuredOutput = structuredOutputFor(request, beamSearch !== null);
  const truncated = prompts.map(({ tokens }) => {
    const kept = truncatePrompt(tokens, request, {
      maxModelLen: context.maxModelLen,
      maxTokens: budget,
      maxTokensParam: 'max_tokens',
    });
    return infill === null ? kept : infill.layout(kept);
  });
  const requests = truncated.flatMap((promptTokens, i) => {
    checkPromptTokens(promptTokens, context.vocabSize);
    const maxTokens = resolveMaxTokens({
      requested: budget,
      param: 'max_tokens',
      promptTokens: promptTokens.length,
      maxModelLen: context.maxModelLen,
      defaults: context.generationDefaults,
    });
    const params = resolveSamplingParams(request, maxTokens, context.vocabSize, {
      defaults: context.generationDefaults,
      // best_of ranks the samples by their cumulative logprob: score every drawn token.
      logprobs: { sample: bestOf > n ? (sample ?? 0) : sample, prompt },
      structuredOutput,
    });
    // A beam search is one engine request per prompt, answering n beams.
    if (beamSearch !== null) return [{ promptTokens, params, sharesPromptWith: null }];
    return samplesOf(promptTokens, params, bestOf, i * bestOf, bestOf > n ? 'best_of' : 'n');
  });
  const choicePrompts = truncated.flatMap((tokens) => Array<number[]>(bestOf).fill(tokens));
  return {
    requests,
    beamSearch,
    choicesPerPrompt: bestOf,
    answersPerPrompt: n,
    stream,
    logprobs: logprobsPlan(sample, request, context),
    returnTokenIds: request.return_token_ids === true,
    choicePrompts,
    echo: choicePrompts.map((tokens, choice) => {
      if (!echo) return null;
      const prompt = Math.floor(choice / bestOf);
      // vLLM echoes no prompt text when it returns token ids; a truncated prompt echoes its tokens.
      const text =
        request.return_token_ids === true
          ? ''
          : tokens === prompts[prompt]!.tokens
            ? prompts[prompt]!.text()
            : context.tokenizer.detokenize(tokens, { skipSpecial: false });
      return { text, tokens, only: echoOnly };
    }),
  };
}
