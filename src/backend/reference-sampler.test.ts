import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  drawFromDistribution,
  logSoftmax,
  rankOf,
  sampleRow,
  samplingDistribution,
  topLogprobs,
  uniformFromSeed,
} from './reference-sampler.ts';

const plain = { temperature: 1, topK: 0, topP: 1, minP: 0, allowedTokens: null, logitBias: null };

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
