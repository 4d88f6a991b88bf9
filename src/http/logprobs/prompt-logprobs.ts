/**
 * vLLM's `prompt_logprobs` response field: per prompt token null (the first) or a map from token
 * id to `{logprob, rank, decoded_token}` holding the prompt token and the top-k candidates.
 * Keys are token ids, so a JSON object lists them in ascending id order (vLLM's dict keeps its
 * own order; clients read a map either way).
 */
import type { PositionLogprobs } from '../../engine/engine-types.ts';
import type { PromptLogprobEntry, PromptLogprobs } from '../wire-types.ts';
import { candidatesAt, reportedLogprob } from './candidates.ts';
import type { TokenTexts } from './token-texts.ts';

export function promptLogprobsField(
  positions: readonly (PositionLogprobs | null)[],
  texts: TokenTexts,
): PromptLogprobs {
  return positions.map((position) => {
    if (position === null) return null;
    const entries: Record<string, PromptLogprobEntry> = {};
    for (const candidate of candidatesAt(position)) {
      entries[String(candidate.token)] = {
        logprob: reportedLogprob(candidate.logprob),
        rank: candidate.rank,
        decoded_token: texts.decoded(candidate.token),
      };
    }
    return entries;
  });
}
