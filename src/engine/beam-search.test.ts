import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beamScore, bestBeams, candidatesOf, expandBeams, type Beam } from './beam-search.ts';

const scoring = { promptLength: 3, lengthPenalty: 1, eosToken: 9 };
const start: Beam = { tokens: [], cumulativeLogprob: 0, logprobs: [] };

function row(token: number, logprob: number, top: [number, number][]) {
  return { token, logprob, rank: 1, top: top.map(([t, lp]) => ({ token: t, logprob: lp })) };
}

describe('beam search steps', () => {
  it('scores by cumulative logprob over the length (prompt included, a final EOS not)', () => {
    assert.equal(beamScore({ ...start, tokens: [1, 2], cumulativeLogprob: -2 }, scoring), -2 / 5);
    assert.equal(beamScore({ ...start, tokens: [1, 9], cumulativeLogprob: -2 }, scoring), -2 / 4);
    assert.equal(
      beamScore({ ...start, tokens: [1], cumulativeLogprob: -2 }, { ...scoring, lengthPenalty: 2 }),
      -2 / 16,
    );
  });

  it('lists the drawn token first, then the top tokens, each once', () => {
    assert.deepEqual(
      candidatesOf(
        row(4, -3, [
          [1, -0.5],
          [4, -3],
          [2, -1],
        ]),
      ).map((c) => c.token),
      [4, 1, 2],
    );
  });

  it('keeps the width best continuations, stable on ties, and ends beams on EOS', () => {
    const a: Beam = { tokens: [5], cumulativeLogprob: -1, logprobs: [] };
    const b: Beam = { tokens: [6], cumulativeLogprob: -1.5, logprobs: [] };
    const { next, finished } = expandBeams(
      [a, b],
      [
        row(7, -0.5, [
          [7, -0.5],
          [9, -1],
          [8, -1.5],
        ]),
        row(8, -0.5, [
          [8, -0.5],
          [7, -1],
        ]),
      ],
      2,
      scoring,
    );
    // Candidates: a+7 (-1.5), a+9 ends (-2), a+8 (-2.5), b+8 (-2), b+7 (-2.5).
    assert.deepEqual(
      next.map((n) => [n.parent, n.beam.tokens, n.beam.cumulativeLogprob]),
      [
        [0, [5, 7], -1.5],
        [1, [6, 8], -2],
      ],
    );
    assert.deepEqual(
      finished.map((f) => [f.tokens, f.cumulativeLogprob]),
      [[[5, 9], -2]],
    );
    assert.deepEqual(next[0]!.beam.logprobs[0]!.token, 7);
    // A tie goes to the earlier beam, then the earlier candidate.
    const tie = expandBeams([a, a], [row(1, -1, [[1, -1]]), row(2, -1, [[2, -1]])], 1, scoring);
    assert.deepEqual(tie.next[0]!.beam.tokens, [5, 1]);
  });

  it('answers the best ended beams first', () => {
    const short: Beam = { tokens: [1, 9], cumulativeLogprob: -1, logprobs: [] };
    const long: Beam = { tokens: [1, 2, 3], cumulativeLogprob: -1.2, logprobs: [] };
    // Scores: -1 / 4 = -0.25 and -1.2 / 6 = -0.2: the longer one wins.
    assert.deepEqual(bestBeams([short, long], 1, scoring), [long]);
    assert.deepEqual(bestBeams([short, long], 5, scoring), [long, short]);
  });
});
