/**
 * The completions logprobs format (vLLM's `_create_completion_logprobs`).
 *
 * Owns: per token its name, its raw logprob (null where the position has no logprobs: the first
 * echoed prompt token) and a map of candidate names to logprobs holding the first k + 1
 * candidates (the token itself, then the top k; so k or k + 1 entries), and the text offsets:
 * the first token at `initialOffset`, each next one after the previous token's name, counted
 * in code points. Candidates whose names coincide share one key (the later value wins).
 */
import type { PositionLogprobs } from '../../engine/engine-types.ts';
import type { CompletionLogprobs } from '../wire-types.ts';
import { candidatesAt, reportedLogprob } from './candidates.ts';
import { codePointLength, type TokenTexts } from './token-texts.ts';

/** How a response names and counts its candidates. */
export interface LogprobsFormat {
  /** The request's number of top logprobs. */
  readonly topCount: number;
  readonly texts: TokenTexts;
  /** Name tokens `token_id:<id>`. */
  readonly asIds: boolean;
}

/**
 * The logprobs of `tokens`, whose positions' logprobs are `positions` (same length; null where
 * a position has none).
 */
export function completionLogprobs(
  tokens: readonly number[],
  positions: readonly (PositionLogprobs | null)[],
  format: LogprobsFormat,
  initialOffset: number,
): CompletionLogprobs {
  const result: CompletionLogprobs = {
    text_offset: [],
    token_logprobs: [],
    tokens: [],
    top_logprobs: [],
  };
  let offset = initialOffset;
  for (let i = 0; i < tokens.length; i++) {
    const name = format.texts.name(tokens[i]!, format.asIds);
    const position = positions[i] ?? null;
    result.tokens.push(name);
    result.text_offset.push(offset);
    offset += codePointLength(name);
    if (position === null) {
      result.token_logprobs.push(null);
      result.top_logprobs.push(null);
      continue;
    }
    result.token_logprobs.push(reportedLogprob(position.logprob));
    const top: Record<string, number> = {};
    for (const candidate of candidatesAt(position).slice(0, format.topCount + 1)) {
      top[format.texts.name(candidate.token, format.asIds)] = reportedLogprob(candidate.logprob);
    }
    result.top_logprobs.push(top);
  }
  return result;
}

/**
 * Joins the logprobs of consecutive chunks of one choice into the non-streaming form: the
 * arrays concatenated, the offsets counted again from 0 (a stream's offsets follow the text
 * sent, the whole response's follow the token names).
 */
export function joinCompletionLogprobs(parts: readonly CompletionLogprobs[]): CompletionLogprobs {
  const joined: CompletionLogprobs = {
    text_offset: [],
    token_logprobs: [],
    tokens: [],
    top_logprobs: [],
  };
  let offset = 0;
  for (const part of parts) {
    for (const name of part.tokens) {
      joined.text_offset.push(offset);
      offset += codePointLength(name);
      joined.tokens.push(name);
    }
    joined.token_logprobs.push(...part.token_logprobs);
    joined.top_logprobs.push(...part.top_logprobs);
  }
  return joined;
}
