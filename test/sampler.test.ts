/**
 * The native sampler against the softmax of real logits (a seeded chi-square bound), against the
 * TypeScript reference sampler (same seeds, same draws), and the fused decode against the
 * standalone sampler (same code path). Logits come from a seeded random model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LlamaBackend } from '../src/backend/llama/llama-backend.ts';
import { loadAddon } from '../src/backend/llama/load-addon.ts';
import type { NativeSamplingSpec } from '../src/backend/llama/native-addon.ts';
import type { RowSampling } from '../src/backend/model-backend.ts';
import { drawFromDistribution, samplingDistribution } from '../src/backend/reference-sampler.ts';
import { GREEDY, loadTestBackend, row, TEST_KERNEL_VARIANT } from './support/models.ts';

const PROMPT = [84, 104, 101, 32, 113, 117, 105, 99, 107, 32];
const DRAWS = 20_000;

type Settings = Omit<RowSampling, 'seed' | 'allowedTokens' | 'logitBias'>;

function spec(rows: number, settings: Settings, firstSeed: bigint): NativeSamplingSpec {
  return {
    sample: new Uint8Array(rows).fill(1),
    temperature: new Float32Array(rows).fill(settings.temperature),
    topK: new Int32Array(rows).fill(settings.topK),
    topP: new Float32Array(rows).fill(settings.topP),
    minP: new Float32Array(rows).fill(settings.minP),
    seeds: BigUint64Array.from({ length: rows }, (_, i) => firstSeed + BigInt(i)),
    topLogprobs: new Int32Array(rows),
    targetTokens: new Int32Array(rows).fill(-1),
    returnLogits: new Uint8Array(rows),
  };
}

/** Draw `DRAWS` tokens from `logits` with the native sampler, seeds 0..DRAWS-1. */
function nativeDraws(logits: Float32Array, settings: Settings): Int32Array {
  const { addon } = loadAddon(TEST_KERNEL_VARIANT);
  const rows = 1000;
  const repeated = new Float32Array(rows * logits.length);
  for (let r = 0; r < rows; r++) repeated.set(logits, r * logits.length);
  const out = new Int32Array(DRAWS);
  for (let start = 0; start < DRAWS; start += rows) {
    const result = addon.sampleLogits(repeated, logits.length, spec(rows, settings, BigInt(start)));
    out.set(result.tokens, start);
  }
  return out;
}

/**
 * Pearson's chi-square of observed counts against probabilities, pooling bins expected below 5,
 * and the Wilson-Hilferty upper quantile for p = 1e-6 at those degrees of freedom.
 */
function chiSquare(
  draws: Int32Array,
  probs: Float64Array,
): { statistic: number; bound: number; outside: number } {
  const counts = new Float64Array(probs.length);
  let outside = 0;
  for (const t of draws) {
    counts[t]!++;
    if (probs[t]! === 0) outside++;
  }
  let statistic = 0;
  let bins = 0;
  let pooledObserved = 0;
  let pooledExpected = 0;
  for (let i = 0; i < probs.length; i++) {
    const expected = probs[i]! * draws.length;
    if (expected === 0) continue;
    if (expected < 5) {
      pooledObserved += counts[i]!;
      pooledExpected += expected;
      continue;
    }
    statistic += (counts[i]! - expected) ** 2 / expected;
    bins++;
  }
  if (pooledExpected > 0) {
    statistic += (pooledObserved - pooledExpected) ** 2 / pooledExpected;
    bins++;
  }
  const df = bins - 1;
  const z = 4.753; // one-sided 1e-6
  const bound = df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
  return { statistic, bound, outside };
}

const SETTINGS: Record<string, Settings> = {
  'temperature 1': { temperature: 1, topK: 0, topP: 1, minP: 0 },
  'temperature 0.7, top-k 40': { temperature: 0.7, topK: 40, topP: 1, minP: 0 },
  'temperature 1.3, top-p 0.9': { temperature: 1.3, topK: 0, topP: 0.9, minP: 0 },
  'temperature 3, min-p 0.05, top-k 100, top-p 0.9': {
    temperature: 3,
    topK: 100,
    topP: 0.9,
    minP: 0.05,
  },
};

describe('native sampler', () => {
  let backend: LlamaBackend;
  let logits: Float32Array;
  before(async () => {
    backend = await loadTestBackend({ preset: 'random-tiny-f32' });
    const result = await backend.decode({
      chunks: [
        {
          sequenceId: 0,
          startPosition: 0,
          tokens: PROMPT,
          rows: [row(PROMPT.length - 1, { returnLogits: true })],
        },
      ],
    });
    logits = result.rows[0]!.logits!;
  });
  after(() => backend.dispose());

  for (const [name, settings] of Object.entries(SETTINGS)) {
    it(`matches the distribution's frequencies (${name})`, () => {
      const probs = samplingDistribution(logits, {
        ...settings,
        allowedTokens: null,
        logitBias: null,
      });
      const kept = probs.filter((p) => p > 0).length;
      assert.ok(kept >= 20, `the test needs a spread distribution, kept ${kept}`);
      const draws = nativeDraws(logits, settings);
      const fit = chiSquare(draws, probs);
      assert.equal(fit.outside, 0, 'drew a token the filters removed');
      assert.ok(fit.statistic < fit.bound, `chi-square ${fit.statistic} >= ${fit.bound}`);
    });
  }

  it('matches a distribution worked out here for bias, penalties and a mask together', () => {
    // Computed in the test from the raw logits, in vLLM's order: bias, repetition (divide a
    // positive logit, multiply a negative one), frequency * count, presence, the mask, then
    // softmax at temperature 0.8.
    const vocab = logits.length;
    const byLogit = Array.from({ length: vocab }, (_, t) => t).sort(
      (a, b) => logits[b]! - logits[a]!,
    );
    const [top1, top2, top3, top4] = byLogit as [number, number, number, number];
    const low = byLogit[vocab - 1]!;
    const bias = new Map([
      [top2, 1.5],
      [low, 6],
    ]);
    const penalized = new Map([
      [top1, 2],
      [top3, 0],
      [low, 1],
    ]); // token -> output count
    const [repetition, frequency, presence] = [1.7, 0.4, 0.6];
    const banned = new Set([top4]);
    const adjusted = Array.from(logits, (logit, t) => {
      let x = logit + (bias.get(t) ?? 0);
      const count = penalized.get(t);
      if (count !== undefined) {
        x = x > 0 ? x / repetition : x * repetition;
        if (count > 0) x -= frequency * count + presence;
      }
      return banned.has(t) ? -Infinity : x / 0.8;
    });
    const max = Math.max(...adjusted);
    const weights = adjusted.map((x) => Math.exp(x - max));
    const total = weights.reduce((a, b) => a + b, 0);
    const probs = Float64Array.from(weights, (w) => w / total);

    const rows = 1000;
    const mask = new Uint32Array(Math.ceil(vocab / 32)).fill(0xffffffff);
    mask[top4 >> 5]! &= ~(1 << (top4 & 31));
    const repeated = new Float32Array(rows * vocab);
    for (let r = 0; r < rows; r++) repeated.set(logits, r * vocab);
    const { addon } = loadAddon(TEST_KERNEL_VARIANT);
    const draws = new Int32Array(DRAWS);
    const settings = { temperature: 0.8, topK: 0, topP: 1, minP: 0 };
    for (let start = 0; start < DRAWS; start += rows) {
      const perRow = <T>(values: readonly T[]): T[] =>
        Array.from({ length: rows }, () => values).flat();
      const result = addon.sampleLogits(repeated, vocab, {
        ...spec(rows, settings, BigInt(start)),
        allowedMasks: mask,
        maskIndex: new Int32Array(rows),
        biasOffsets: Int32Array.from({ length: rows + 1 }, (_, r) => r * bias.size),
        biasTokens: Int32Array.from(perRow([...bias.keys()])),
        biasValues: Float32Array.from(perRow([...bias.values()])),
        penaltyOffsets: Int32Array.from({ length: rows + 1 }, (_, r) => r * penalized.size),
        penaltyTokens: Int32Array.from(perRow([...penalized.keys()])),
        penaltyCounts: Int32Array.from(perRow([...penalized.values()])),
        repetitionPenalties: new Float32Array(rows).fill(repetition),
        frequencyPenalties: new Float32Array(rows).fill(frequency),
        presencePenalties: new Float32Array(rows).fill(presence),
      });
      draws.set(result.tokens, start);
    }
    const fit = chiSquare(draws, probs);
    assert.equal(fit.outside, 0, 'drew the masked token');
    assert.ok(fit.statistic < fit.bound, `chi-square ${fit.statistic} >= ${fit.bound}`);
    // The adjustments matter: the raw softmax at the same temperature is rejected.
    const raw = samplingDistribution(logits, { ...settings, allowedTokens: null, logitBias: null });
    assert.ok(chiSquare(draws, raw).statistic > fit.bound, 'indistinguishable from the raw logits');
  });

  it('has the power to reject a wrong distribution', () => {
    const settings = SETTINGS['temperature 1']!;
    const draws = nativeDraws(logits, settings);
    const wrong = samplingDistribution(logits, {
      ...settings,
      temperature: 1.15,
      allowedTokens: null,
      logitBias: null,
    });
    const fit = chiSquare(draws, wrong);
    assert.ok(fit.statistic > fit.bound, `chi-square ${fit.statistic} should exceed ${fit.bound}`);
  });

  it('draws the same tokens as the reference sampler for the same seeds', () => {
    for (const settings of Object.values(SETTINGS)) {
      const draws = nativeDraws(logits, settings);
      const probs = samplingDistribution(logits, {
        ...settings,
        allowedTokens: null,
        logitBias: null,
      });
      for (let seed = 0; seed < 2000; seed++) {
        assert.equal(draws[seed], drawFromDistribution(probs, BigInt(seed)), `seed ${seed}`);
      }
    }
  });

  it('fused decode sampling equals standalone sampling of the same logits', async () => {
    const settings = SETTINGS['temperature 3, min-p 0.05, top-k 100, top-p 0.9']!;
    const expected = nativeDraws(logits, settings);
    for (let seed = 0; seed < 8; seed++) {
      backend.kv.remove(1, 0, null);
      const result = await backend.decode({
        chunks: [
          {
            sequenceId: 1,
            startPosition: 0,
            tokens: PROMPT,
            rows: [
              row(PROMPT.length - 1, {
                sampling: { ...settings, seed: BigInt(seed), allowedTokens: null, logitBias: null },
              }),
            ],
          },
        ],
      });
      assert.equal(result.rows[0]!.token, expected[seed]);
    }
  });

  it('draws only allowed tokens, and the same token whatever else is in the batch', async () => {
    const vocab = logits.length;
    const mask = new Uint32Array(Math.ceil(vocab / 32));
    const allowed = [3, 97, 98, 200];
    for (const t of allowed) mask[t >> 5]! |= 1 << (t & 31);
    const sampling = {
      temperature: 1,
      topK: 0,
      topP: 1,
      minP: 0,
      seed: 42n,
      allowedTokens: mask,
      logitBias: null,
    };
    const alone = await backend.decode({
      chunks: [
        {
          sequenceId: 2,
          startPosition: 0,
          tokens: PROMPT,
          rows: [row(PROMPT.length - 1, { sampling })],
        },
      ],
    });
    backend.kv.remove(2, 0, null);
    const crowded = await backend.decode({
      chunks: [
        {
          sequenceId: 3,
          startPosition: 0,
          tokens: [5, 6, 7],
          rows: [row(2, { sampling: { ...sampling, seed: 7n } })],
        },
        {
          sequenceId: 2,
          startPosition: 0,
          tokens: PROMPT,
          rows: [row(PROMPT.length - 1, { sampling })],
        },
      ],
    });
    assert.ok(allowed.includes(alone.rows[0]!.token!));
    assert.equal(crowded.rows[1]!.token, alone.rows[0]!.token);
    const probs = samplingDistribution(logits, sampling);
    assert.equal(alone.rows[0]!.token, drawFromDistribution(probs, 42n));
  });
});

describe('logit bias checks across steps', () => {
  it('checks a bias once in JS, and the addon still rejects it if it changes later', async () => {
    const backend = await loadTestBackend({ preset: 'successor', weightType: 'f32' });
    try {
      const bias = { tokens: Int32Array.of(5), values: Float32Array.of(100) };
      const sampling: RowSampling = { ...GREEDY, logitBias: bias };
      const step = (position: number) =>
        backend.decode({
          chunks: [
            { sequenceId: 0, startPosition: position, tokens: [97], rows: [row(0, { sampling })] },
          ],
        });
      assert.equal((await step(0)).rows[0]!.token, 5, 'the bias of +100 picks token 5');
      bias.tokens[0] = backend.info.vocabSize; // out of range after the JS check passed
      await assert.rejects(step(1), /biasTokens\[0\] must be in \[0, 259\), got 259/);
    } finally {
      await backend.dispose();
    }
  });
});
