/**
 * What the generation routes share: the engine, the served names and everything a request is
 * checked against. Built once by `createApp`.
 */
import type { EngineClient } from '../engine/engine-types.ts';
import type { TokenTexts } from './logprobs/token-texts.ts';
import type { ChatPlanContext } from './params/chat-params.ts';
import type { ServedModels } from './served-models.ts';

/** What every model-facing route shares: the served names and the request limits. */
export interface ServingBasics {
  readonly models: ServedModels;
  /** Tokenizer, vocabulary size, max_model_len, logprobs limits, chat template, response role. */
  readonly plan: ChatPlanContext;
  /** Token names of logprobs. */
  readonly texts: TokenTexts;
  /** The `system_fingerprint` of responses. */
  readonly fingerprint: string;
  /** `--enable-prompt-tokens-details`: usage reports prompt_tokens_details.cached_tokens. */
  readonly promptTokensDetails: boolean;
  /** `--max-log-len`: prompt ids logged per request (null = all). */
  readonly maxLogLen: number | null;
}

/** Shared by the completions and chat routes: the basics and the generation engine. */
export interface ServingContext extends ServingBasics {
  readonly engine: EngineClient;
  /** `--max-stream-buffer`: most unsent bytes of a stream before the client is dropped. */
  readonly maxStreamBuffer: number;
}
