/**
 * Beam search's arithmetic (vLLM's `beam_search` over its `BeamSearchSequence`s), pure: how the
 * candidates of every live beam become the next beams and the finished ones.
 *
 * Owns vLLM's rules: each live beam offers its candidates (the token its row drew plus the top
 * 2 x width raw logprobs, each once); a candidate's cumulative logprob is the beam's plus the
 * candidate's raw logprob; a candidate that is the EOS token ends a beam (unless ignore_eos),
 * every other one is a possible next beam; the next beams are the `width` best by score; the
 * score is cumulative logprob / (sequence length ^ length_penalty), the sequence counting the
 * prompt and the generated tokens but not a final EOS. Sorting is stable (beam order, then
 * candidate order), as Python's.
 */
import type { PositionLogprobs } from './engine-types.ts';

/** One beam: its generated tokens and their logprobs. */
export interface Beam {
  readonly tokens: readonly number[];
  readonly cumulativeLogprob: number;
  /** The logprobs at each generated position (the chosen token, its rank and the top ones). */
  readonly logprobs: readonly PositionLogprobs[];
}

/** A live beam's continuation: its parent's index among the live beams and the new beam. */
export interface NextBeam {
  readonly parent: number;
  readonly beam: Beam;
}

/** What the scoring needs beyond the beam. */
export interface BeamScoring {
  readonly promptLength: number;
  readonly lengthPenalty: number;
  /** The EOS token id (null: the model has none), unless ignore_eos. */
  readonly eosToken: number | null;
}

/** vLLM's get_beam_search_score. */
export function beamScore(beam: Beam, scoring: BeamScoring): number {
  let length = scoring.promptLength + beam.tokens.length;
  if (beam.tokens.length > 0 && beam.tokens[beam.tokens.length - 1] === scoring.eosToken) length--;
  return beam.cumulativeLogprob / length ** scoring.lengthPenalty;
}

/** The candidate tokens of one row: the drawn token first, then the top ones, each once. */
export function candidatesOf(position: PositionLogprobs): { token: number; logprob: number }[] {
  const seen = new Set<number>([position.token]);
  const candidates = [{ token: position.token, logprob: position.logprob }];
  for (const entry of position.top) {
    if (seen.has(entry.token)) continue;
    seen.add(entry.token);
    candidates.push(entry);
  }
  return candidates;
}

/** Sorted best first by score, stable. */
function byScore<T>(items: readonly T[], beamOf: (item: T) => Beam, scoring: BeamScoring): T[] {
  return items
    .map((item, order) => ({ item, order, score: beamScore(beamOf(item), scoring) }))
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ item }) => item);
}

/**
 * One step: each live beam's row (its drawn token, raw logprob, rank and top tokens) expands
 * into candidates; returns the next live beams (at most `width`, best first) and the beams
 * that ended with EOS.
 */
export function expandBeams(
  live: readonly Beam[],
  rows: readonly PositionLogprobs[],
  width: number,
  scoring: BeamScoring,
): { next: NextBeam[]; finished: Beam[] } {
  const candidates: NextBeam[] = [];
  const finished: Beam[] = [];
  live.forEach((beam, parent) => {
    const row = rows[parent]!;
    for (const candidate of candidatesOf(row)) {
      const extended: Beam = {
        tokens: [...beam.tokens, candidate.token],
        cumulativeLogprob: beam.cumulativeLogprob + candidate.logprob,
        logprobs: [
          ...beam.logprobs,
          {
            ...row,
            token: candidate.token,
            logprob: candidate.logprob,
            rank: rankIn(row, candidate.token),
          },
        ],
      };
      if (candidate.token === scoring.eosToken) finished.push(extended);
      else candidates.push({ parent, beam: extended });
    }
  });
  return { next: byScore(candidates, (c) => c.beam, scoring).slice(0, width), finished };
}

/** The answer: the `width` best of every beam that ended, best first. */
export function bestBeams(ended: readonly Beam[], width: number, scoring: BeamScoring): Beam[] {
  return byScore(ended, (beam) => beam, scoring).slice(0, width);
}

/** A candidate's rank: its place in the top list, else (the drawn token) the row's rank. */
function rankIn(row: PositionLogprobs, token: number): number {
  const index = row.top.findIndex((entry) => entry.token === token);
  return index >= 0 ? index + 1 : row.rank;
}
