/**
 * The chat logprobs format (OpenAI's `logprobs.content`, vLLM's `_create_chat_logprobs`).
 *
 * Owns: per generated token its name, raw logprob and bytes (of its decoded text), and its
 * `top_logprobs`: the first k candidates of the position in vLLM's order (the token itself
 * first, then the top tokens), each with its name, logprob and the bytes of that name.
 */
import type { PositionLogprobs } from '../../engine/engine-types.ts';
import type { ChatTokenLogprob } from '../wire-types.ts';
import { candidatesAt, LOGPROB_FLOOR, reportedLogprob } from './candidates.ts';
import type { LogprobsFormat } from './completion-logprobs.ts';
import { utf8Bytes } from './token-texts.ts';

/** The `content` entries of `tokens` (positions as in completionLogprobs). */
export function chatLogprobContent(
  tokens: readonly number[],
  positions: readonly (PositionLogprobs | null)[],
  format: LogprobsFormat,
): ChatTokenLogprob[] {
  return tokens.map((token, i): ChatTokenLogprob => {
    const name = format.texts.name(token, format.asIds);
    const position = positions[i] ?? null;
    if (position === null) {
      return { token: name, logprob: LOGPROB_FLOOR, bytes: utf8Bytes(name), top_logprobs: [] };
    }
    return {
      token: name,
      logprob: reportedLogprob(position.logprob),
      bytes: utf8Bytes(format.texts.decoded(token)),
      top_logprobs: candidatesAt(position)
        .slice(0, format.topCount)
        .map((candidate) => {
          const candidateName = format.texts.name(candidate.token, format.asIds);
          return {
            token: candidateName,
            logprob: reportedLogprob(candidate.logprob),
            bytes: utf8Bytes(candidateName),
          };
        }),
    };
  });
}
