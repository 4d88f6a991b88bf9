/**
 * Seeded random llama models of realistic size, for benchmarks and sampler tests. Owns the
 * presets and the weight distribution: every matrix uniform in [-a, a] with a = std * sqrt(3)
 * (so its standard deviation is `std`), norm weights 1.0. Each tensor draws from its own
 * xoshiro128** stream derived from (seed, tensor index), filled row by row into the writer's
 * reused buffer: no per-element allocation.
 */

import { buildByteVocabulary } from './byte-vocabulary.ts';
import { writeLlamaModel, type LlamaTensorSlot, type WeightType } from './llama-model-writer.ts';
import type { GgufWriteResult } from './gguf-writer.ts';
import { Xoshiro128, deriveSeed } from './prng.ts';

/** Options of a random model. */
export interface RandomModelOptions {
  /** `general.name`. */
  readonly name: string;
  /** Vocabulary size (>= 259): byte vocabulary plus generated multi-byte tokens. */
  readonly vocabSize: number;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly contextLength: number;
  /** Type of the matrices; Q8_0 needs embeddingLength and feedForwardLength % 32 == 0. */
  readonly weightType: WeightType;
  /** PRNG seed (a 32-bit integer). */
  readonly seed: number;
  /** Standard deviation of token_embd and block matrices. */
  readonly weightStd: number;
  /** Standard deviation of output.weight; logits have std about outputStd * sqrt(n_embd). */
  readonly outputStd: number;
}

/** Names of the random presets. */
export type RandomPresetName = 'random-130m-f16' | 'random-370m-q8_0' | 'random-tiny-f32';

const COMMON = { contextLength: 4096, seed: 1, weightStd: 0.02 } as const;

/** The presets: ~134M params F16, ~374M params Q8_0, and a tiny F32 byte-vocabulary model. */
export const RANDOM_PRESETS: Readonly<Record<RandomPresetName, RandomModelOptions>> = {
  'random-130m-f16': {
    ...COMMON,
    name: 'random-130m-f16',
    vocabSize: 32000,
    embeddingLength: 768,
    blockCount: 12,
    feedForwardLength: 2048,
    headCount: 12,
    headCountKv: 12,
    weightType: 'f16',
    outputStd: 0.02,
  },
  'random-370m-q8_0': {
    ...COMMON,
    name: 'random-370m-q8_0',
    vocabSize: 32000,
    embeddingLength: 1024,
    blockCount: 24,
    feedForwardLength: 2816,
    headCount: 16,
    headCountKv: 16,
    weightType: 'q8_0',
    outputStd: 0.02,
  },
  'random-tiny-f32': {
    ...COMMON,
    name: 'random-tiny-f32',
    vocabSize: 259,
    embeddingLength: 64,
    blockCount: 2,
    feedForwardLength: 128,
    headCount: 4,
    headCountKv: 4,
    weightType: 'f32',
    // Logit std about 3.2: peaked enough for sampler tests, still far from one-hot.
    outputStd: 0.4,
  },
};

/** Whether `name` is a random preset name. */
export function isRandomPresetName(name: string): name is RandomPresetName {
  return Object.hasOwn(RANDOM_PRESETS, name);
}

/** Parameter count of a llama model with these dimensions (embeddings, blocks, norms, output). */
export function randomModelParameterCount(o: RandomModelOptions): number {
  const kv = (o.embeddingLength / o.headCount) * o.headCountKv;
  const e = o.embeddingLength;
  const block = 2 * e * e + 2 * e * kv + 3 * e * o.feedForwardLength + 2 * e;
  return 2 * o.vocabSize * e + o.blockCount * block + e;
}

/** FNV-1a hash of a tensor name: the tensor's PRNG stream index. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function uniformRows(seed: number, std: number): (row: Float32Array) => void {
  const rng = new Xoshiro128(seed);
  const scale = 2 * std * Math.sqrt(3);
  const half = std * Math.sqrt(3);
  return (row) => {
    for (let i = 0; i < row.length; i++) row[i] = rng.nextFloat() * scale - half;
  };
}

/** Writes a random model to `path`. Same options, same bytes. */
export async function writeRandomModel(
  path: string,
  options: RandomModelOptions,
): Promise<GgufWriteResult> {
  const vocabulary = buildByteVocabulary(options.vocabSize);
  const weights = (slot: LlamaTensorSlot) => {
    if (slot.dims.length === 1) return (row: Float32Array) => void row.fill(1);
    const std = slot.role === 'output' ? options.outputStd : options.weightStd;
    return uniformRows(deriveSeed(options.seed, fnv1a(slot.name)), std);
  };
  return writeLlamaModel(path, {
    hparams: {
      name: options.name,
      contextLength: options.contextLength,
      embeddingLength: options.embeddingLength,
      blockCount: options.blockCount,
      feedForwardLength: options.feedForwardLength,
      headCount: options.headCount,
      headCountKv: options.headCountKv,
      ropeFreqBase: 10000,
      rmsEpsilon: 1e-5,
    },
    vocabulary,
    weightType: options.weightType,
    weights,
  });
}
