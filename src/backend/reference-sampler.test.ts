import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Penalties } from './model-backend.ts';
import {
  applyPenalties,
  drawFromDistribution,
  drawLogits,
  logSoftmax,
  rankOf,
  sampleRow,
  samplingDistribution,
  topLogprobs,
  uniformFromSeed,
} from './reference-sampler.ts';

const plain = { temperature: 1, topK: 0, topP: 1, minP: 0, allowedTokens: null, logitBias: null };

/** Penalties on `tokens` with their output counts; neutral parameters unless given. */
function penalties(
  tokens: number[],
  outputCounts: number[],
  parameters: Partial<Pick<Penalties, 'repetition' | 'frequency' | 'presence'>> = {},
): Penalties {
  return {
    tokens: Int32Array.from(tokens),
    outputCounts: Int32Array.from(outputCounts),
    repetition: 1,
    frequency: 0,
    presence: 0,
    ...parameters,
  };
}

/** Logits whose softmax is exactly `probs` (up to rounding). */
const logitsOf = (probs: number[]): Float32Array => Float32Array.from(probs, Math.log);

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance,
      `index ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

describe('reference sampler', () => {
  it('derives the uniform from splitmix64 (published first output for state 0)', () => {
    // splitmix64 with state 0 first returns 0xe220a8397b1dcdaf.
    assert.equal(uniformFromSeed(0n), Number(0xe220a8397b1dcdafn >> 11n) / 2 ** 53);
    assert.notEqual(uniformFromSeed(1n), uniformFromSeed(2n));
  });

  it('computes log-softmax, ranks and top logprobs', () => {
    assertClose(logSoftmax([0, Math.log(3)]), [Math.log(0.25), Math.log(0.75)], 1e-12);
    // vLLM's rank: tokens tied with the most likely one share rank 2 here.
    assert.equal(rankOf([1, 3, 3, 2], 1), 2);
    assert.equal(rankOf([1, 3, 3, 2], 2), 2);
    assert.equal(rankOf([1, 3, 3, 2], 3), 3);
    assert.equal(rankOf([1, 3, 3, 2], 0), 4);
    const top = topLogprobs(logSoftmax([1, 3, 3, 2]), 3);
    assert.deepEqual(
      top.map((t) => t.token),
      [1, 2, 3],
    );
  });

  it('applies temperature', () => {
    const probs = samplingDistribution([0, Math.log(3)], { ...plain, temperature: 0.5 });
    assertClose(probs, [0.1, 0.9]);
  });

  it('is one-hot at the argmax (lowest id on ties) when greedy', () => {
    assertClose(samplingDistribution([1, 5, 5, 2], { ...plain, temperature: 0 }), [0, 1, 0, 0]);
  });

  it('applies min-p relative to the most likely token', () => {
    const probs = samplingDistribution(logitsOf([0.5, 0.3, 0.2]), { ...plain, minP: 0.5 });
    assertClose(probs, [0.625, 0.375, 0]);
  });

  it('keeps the k largest with top-k, including ties with the k-th', () => {
    assertClose(samplingDistribution(logitsOf([0.5, 0.3, 0.2]), { ...plain, topK: 1 }), [1, 0, 0]);
    assertClose(
      samplingDistribution(logitsOf([0.4, 0.3, 0.3]), { ...plain, topK: 2 }),
      [0.4, 0.3, 0.3],
    );
  });

  it("follows vLLM's top-p: drop tokens whose ascending cumulative sum is <= 1 - p", () => {
    assertClose(
      samplingDistribution(logitsOf([0.5, 0.3, 0.2]), { ...plain, topP: 0.8 }),
      [0.625, 0.375, 0],
    );
    assertClose(
      samplingDistribution(logitsOf([0.5, 0.3, 0.2]), { ...plain, topP: 0.4 }),
      [1, 0, 0],
    );
    assertClose(
      samplingDistribution(logitsOf([0.5, 0.3, 0.2]), { ...plain, topP: 1 }),
      [0.5, 0.3, 0.2],
    );
  });

  it('removes masked tokens before everything else', () => {
    const mask = Uint32Array.of(0b101);
    assertClose(
      samplingDistribution(logitsOf([0.5, 0.3, 0.2]), { ...plain, allowedTokens: mask }),
      [0.5 / 0.7, 0, 0.2 / 0.7],
    );
    assertClose(
      samplingDistribution(logitsOf([0.2, 0.5, 0.3]), {
        ...plain,
        temperature: 0,
        allowedTokens: mask,
      }),
      [0, 0, 1],
    );
    assert.throws(() =>
      samplingDistribution([1, 2], { ...plain, allowedTokens: Uint32Array.of(0) }),
    );
  });

  it('draws by inverse CDF in id order', () => {
    // Find seeds on both sides of the 0.25 boundary and check the draw agrees with u.
    const probs = Float64Array.of(0.25, 0, 0.75);
    for (let seed = 0n; seed < 50n; seed++) {
      const expected = uniformFromSeed(seed) < 0.25 ? 0 : 2;
      assert.equal(drawFromDistribution(probs, seed), expected);
    }
  });

  it('adds logit biases (rounded to float32) before the mask and temperature', () => {
    const bias = (tokens: number[], values: number[]) => ({
      tokens: Int32Array.from(tokens),
      values: Float32Array.from(values),
    });
    const ln3 = Math.log(3);
    // [0, ln 3, 0] + ln 3 on token 0 = [ln 3, ln 3, 0]: probabilities 3/7, 3/7, 1/7.
    assertClose(
      samplingDistribution(Float32Array.of(0, ln3, 0), { ...plain, logitBias: bias([0], [ln3]) }),
      [3 / 7, 3 / 7, 1 / 7],
    );
    // [0, 0] + ln 3 on token 1, then temperature 0.5: weights 1 and 9.
    assertClose(
      samplingDistribution([0, 0], { ...plain, temperature: 0.5, logitBias: bias([1], [ln3]) }),
      [0.1, 0.9],
    );
    // -100 bans: e^-100 / (1 + e^-100) is below the tolerance.
    assertClose(samplingDistribution([0, ln3], { ...plain, logitBias: bias([1], [-100]) }), [1, 0]);
    // A masked-out token stays out whatever its bias.
    assertClose(
      samplingDistribution(Float32Array.of(0, ln3, 0), {
        ...plain,
        allowedTokens: Uint32Array.of(0b110),
        logitBias: bias([0], [100]),
      }),
      [0, 0.75, 0.25],
    );
    // Greedy sees the biased logits: [1, 3, 2] + 1 on token 2 ties tokens 1 and 2 (lowest id).
    const greedy = { ...plain, temperature: 0 };
    assertClose(
      samplingDistribution([1, 3, 2], { ...greedy, logitBias: bias([2], [1]) }),
      [0, 1, 0],
    );
    assertClose(
      samplingDistribution([1, 3, 2], { ...greedy, logitBias: bias([0, 1], [2.5, -1]) }),
      [1, 0, 0],
    );
    // Float32 addition: 1 + 2^-30 rounds back to 1, so the bias leaves a tie (lowest id wins).
    assertClose(
      samplingDistribution([1, 1], { ...greedy, logitBias: bias([1], [2 ** -30]) }),
      [1, 0],
    );
    assert.throws(
      () => samplingDistribution([3e38, 0], { ...plain, logitBias: bias([0], [3e38]) }),
      /overflows to \+Infinity/,
    );
  });

  it('scores a biased row on its raw logits', () => {
    const logits = Float32Array.of(0, Math.log(3), -1);
    const row = sampleRow(logits, {
      sampling: {
        ...plain,
        temperature: 0,
        seed: 1n,
        logitBias: { tokens: Int32Array.of(2), values: Float32Array.of(100) },
      },
      topLogprobs: 2,
      targetToken: 0,
      returnLogits: true,
    });
    const z = Math.log(1 + 3 + Math.exp(-1));
    assert.equal(row.token, 2);
    assertClose([row.logprob], [-1 - z]);
    assert.equal(row.rank, 3);
    assert.deepEqual(
      row.top.map((t) => t.token),
      [1, 0],
    );
    assertClose([row.target!.logprob], [-z]);
    assert.deepEqual([...row.logits!], [...logits]);
  });

  it("applies vLLM's repetition penalty: divides positive logits, multiplies the others", () => {
    const logits = Float32Array.of(2, -1, 0.5, 3);
    const twice = penalties([0, 1], [0, 0], { repetition: 2 });
    assert.deepEqual(Array.from(applyPenalties(logits, twice)), [1, -2, 0.5, 3]);
    // -Infinity stays banned; 0 is not positive (0 * 2 = 0).
    assert.deepEqual(
      Array.from(
        applyPenalties(
          Float32Array.of(-Infinity, 0, 4),
          penalties([0, 1, 2], [0, 0, 3], { repetition: 2 }),
        ),
      ),
      [-Infinity, 0, 2],
    );
    // Below 1 the penalty rewards: 2 / 0.5 = 4, -1 * 0.5 = -0.5.
    assert.deepEqual(
      Array.from(applyPenalties(logits, penalties([0, 1], [1, 1], { repetition: 0.5 }))),
      [4, -0.5, 0.5, 3],
    );
  });

  it('subtracts frequency * count and presence for output tokens only', () => {
    const logits = Float32Array.of(2, -1, 0.5, 3);
    // Token 0 is in the prompt only (count 0): untouched by frequency and presence.
    const counted = { repetition: 1, frequency: 0.5, presence: 0.25 };
    // 3 - 0.5 * 2 - 0.25 = 1.75; 0.5 - 0.5 * 1 - 0.25 = -0.25.
    assert.deepEqual(
      Array.from(applyPenalties(logits, penalties([0, 3, 2], [0, 2, 1], counted))),
      [2, -1, -0.25, 1.75],
    );
    // Repetition first: 2 / 2 = 1; 3 / 2 - 1 - 0.25 = 0.25; 0.5 / 2 - 0.5 - 0.25 = -0.5.
    assert.deepEqual(
      Array.from(
        applyPenalties(logits, penalties([0, 3, 2], [0, 2, 1], { ...counted, repetition: 2 })),
      ),
      [1, -1, -0.5, 0.25],
    );
    // Negative frequency and presence raise the logits of repeated tokens.
    assert.deepEqual(
      Array.from(
        applyPenalties(
          logits,
          penalties([1], [3], { repetition: 1, frequency: -1, presence: -0.5 }),
        ),
      ),
      [2, 2.5, 0.5, 3],
    );
  });

  it('rounds every penalty step to float32, with the parameters as float32', () => {
    const third = applyPenalties(Float32Array.of(1), penalties([0], [0], { repetition: 3 }));
    assert.equal(third[0], Math.fround(1 / 3));
    // 1.1 is used as float32 (as the addon receives it): 1 / fround(1.1), rounded.
    const tenth = applyPenalties(Float32Array.of(1), penalties([0], [0], { repetition: 1.1 }));
    assert.equal(tenth[0], Math.fround(1 / Math.fround(1.1)));
    assert.notEqual(tenth[0], Math.fround(1 / 1.1));
    // 1 - 2^-30 is 1 in float32, so a tiny frequency leaves the logit alone...
    const tiny = applyPenalties(
      Float32Array.of(1),
      penalties([0], [1], { repetition: 1, frequency: 2 ** -30, presence: 0 }),
    );
    assert.equal(tiny[0], 1);
    // ...and the two subtractions round separately: 1 - 2^-25 is a tie that rounds to even
    // (1), twice, where one subtraction of their sum 2^-24 would give 1 - 2^-24.
    const split = applyPenalties(
      Float32Array.of(1),
      penalties([0], [1], { repetition: 1, frequency: 2 ** -25, presence: 2 ** -25 }),
    );
    assert.equal(split[0], 1);
    assert.equal(Math.fround(1 - 2 ** -24), 1 - 2 ** -24, 'one subtraction of the sum would not');
    // frequency * count is rounded before the subtraction: 3 * fround(1/3) rounds to 1.
    const third3 = Math.fround(1 / 3);
    const product = applyPenalties(
      Float32Array.of(1),
      penalties([0], [3], { repetition: 1, frequency: third3, presence: 0 }),
    );
    assert.equal(Math.fround(3 * third3), 1);
    assert.equal(product[0], 0);
    assert.notEqual(1 - 3 * third3, 0, 'unrounded, the product would leave a remainder');
  });

  it('applies the penalties after the logit bias and before the mask', () => {
    const logits = Float32Array.of(2, -1, 0.5, 3);
    // Bias +1 on token 0 gives 3, then repetition 2 gives 1.5 (penalty first would give 2).
    const biased = {
      logitBias: { tokens: Int32Array.of(0), values: Float32Array.of(1) },
      penalties: penalties([0], [0], { repetition: 2 }),
    };
    assert.deepEqual(Array.from(drawLogits(logits, biased)), [1.5, -1, 0.5, 3]);
    // No bias and no penalties: the raw logits themselves, not a copy.
    assert.equal(drawLogits(logits, { logitBias: null, penalties: null }), logits);
    assert.equal(drawLogits(logits, { logitBias: null }), logits);
    assert.equal(applyPenalties(logits, penalties([], [])), logits);
    // A masked-out token stays out whatever its penalties reward.
    assertClose(
      samplingDistribution(Float32Array.of(0, Math.log(3), 0), {
        ...plain,
        allowedTokens: Uint32Array.of(0b110),
        penalties: penalties([0], [5], { repetition: 1, frequency: -10, presence: 0 }),
      }),
      [0, 0.75, 0.25],
    );
    // Temperature sees the penalized logits: [ln 3, ln 3] with presence ln 3 on token 0, T 0.5.
    const ln3 = Math.fround(Math.log(3));
    const probs = samplingDistribution(Float32Array.of(ln3, ln3), {
      ...plain,
      temperature: 0.5,
      penalties: penalties([0], [1], { repetition: 1, frequency: 0, presence: ln3 }),
    });
    assertClose(probs, [1 / 10, 9 / 10]);
  });

  it('makes greedy pick another token when a penalty lowers the argmax', () => {
    const logits = Float32Array.of(2, -1, 0.5, 3);
    const greedy = { ...plain, temperature: 0 };
    assertClose(samplingDistribution(logits, greedy), [0, 0, 0, 1]);
    // 3 / 2 = 1.5 < 2: token 0.
    assertClose(
      samplingDistribution(logits, {
        ...greedy,
        penalties: penalties([3], [0], { repetition: 2 }),
      }),
      [1, 0, 0, 0],
    );
    // 3 - 0.4 * 2 - 0.3 = 1.9 < 2: token 0; with counts 1, 3 - 0.4 - 0.3 = 2.3 stays the argmax.
    const mild = { repetition: 1, frequency: 0.4, presence: 0.3 };
    assertClose(
      samplingDistribution(logits, { ...greedy, penalties: penalties([3], [2], mild) }),
      [1, 0, 0, 0],
    );
    assertClose(
      samplingDistribution(logits, { ...greedy, penalties: penalties([3], [1], mild) }),
      [0, 0, 0, 1],
    );
    // A row's result: the penalized draw, the raw scores.
    const row = sampleRow(logits, {
      sampling: { ...greedy, seed: 0n, penalties: penalties([3], [0], { repetition: 2 }) },
      topLogprobs: 1,
      targetToken: 3,
      returnLogits: false,
    });
    const raw = logSoftmax(logits);
    assert.equal(row.token, 0);
    assert.equal(row.logprob, raw[0]);
    assert.equal(row.rank, 2);
    assert.deepEqual(row.top, [{ token: 3, logprob: raw[3] }]);
    assert.deepEqual(row.target, { logprob: raw[3], rank: 1 });
  });

  it('rejects a penalized logit that becomes +Infinity or NaN', () => {
    // 1e30 / 1e-10 overflows float32.
    assert.throws(
      () => applyPenalties(Float32Array.of(1e30), penalties([0], [0], { repetition: 1e-10 })),
      /logits\[0\] with its penalties is Infinity/,
    );
    // -Infinity minus (-3e38 * 2 = -Infinity in float32) is NaN.
    assert.throws(
      () =>
        applyPenalties(
          Float32Array.of(-Infinity),
          penalties([0], [2], { repetition: 1, frequency: -3e38, presence: 0 }),
        ),
      /logits\[0\] with its penalties is NaN/,
    );
  });

  it('scores a row: raw logprobs whatever the sampling settings', () => {
    const logits = Float32Array.of(0, Math.log(3), -1);
    const row = sampleRow(logits, {
      sampling: { ...plain, temperature: 0, seed: 7n },
      topLogprobs: 2,
      targetToken: 2,
      returnLogits: true,
    });
    const expected = logSoftmax(logits);
    assert.equal(row.token, 1);
    assert.equal(row.logprob, expected[1]);
    assert.equal(row.rank, 1);
    assert.deepEqual(
      row.top.map((t) => t.token),
      [1, 0],
    );
    assert.deepEqual(row.target, { logprob: expected[2], rank: 3 });
    assert.deepEqual(row.logits, logits);
  });
});
