/**
 * The native sampler against its definition, the TypeScript reference sampler, on synthetic
 * seeded logits (no model).
 *
 * Proves that for every row the addon's `sampleLogits` and the reference's `sampleRow` agree
 * exactly: the same drawn token, the same float32 bits of its raw logprob, the same rank, the same
 * top-N tokens and float32 logprobs, and the same target-token logprob and rank. The grid covers
 * vocabularies of 7, 259, 2,000 and 32,000 tokens; narrow and wide logit spreads, ties, -Infinity
 * entries and allowed-token masks; greedy and sampled temperatures, top-k (1 and above the
 * vocabulary included), top-p, min-p and their combinations; top-N counts 0..20 and target tokens.
 * Crafted cases put a top-p cut exactly on a cumulative-probability boundary and top-k, min-p and
 * greedy decisions on ties, where rounding or tie order would show, including top-p boundaries
 * that are exact only in real arithmetic (n equal tokens, n not a power of 2). A quarter of the
 * grid rows carry logit biases (+-100, bans and small random values): they change the draw only,
 * so the logprobs, ranks, top-N and targets both samplers report stay those of the raw logits.
 * Independently, a third of the grid rows carry vLLM's penalties (repetition, frequency and
 * presence over up to 300 distinct tokens with output counts, parameters not exact in float32),
 * so they meet biases, masks, greedy and sampled settings; crafted cases make greedy decisions
 * hinge on the penalties' order of operations and on the float32 rounding of each step.
 *
 * The reference gets the parameters exactly as the addon sees them: rounded to float32.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAddon } from '../src/backend/llama/load-addon.ts';
import { TEST_KERNEL_VARIANT } from './support/models.ts';
import type { NativeDecodeResult, NativeSamplingSpec } from '../src/backend/llama/native-addon.ts';
import type { LogitBias, Penalties, RowSampling } from '../src/backend/model-backend.ts';
import {
  sampleRow,
  samplingDistribution,
  uniformFromSeed,
} from '../src/backend/reference-sampler.ts';

/** One row to sample with both samplers. */
interface Case {
  /** Says where the row comes from, for failure messages. */
  readonly name: string;
  readonly logits: Float32Array;
  readonly sampling: RowSampling;
  readonly topLogprobs: number;
  readonly targetToken: number | null;
}

type Settings = Omit<RowSampling, 'seed'>;

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** A uniform number generator in [0, 1). */
type Random = () => number;

/** mulberry32: a small, fast, seeded 32-bit generator. */
function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomInt(random: Random, below: number): number {
  return Math.floor(random() * below);
}

/** A standard normal number (Box-Muller). */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A full 64-bit draw seed. */
function randomSeed(random: Random): bigint {
  const high = BigInt(randomInt(random, 2 ** 32));
  const low = BigInt(randomInt(random, 2 ** 32));
  return (high << 32n) | low;
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Synthetic rows

/** How a row's logits are drawn. */
const LOGIT_SHAPES = {
  'narrow spread': (random: Random, vocab: number) => gaussians(random, vocab, 0.5),
  'wide spread': (random: Random, vocab: number) => gaussians(random, vocab, 6),
  // Integers from a normal of sigma 1.5: a few distinct values, each shared by many tokens.
  ties: (random: Random, vocab: number) =>
    Float32Array.from({ length: vocab }, () => Math.round(gaussian(random) * 1.5)),
  '-Infinity entries': (random: Random, vocab: number) => {
    const logits = gaussians(random, vocab, 2);
    for (let t = 0; t < vocab; t++) if (random() < 0.25) logits[t] = -Infinity;
    logits[randomInt(random, vocab)] = gaussian(random);
    return logits;
  },
} satisfies Record<string, (random: Random, vocab: number) => Float32Array>;

type LogitShape = keyof typeof LOGIT_SHAPES;

function gaussians(random: Random, vocab: number, sigma: number): Float32Array {
  return Float32Array.from({ length: vocab }, () => gaussian(random) * sigma);
}

type MaskKind = 'no mask' | 'half allowed' | 'three allowed';

function maskWords(vocab: number): number {
  return Math.ceil(vocab / 32);
}

function allow(mask: Uint32Array, token: number): void {
  mask[token >>> 5]! |= 1 << (token & 31);
}

/** A mask of the given kind that allows at least one token with a finite logit. */
function randomMask(random: Random, logits: Float32Array, kind: MaskKind): Uint32Array | null {
  if (kind === 'no mask') return null;
  const vocab = logits.length;
  const mask = new Uint32Array(maskWords(vocab));
  if (kind === 'half allowed') {
    // Whole random words: bits past the vocabulary are set too, and both samplers ignore them.
    for (let w = 0; w < mask.length; w++) mask[w] = randomInt(random, 2 ** 32);
  } else {
    for (let i = 0; i < 3; i++) allow(mask, randomInt(random, vocab));
  }
  let finite = randomInt(random, vocab);
  while (logits[finite] === -Infinity) finite = (finite + 1) % vocab;
  allow(mask, finite);
  return mask;
}

/**
 * Biases for one row, or null for three rows in four: 1 to 8 distinct tokens, each +100 (forced
 * in), -100 (a ban), or a random value of a few logits either way.
 */
function randomBias(random: Random, vocab: number): LogitBias | null {
  if (random() < 0.75) return null;
  const count = Math.min(vocab, 1 + randomInt(random, 8));
  const tokens = shuffle(range(vocab), random).slice(0, count);
  const values = tokens.map(() => {
    const kind = random();
    if (kind < 0.2) return 100;
    if (kind < 0.5) return -100;
    return gaussian(random) * 3;
  });
  return { tokens: Int32Array.from(tokens), values: Float32Array.from(values) };
}

/**
 * Penalties for one row, or null for two rows in three: 1 to 300 distinct tokens (at most the
 * vocabulary), each with an output count of 0 (prompt only) to 5, and parameters that are not
 * exact in float32 (the reference rounds them as the addon's Float32Arrays do), each disabled
 * now and then.
 */
function randomPenalties(random: Random, vocab: number): Penalties | null {
  if (random() < 2 / 3) return null;
  const count = Math.min(vocab, 1 + randomInt(random, 300));
  const tokens = shuffle(range(vocab), random).slice(0, count);
  const pick = (values: readonly number[]) => values[randomInt(random, values.length)]!;
  return {
    tokens: Int32Array.from(tokens),
    outputCounts: Int32Array.from(tokens, () => (random() < 0.4 ? 0 : 1 + randomInt(random, 5))),
    repetition: pick([1, 1.1, 1.3, 2, 0.8, 1 + random()]),
    frequency: pick([0, 0.1, -0.3, 1.7, (random() - 0.5) * 4]),
    presence: pick([0, 0.2, -1.1, 2, (random() - 0.5) * 4]),
  };
}

/** Sampling settings as the addon receives them (float32 arrays). */
function float32Settings(
  temperature: number,
  topK: number,
  topP: number,
  minP: number,
  allowedTokens: Uint32Array | null = null,
  logitBias: LogitBias | null = null,
): Settings {
  return {
    temperature: Math.fround(temperature),
    topK,
    topP: Math.fround(topP),
    minP: Math.fround(minP),
    allowedTokens,
    logitBias,
  };
}

// Below 1e-5 is greedy, so 1e-6 must behave like 0.
const TEMPERATURES = [0, 1e-6, 0.5, 1, 1.3];
const TOP_PS = [1, 0.95, 0.5, 0.1];
const MIN_PS = [0, 0.05];
const MASK_KINDS: readonly MaskKind[] = ['no mask', 'half allowed', 'three allowed'];

/**
 * Top-k values: 1, a heap-scan k (<= 64), histogram-select k's (> 64), one above the 256
 * candidates the native top-p sorts directly, and vocab + 1 (disabled, as >= vocab is).
 */
function topKs(vocab: number): number[] {
  return [0, 1, 5, 50, 100, 300, vocab + 1];
}

interface GridPoint {
  readonly shape: LogitShape;
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly mask: MaskKind;
}

/** Every combination of shape and settings for one vocabulary size. */
function gridPoints(vocab: number): GridPoint[] {
  const points: GridPoint[] = [];
  for (const shape of Object.keys(LOGIT_SHAPES) as LogitShape[])
    for (const temperature of TEMPERATURES)
      for (const topK of topKs(vocab))
        for (const topP of TOP_PS)
          for (const minP of MIN_PS)
            for (const mask of MASK_KINDS)
              points.push({ shape, temperature, topK, topP, minP, mask });
  return points;
}

/**
 * `rows` cases for one vocabulary size: the grid in a seeded random order (cycled if `rows` is
 * larger), each with fresh logits, a fresh seed, top-N count `row % 21` and a target token on
 * two rows in three.
 */
function gridCases(vocab: number, rows: number, random: Random): Case[] {
  const points = shuffle(gridPoints(vocab), random);
  // Its own generator: the rest of each case is what it was before penalties existed.
  const penaltyRandom = seededRandom(vocab * 31 + rows);
  return Array.from({ length: rows }, (_, row) => {
    const point = points[row % points.length]!;
    const logits = LOGIT_SHAPES[point.shape](random, vocab);
    const allowed = randomMask(random, logits, point.mask);
    const bias = randomBias(random, vocab);
    const settings = float32Settings(
      point.temperature,
      point.topK,
      point.topP,
      point.minP,
      allowed,
      bias,
    );
    const seed = randomSeed(random);
    const penalties = randomPenalties(penaltyRandom, vocab);
    const biasName = bias === null ? 'no bias' : `${bias.tokens.length} biases`;
    const penaltyName =
      penalties === null
        ? 'no penalties'
        : `${penalties.tokens.length} penalized (repetition ${penalties.repetition}, ` +
          `frequency ${penalties.frequency}, presence ${penalties.presence})`;
    return {
      name:
        `vocab ${vocab}, ${point.shape}, temperature ${point.temperature}, top-k ${point.topK}, ` +
        `top-p ${point.topP}, min-p ${point.minP}, ${point.mask}, ${biasName}, ` +
        `${penaltyName}, seed ${seed}`,
      logits,
      sampling: { ...settings, penalties, seed },
      topLogprobs: Math.min(row % 21, vocab),
      targetToken: random() < 1 / 3 ? null : randomInt(random, vocab),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Running both samplers

/**
 * One `sampleLogits` call over `cases`, which share one vocabulary size. `scoreSampled` false
 * asks for no score of the drawn tokens.
 */
function sampleNative(cases: readonly Case[], scoreSampled = true): NativeDecodeResult {
  const vocab = cases[0]!.logits.length;
  const logits = new Float32Array(cases.length * vocab);
  cases.forEach((c, row) => logits.set(c.logits, row * vocab));
  const masks: Uint32Array[] = [];
  const maskIndex = Int32Array.from(cases, ({ sampling }) => {
    if (sampling.allowedTokens === null) return -1;
    masks.push(sampling.allowedTokens);
    return masks.length - 1;
  });
  const words = maskWords(vocab);
  const allowedMasks = new Uint32Array(masks.length * words);
  masks.forEach((mask, index) => allowedMasks.set(mask, index * words));
  const biases = cases.map(({ sampling }) => sampling.logitBias);
  const biasOffsets = new Int32Array(cases.length + 1);
  biases.forEach((bias, row) => {
    biasOffsets[row + 1] = biasOffsets[row]! + (bias?.tokens.length ?? 0);
  });
  const biasTokens = new Int32Array(biasOffsets[cases.length]!);
  const biasValues = new Float32Array(biasTokens.length);
  biases.forEach((bias, row) => {
    if (bias === null) return;
    biasTokens.set(bias.tokens, biasOffsets[row]);
    biasValues.set(bias.values, biasOffsets[row]);
  });
  const spec: NativeSamplingSpec = {
    ...packPenalties(cases),
    sample: new Uint8Array(cases.length).fill(1),
    temperature: Float32Array.from(cases, (c) => c.sampling.temperature),
    topK: Int32Array.from(cases, (c) => c.sampling.topK),
    topP: Float32Array.from(cases, (c) => c.sampling.topP),
    minP: Float32Array.from(cases, (c) => c.sampling.minP),
    seeds: BigUint64Array.from(cases, (c) => c.sampling.seed),
    topLogprobs: Int32Array.from(cases, (c) => c.topLogprobs),
    targetTokens: Int32Array.from(cases, (c) => c.targetToken ?? -1),
    returnLogits: new Uint8Array(cases.length),
    ...(scoreSampled ? {} : { scoreSampled: new Uint8Array(cases.length) }),
    allowedMasks,
    maskIndex,
    ...(biasTokens.length > 0 ? { biasOffsets, biasTokens, biasValues } : {}),
  };
  return loadAddon(TEST_KERNEL_VARIANT).addon.sampleLogits(logits, vocab, spec);
}

/** The spec's penalty arrays for `cases`; none when no case has a penalized token. */
function packPenalties(cases: readonly Case[]): Partial<NativeSamplingSpec> {
  const all = cases.map(({ sampling }) => sampling.penalties ?? null);
  const penaltyOffsets = new Int32Array(cases.length + 1);
  all.forEach((penalties, row) => {
    penaltyOffsets[row + 1] = penaltyOffsets[row]! + (penalties?.tokens.length ?? 0);
  });
  if (penaltyOffsets[cases.length] === 0) return {};
  const penaltyTokens = new Int32Array(penaltyOffsets[cases.length]!);
  const penaltyCounts = new Int32Array(penaltyTokens.length);
  all.forEach((penalties, row) => {
    if (penalties === null) return;
    penaltyTokens.set(penalties.tokens, penaltyOffsets[row]);
    penaltyCounts.set(penalties.outputCounts, penaltyOffsets[row]);
  });
  return {
    penaltyOffsets,
    penaltyTokens,
    penaltyCounts,
    repetitionPenalties: Float32Array.from(all, (p) => p?.repetition ?? 1),
    frequencyPenalties: Float32Array.from(all, (p) => p?.frequency ?? 0),
    presencePenalties: Float32Array.from(all, (p) => p?.presence ?? 0),
  };
}

/**
 * Asserts that row `row` of the native result is exactly what the reference computes. Strict
 * assert compares numbers with Object.is, so float32 values must match bit for bit.
 */
function assertRowMatches(result: NativeDecodeResult, row: number, c: Case): void {
  const expected = sampleRow(c.logits, {
    sampling: c.sampling,
    topLogprobs: c.topLogprobs,
    targetToken: c.targetToken,
    returnLogits: false,
  });
  const token = result.tokens[row]!;
  if (token !== expected.token) {
    const probability = samplingDistribution(c.logits, c.sampling)[token];
    assert.fail(
      `${c.name}: native drew ${token}, reference ${expected.token} ` +
        `(reference probability of the native token: ${probability})`,
    );
  }
  assert.equal(result.logprobs[row], Math.fround(expected.logprob), `${c.name}: logprob`);
  assert.equal(result.ranks[row], expected.rank, `${c.name}: rank`);

  const top = result.topCount * row;
  assert.deepEqual(
    Array.from(result.topTokens.subarray(top, top + c.topLogprobs)),
    expected.top.map((entry) => entry.token),
    `${c.name}: top tokens`,
  );
  assert.deepEqual(
    Array.from(result.topLogprobs.subarray(top, top + c.topLogprobs)),
    expected.top.map((entry) => Math.fround(entry.logprob)),
    `${c.name}: top logprobs`,
  );

  const target = expected.target ?? { logprob: NaN, rank: 0 };
  assert.equal(
    result.targetLogprobs[row],
    Math.fround(target.logprob),
    `${c.name}: target logprob`,
  );
  assert.equal(result.targetRanks[row], target.rank, `${c.name}: target rank`);
}

function assertSamplersAgree(cases: readonly Case[]): void {
  const result = sampleNative(cases);
  cases.forEach((c, row) => assertRowMatches(result, row, c));
}

// ---------------------------------------------------------------------------------------------
// Crafted cases

/**
 * Seeds whose uniform is above 1 - 2^-20. Kept tokens are drawn in id order, so these draw the
 * last kept token: on equal logits, exactly the token a top-p cut decides about.
 */
const SEEDS_NEAR_ONE = [1_009_366n, 1_281_032n, 2_866_022n, 3_747_935n];
const BOUNDARY_SEEDS = [...Array.from({ length: 16 }, (_, i) => BigInt(i)), ...SEEDS_NEAR_ONE];

interface BoundaryCase {
  readonly name: string;
  readonly logits: Float32Array;
  readonly settings: Settings;
  /** How many tokens the exact rule keeps: proves the case sits on the boundary it names. */
  readonly kept: number;
}

/** `vocab` logits: 0 for `tokens`, -Infinity for the others. */
function zerosAmongInfinite(vocab: number, tokens: readonly number[]): Float32Array {
  const logits = new Float32Array(vocab).fill(-Infinity);
  for (const t of tokens) logits[t] = 0;
  return logits;
}

/**
 * `vocab` logits: 0 for `tokens`, seeded normal values around `mean` for the others (which a
 * mask then removes from the draw, but not from the raw logprobs and the top-N).
 */
function zerosAmongRandom(vocab: number, tokens: readonly number[], mean: number): Float32Array {
  const random = seededRandom(vocab);
  const logits = Float32Array.from({ length: vocab }, () => mean + gaussian(random));
  for (const t of tokens) logits[t] = 0;
  return logits;
}

function maskOf(vocab: number, tokens: readonly number[]): Uint32Array {
  const mask = new Uint32Array(maskWords(vocab));
  for (const t of tokens) allow(mask, t);
  return mask;
}

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

const range = (count: number, step = 1): number[] =>
  Array.from({ length: count }, (_, i) => i * step);

/**
 * Decisions that fall exactly on a boundary. The top-p cases keep 2^n equal tokens (the others
 * are -Infinity or masked out), so every probability is 1/2^n and every cumulative sum is exact
 * in float64 and lands exactly on 1 - p: vLLM drops a token while the sum is <= 1 - p, and among
 * equal tokens the higher ids go first.
 */
const BOUNDARY_CASES: readonly BoundaryCase[] = [
  {
    name: 'top-p 0.5 over 4 equal tokens keeps 2',
    logits: new Float32Array(4),
    settings: float32Settings(1, 0, 0.5, 0),
    kept: 2,
  },
  {
    name: 'top-p 0.75 over 4 equal tokens keeps 3',
    logits: new Float32Array(4),
    settings: float32Settings(1, 0, 0.75, 0),
    kept: 3,
  },
  {
    name: 'top-p 0.25 over 4 equal tokens keeps 1',
    logits: new Float32Array(4),
    settings: float32Settings(1, 0, 0.25, 0),
    kept: 1,
  },
  {
    name: 'top-p 0.625 over 8 equal tokens among -Infinity keeps 5',
    logits: zerosAmongInfinite(259, range(8, 32)),
    settings: float32Settings(0.7, 0, 0.625, 0),
    kept: 5,
  },
  {
    name: 'top-k 5 keeps all 8 tied tokens, then top-p 0.5 keeps 4',
    logits: zerosAmongInfinite(259, range(8, 30)),
    settings: float32Settings(1, 5, 0.5, 0),
    kept: 4,
  },
  {
    name: 'top-p 0.5 over 512 equal allowed tokens keeps 256',
    logits: zerosAmongRandom(2000, range(512, 3), 0),
    settings: float32Settings(1, 0, 0.5, 0, maskOf(2000, range(512, 3))),
    kept: 256,
  },
  {
    name: 'top-k 300 keeps all 1024 tied tokens, then top-p 0.875 keeps 896',
    logits: zerosAmongInfinite(2000, range(1024)),
    settings: float32Settings(1, 300, 0.875, 0),
    kept: 896,
  },
  {
    name: 'top-p 0.5 over 16384 equal allowed tokens of 32000 keeps 8192',
    logits: zerosAmongRandom(32_000, range(16_384), 3),
    settings: float32Settings(1.3, 0, 0.5, 0, maskOf(32_000, range(16_384))),
    kept: 8192,
  },
  {
    name: 'top-k 2 keeps the 3 tokens tied at the 2nd largest logit',
    logits: Float32Array.from([6, 5, 5, 5, 1]),
    settings: float32Settings(1, 2, 1, 0),
    kept: 4,
  },
  {
    name: 'top-k 1 keeps every token tied at the largest logit',
    logits: Float32Array.from([2, 7, 1, 7, 7, -Infinity]),
    settings: float32Settings(0.5, 1, 1, 0),
    kept: 3,
  },
  {
    name: 'min-p 1 keeps exactly the tokens tied at the largest logit',
    logits: Float32Array.from([2, 7, 1, 7, 7, -Infinity, 7]),
    settings: float32Settings(1, 0, 1, 1),
    kept: 4,
  },
  {
    name: 'greedy picks the lowest id among tied maxima',
    logits: Float32Array.from([1, 3, 3, 2]),
    settings: float32Settings(0, 0, 1, 0),
    kept: 1,
  },
  {
    name: 'greedy with a mask picks the lowest allowed id among tied allowed maxima',
    logits: Float32Array.from([9, 3, 3, 2]),
    settings: float32Settings(0, 0, 1, 0, maskOf(4, [1, 2, 3])),
    kept: 1,
  },
  {
    name: 'greedy picks the lowest allowed id when every allowed logit is -Infinity',
    logits: Float32Array.from([0, -Infinity, -Infinity, 1]),
    settings: float32Settings(0, 0, 1, 0, maskOf(4, [1, 2])),
    kept: 1,
  },
];

function boundaryRows(c: BoundaryCase): Case[] {
  return BOUNDARY_SEEDS.map((seed, row) => ({
    name: `${c.name}, seed ${seed}`,
    logits: c.logits,
    sampling: { ...c.settings, seed },
    topLogprobs: Math.min(row % 3, c.logits.length),
    targetToken: row % c.logits.length,
  }));
}

function assertBoundaryCase(c: BoundaryCase): void {
  const kept = samplingDistribution(c.logits, c.settings).filter((p) => p > 0).length;
  assert.equal(kept, c.kept, 'tokens the reference keeps');
  assertSamplersAgree(boundaryRows(c));
}

// ---------------------------------------------------------------------------------------------

/**
 * Rows per vocabulary size. The grid has 3,360 points, so the two small vocabularies see every
 * point once; the larger ones a seeded random part of it (the reference sorts the whole
 * vocabulary several times a row: ~1 ms at 2,000 tokens, ~20 ms at 32,000).
 */
const GRID_ROWS: ReadonlyArray<readonly [vocab: number, rows: number]> = [
  [7, 3360],
  [259, 3360],
  [2000, 1000],
  [32_000, 150],
];

/**
 * Top-p boundaries that are exact only in real arithmetic: n equal tokens, n not a power of 2.
 * A sampler that normalizes before summing (ten tokens: 0.1 each, then 0.10000000000000002)
 * ends its cumulative sum after n(1 - p) tokens just above 1 - p and keeps one token too many;
 * vLLM's rule (drop while the sum is <= 1 - p) keeps exactly n * p.
 */
const INEXACT_BOUNDARY_CASES: readonly BoundaryCase[] = [
  {
    name: 'top-p 0.5 over 10 equal tokens keeps 5',
    logits: new Float32Array(10),
    settings: float32Settings(1, 0, 0.5, 0),
    kept: 5,
  },
  {
    name: 'top-p 0.5 over 2000 equal tokens keeps 1000',
    logits: new Float32Array(2000),
    settings: float32Settings(1, 0, 0.5, 0),
    kept: 1000,
  },
];

describe('native sampler against the reference sampler', () => {
  for (const [vocab, rows] of GRID_ROWS) {
    it(`agrees on ${rows} grid rows of vocabulary ${vocab}`, () => {
      assertSamplersAgree(gridCases(vocab, rows, seededRandom(vocab)));
    });
  }

  it('draws the same tokens without scoring them; the shortcut greedy path included', () => {
    for (const [vocab, rows] of GRID_ROWS) {
      // Half the rows keep their top-N / target (scored path), half ask for nothing more
      // (greedy rows among them take the argmax-only path).
      const cases = gridCases(vocab, rows, seededRandom(vocab + 1)).map((c, i) =>
        i % 2 === 0 ? { ...c, topLogprobs: 0, targetToken: null } : c,
      );
      const scored = sampleNative(cases);
      const unscored = sampleNative(cases, false);
      assert.ok(
        cases.some((c, i) => i % 2 === 0 && c.sampling.temperature === 0),
        'the grid has greedy rows with nothing to score',
      );
      assert.deepEqual(Array.from(unscored.tokens), Array.from(scored.tokens));
      assert.ok(unscored.logprobs.every(Number.isNaN), 'no logprob of the drawn tokens');
      assert.ok(
        unscored.ranks.every((rank) => rank === 0),
        'no rank of the drawn tokens',
      );
      assert.deepEqual(unscored.topTokens, scored.topTokens);
      assert.deepEqual(unscored.targetLogprobs, scored.targetLogprobs);
    }
  });

  it('draws uniforms above 1 - 2^-20 from SEEDS_NEAR_ONE', () => {
    for (const seed of SEEDS_NEAR_ONE) assert.ok(uniformFromSeed(seed) > 1 - 2 ** -20);
  });

  for (const c of BOUNDARY_CASES) it(c.name, () => assertBoundaryCase(c));

  for (const c of INEXACT_BOUNDARY_CASES) it(c.name, () => assertBoundaryCase(c));

  it('lets a +100 bias make greedy pick a low-probability token, reporting its raw logprob', () => {
    const random = seededRandom(11);
    const logits = gaussians(random, 2000, 2);
    const low = 1234;
    logits[low] = -8;
    const bias = { tokens: Int32Array.of(low), values: Float32Array.of(100) };
    const c: Case = {
      name: '+100 on a low-probability token',
      logits,
      sampling: { ...float32Settings(0, 0, 1, 0, null, bias), seed: 3n },
      topLogprobs: 5,
      targetToken: low,
    };
    const result = sampleNative([c]);
    assert.equal(result.tokens[0], low);
    const raw = sampleRow(logits, { ...c, sampling: null, returnLogits: false });
    assert.equal(result.logprobs[0], Math.fround(raw.target!.logprob));
    assert.ok(result.logprobs[0] < -8, 'the raw logprob, not the biased one');
    assert.equal(result.ranks[0], raw.target!.rank);
    assert.ok(result.ranks[0] > 1000);
    assert.ok(!Array.from(result.topTokens.subarray(0, 5)).includes(low), 'top-N stays raw');
    assertRowMatches(result, 0, c);
  });

  it("applies a row's biases to that row only", () => {
    const random = seededRandom(12);
    const logits = gaussians(random, 259, 1);
    const settings = float32Settings(1, 0, 0.9, 0);
    const ban = { tokens: Int32Array.from(range(200)), values: new Float32Array(200).fill(-100) };
    const plainRow = (seed: bigint): Case => ({
      name: `unbiased, seed ${seed}`,
      logits,
      sampling: { ...settings, seed },
      topLogprobs: 3,
      targetToken: 7,
    });
    const biasedRow = (seed: bigint): Case => ({
      ...plainRow(seed),
      name: `200 tokens banned, seed ${seed}`,
      sampling: { ...settings, logitBias: ban, seed },
    });
    const seeds = range(16).map(BigInt);
    const alone = sampleNative(seeds.map(plainRow));
    const mixed = seeds.flatMap((seed) => [biasedRow(seed), plainRow(seed)]);
    const together = sampleNative(mixed);
    mixed.forEach((c, row) => assertRowMatches(together, row, c));
    seeds.forEach((_, i) => {
      assert.equal(together.tokens[2 * i + 1], alone.tokens[i], `seed ${i}: unbiased row`);
      assert.ok(together.tokens[2 * i]! >= 200, `seed ${i}: banned tokens are not drawn`);
    });
  });

  it('applies penalties after the bias: the order decides a greedy draw', () => {
    // Token 0: 2 + 2 = 4, then / 2 = 2 < 2.5 (token 1 wins); the other order, 2 / 2 + 2 = 3, would
    // keep token 0.
    const logits = Float32Array.of(2, 2.5, -1, 0.5);
    const c: Case = {
      name: 'bias +2 then repetition 2 on token 0',
      logits,
      sampling: {
        ...float32Settings(0, 0, 1, 0, null, {
          tokens: Int32Array.of(0),
          values: Float32Array.of(2),
        }),
        penalties: penalties([0], [0], { repetition: 2 }),
        seed: 0n,
      },
      topLogprobs: 2,
      targetToken: 0,
    };
    const result = sampleNative([c]);
    assert.equal(result.tokens[0], 1);
    assertRowMatches(result, 0, c);
  });

  it('rounds each penalty step to float32, as the reference does', () => {
    const greedyWith = (logits: number[], p: Penalties, name: string): Case => ({
      name,
      logits: Float32Array.from(logits),
      sampling: { ...float32Settings(0, 0, 1, 0), penalties: p, seed: 0n },
      topLogprobs: 0,
      targetToken: null,
    });
    const cases = [
      // 1 - 2^-25 rounds to 1 (a tie, to even), twice: token 1 keeps 1 > 1 - 2^-24. One rounded
      // subtraction of 2^-24 would tie the two, and the lower id would win.
      greedyWith(
        [1 - 2 ** -24, 1],
        penalties([1], [1], { repetition: 1, frequency: 2 ** -25, presence: 2 ** -25 }),
        'frequency and presence subtracted one at a time',
      ),
      // fround(1/3) * 3 rounds to 1, so token 0 drops to exactly 0 and ties token 1 (lower id
      // wins); an unrounded product would leave it just below 0.
      greedyWith(
        [1, 0],
        penalties([0], [3], { repetition: 1, frequency: Math.fround(1 / 3), presence: 0 }),
        'frequency * count rounded before the subtraction',
      ),
      // Repetition 1.1 is used as float32 (1.10000002384): 1 / it is one float32 step below
      // fround(1 / 1.1), token 1's logit, so token 1 wins (with the double 1.1 they would tie).
      greedyWith(
        [1, Math.fround(1 / 1.1)],
        penalties([0], [0], { repetition: 1.1 }),
        'repetition as float32',
      ),
    ];
    const result = sampleNative(cases);
    assert.deepEqual(Array.from(result.tokens), [1, 0, 1]);
    cases.forEach((c, row) => assertRowMatches(result, row, c));
  });

  it('lets a penalty move greedy off the argmax, reporting raw scores; other rows unchanged', () => {
    const random = seededRandom(13);
    const logits = gaussians(random, 2000, 2);
    const best = logits.indexOf(Math.max(...logits));
    const settings = float32Settings(0, 0, 1, 0);
    const plainRow = (seed: bigint): Case => ({
      name: `unpenalized, seed ${seed}`,
      logits,
      sampling: { ...settings, seed },
      topLogprobs: 3,
      targetToken: best,
    });
    const penalizedRow = (seed: bigint): Case => ({
      ...plainRow(seed),
      name: `argmax penalized, seed ${seed}`,
      sampling: {
        ...settings,
        penalties: penalties([best], [4], { repetition: 1.2, frequency: 2, presence: 2 }),
        seed,
      },
    });
    const seeds = range(4).map(BigInt);
    const mixed = seeds.flatMap((seed) => [penalizedRow(seed), plainRow(seed)]);
    const result = sampleNative(mixed);
    mixed.forEach((c, row) => assertRowMatches(result, row, c));
    seeds.forEach((_, i) => {
      assert.notEqual(result.tokens[2 * i], best, `seed ${i}: penalized row leaves the argmax`);
      assert.equal(result.tokens[2 * i + 1], best, `seed ${i}: unpenalized row keeps it`);
      assert.equal(result.targetRanks[2 * i], 1, 'the raw rank of the penalized token');
    });
  });

  it('both reject a penalized logit that overflows to +Infinity', () => {
    const logits = Float32Array.of(1e30, 0);
    const row: Case = {
      name: 'repetition 1e-10 on 1e30',
      logits,
      sampling: {
        ...float32Settings(1, 0, 1, 0),
        penalties: penalties([0], [0], { repetition: 1e-10 }),
        seed: 0n,
      },
      topLogprobs: 0,
      targetToken: null,
    };
    assert.throws(() => sampleNative([row]), /logits\[0\] with its penalties is \+Infinity/);
    assert.throws(() => samplingDistribution(logits, row.sampling), RangeError);
  });

  it('both reject a sampled row whose allowed tokens all have logit -Infinity', () => {
    const logits = Float32Array.from([0, -Infinity, -Infinity, 1]);
    const row: Case = {
      name: 'all allowed -Infinity',
      logits,
      sampling: { ...float32Settings(1, 0, 1, 0, maskOf(4, [1, 2])), seed: 0n },
      topLogprobs: 0,
      targetToken: null,
    };
    assert.throws(() => sampleNative([row]), RangeError);
    assert.throws(() => samplingDistribution(logits, row.sampling), RangeError);
  });
});
