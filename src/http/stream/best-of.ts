/**
 * The legacy `best_of`: of the best_of samples drawn for each prompt, answer the n with the
 * highest cumulative logprob (as vLLM did before it removed the parameter).
 *
 * Owns: the ranking (cumulative raw logprob of the generated tokens, descending; ties by sample
 * order), the renumbering of the kept choices (prompt-major, n per prompt) and the usage of the
 * answer (every prompt and its cached tokens once, the completion tokens of the kept choices, as
 * vLLM counted them).
 */
import type { CompletionChoice, CompletionResponse } from '../wire-types.ts';
import type { CompletionStreamState } from './completion-stream.ts';
import { usageOf } from './stream-events.ts';

/** `response` (all samples, `perPrompt` per prompt) reduced to the best `answers` per prompt. */
export function keepBestOf(
  response: CompletionResponse,
  state: CompletionStreamState,
  perPrompt: number,
  answers: number,
): CompletionResponse {
  const byPrompt = new Map<number, CompletionChoice[]>();
  for (const choice of response.choices) {
    const prompt = Math.floor(choice.index / perPrompt);
    byPrompt.set(prompt, [...(byPrompt.get(prompt) ?? []), choice]);
  }
  const choices: CompletionChoice[] = [];
  let completionTokens = 0;
  for (const [prompt, samples] of [...byPrompt].sort(([a], [b]) => a - b)) {
    const best = [...samples]
      .sort(
        (a, b) =>
          state.cumulativeLogprob(b.index) - state.cumulativeLogprob(a.index) || a.index - b.index,
      )
      .slice(0, answers);
    best.forEach((choice, k) => {
      completionTokens += state.completionTokens(choice.index);
      choices.push({ ...choice, index: prompt * answers + k });
    });
  }
  return {
    ...response,
    choices,
    usage: usageOf(
      response.usage.prompt_tokens,
      completionTokens,
      response.usage.prompt_tokens_details?.cached_tokens ?? null,
    ),
  };
}
