import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { params } from './engine-test-fixtures.ts';
import { SamplingConstraints } from './sampling-constraints.ts';

const MODEL = { vocabSize: 70, endOfGenerationTokens: [64, 66] };

/** The token ids a mask allows. */
function allowed(mask: Uint32Array | null): number[] | null {
  if (mask === null) return null;
  const ids: number[] = [];
  for (let t = 0; t < MODEL.vocabSize; t++) if ((mask[t >>> 5]! >>> (t & 31)) & 1) ids.push(t);
  return ids;
}

const ALL = Array.from({ length: MODEL.vocabSize }, (_, t) => t);

describe('SamplingConstraints', () => {
  it('is not built for a request that asks for none', () => {
    assert.equal(SamplingConstraints.isNone(params()), true);
    assert.equal(SamplingConstraints.isNone(params({ minTokens: 1 })), false);
    assert.equal(SamplingConstraints.isNone(params({ repetitionPenalty: 1.1 })), false);
  });

  it('masks end-of-generation and stop tokens until min_tokens, within allowed_token_ids', () => {
    const c = new SamplingConstraints(
      params({ minTokens: 2, stopTokenIds: [5], allowedTokenIds: [1, 5, 64, 65] }),
      [1, 2],
      MODEL,
    );
    assert.deepEqual(allowed(c.mask([])), [1, 65]);
    assert.deepEqual(allowed(c.mask([1])), [1, 65]);
    assert.deepEqual(allowed(c.mask([1, 1])), [1, 5, 64, 65], 'from token 3 on: allowed only');
    const ignoring = new SamplingConstraints(
      params({ minTokens: 1, ignoreEos: true, stopTokenIds: [5] }),
      [1],
      MODEL,
    );
    assert.deepEqual(
      allowed(ignoring.mask([])),
      ALL.filter((t) => t !== 5),
      'ignore_eos keeps EOS',
    );
    assert.equal(ignoring.mask([3]), null);
  });

  it("bans a bad word's last token when the output ends with the rest of it", () => {
    const c = new SamplingConstraints(params({ badWords: [[7], [3, 4, 9]] }), [3, 4], MODEL);
    const without = (...banned: number[]) => ALL.filter((t) => !banned.includes(t));
    assert.deepEqual(allowed(c.mask([])), without(7), 'the prompt does not count');
    assert.deepEqual(allowed(c.mask([3, 4])), without(7, 9));
    assert.deepEqual(allowed(c.mask([1, 3, 4])), without(7, 9));
    assert.deepEqual(allowed(c.mask([3, 4, 1])), without(7));
  });

  it('lists every prompt and output token with its output count for the penalties', () => {
    const c = new SamplingConstraints(
      params({ presencePenalty: 0.5, frequencyPenalty: 0.25, repetitionPenalty: 1.5 }),
      [4, 2, 4],
      MODEL,
    );
    const first = c.penalties([]);
    assert.deepEqual([...first!.tokens], [4, 2]);
    assert.deepEqual([...first!.outputCounts], [0, 0]);
    const later = c.penalties([2, 9, 2]);
    assert.deepEqual([...later!.tokens], [4, 2, 9]);
    assert.deepEqual([...later!.outputCounts], [0, 2, 1]);
    assert.deepEqual([later!.repetition, later!.frequency, later!.presence], [1.5, 0.25, 0.5]);
    assert.deepEqual(
      [...c.penalties([2, 9, 2, 4])!.outputCounts],
      [1, 2, 1],
      'counts only new tokens',
    );
    assert.equal(new SamplingConstraints(params({ minTokens: 1 }), [1], MODEL).penalties([]), null);
  });
});
