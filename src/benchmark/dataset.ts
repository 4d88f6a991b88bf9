/**
 * Benchmark workloads: seeded random prompts (token-id arrays for /v1/completions, ASCII words
 * for chat), the same with a shared prefix, or prompts read from a JSONL file.
 *
 * Owns: prompt contents and per-request input/output lengths. Length sampling follows vLLM's
 * random dataset: uniform integers in [floor(L * (1 - r)), ceil(L * (1 + r))] for range ratio r.
 */
import { readFile } from 'node:fs/promises';
import { createRng, randomInt, type Rng } from './random.ts';

/** One request of the workload. */
export interface BenchRequest {
  /** Text, or token ids (only /v1/completions accepts those). */
  readonly prompt: string | readonly number[];
  /** Prompt tokens when known in advance (token-id prompts), else null (the server's usage). */
  readonly inputLen: number | null;
  /** max_tokens for this request, >= 1. */
  readonly outputLen: number;
}

/** Settings of the random and prefix datasets. */
export interface RandomDatasetOptions {
  readonly numPrompts: number;
  /** Tokens (or words, for text) after the shared prefix; mean of the sampled lengths. */
  readonly inputLen: number;
  /** Mean output length. */
  readonly outputLen: number;
  /** r in [0, 1): lengths are drawn uniformly from [L(1 - r), L(1 + r)]; 0 = exactly L. */
  readonly rangeRatio: number;
  /** Tokens (or words) shared by every prompt, before each one's own part; 0 = none. */
  readonly prefixLen: number;
  readonly seed: number;
  /** 'tokens': token-id arrays (for /v1/completions); 'text': random lower-case ASCII words. */
  readonly promptKind: 'tokens' | 'text';
  /** Inclusive token-id range for 'tokens' prompts; every id must exist in the model's vocabulary. */
  readonly tokenIdRange: readonly [number, number];
}

/** Byte-like ids 97..122: present in every vocabulary, single letters in the successor model. */
export const DEFAULT_TOKEN_ID_RANGE: readonly [number, number] = [97, 122];

function sampleLength(rng: Rng, mean: number, ratio: number): number {
  const low = Math.max(1, Math.floor(mean * (1 - ratio)));
  const high = Math.max(low, Math.ceil(mean * (1 + ratio)));
  return randomInt(rng, low, high);
}

function randomWord(rng: Rng): string {
  const length = randomInt(rng, 2, 8);
  let word = '';
  for (let i = 0; i < length; i++) word += String.fromCharCode(randomInt(rng, 97, 122));
  return word;
}

function randomPiece(rng: Rng, count: number, options: RandomDatasetOptions): (string | number)[] {
  const [min, max] = options.tokenIdRange;
  return Array.from({ length: count }, () =>
    options.promptKind === 'tokens' ? randomInt(rng, min, max) : randomWord(rng),
  );
}

/** The random dataset (with prefixLen > 0, the prefix dataset): deterministic in the seed. */
export function randomDataset(options: RandomDatasetOptions): BenchRequest[] {
  if (!(options.rangeRatio >= 0 && options.rangeRatio < 1)) {
    throw new RangeError(`random range ratio must be in [0, 1), got ${options.rangeRatio}`);
  }
  const [min, max] = options.tokenIdRange;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max >= min)) {
    throw new RangeError(`token id range must be integers 0 <= min <= max, got ${min}:${max}`);
  }
  const rng = createRng(options.seed);
  const prefix = randomPiece(rng, options.prefixLen, options);
  const requests: BenchRequest[] = [];
  for (let i = 0; i < options.numPrompts; i++) {
    const inputLen = sampleLength(rng, options.inputLen, options.rangeRatio);
    const outputLen = sampleLength(rng, options.outputLen, options.rangeRatio);
    const pieces = [...prefix, ...randomPiece(rng, inputLen, options)];
    requests.push(
      options.promptKind === 'tokens'
        ? { prompt: pieces as number[], inputLen: pieces.length, outputLen }
        : { prompt: pieces.join(' '), inputLen: null, outputLen },
    );
  }
  return requests;
}

/**
 * Parse a JSONL workload: one `{"prompt": "...", "output_len"?: n}` per non-blank line.
 * Requests without output_len get `defaultOutputLen`; the list is cycled or cut to `numPrompts`.
 */
export function parseJsonlDataset(
  text: string,
  defaultOutputLen: number,
  numPrompts: number,
): BenchRequest[] {
  const entries: BenchRequest[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `dataset line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: invalid JSON (${(error as Error).message})`, { cause: error });
    }
    const record = value as { prompt?: unknown; output_len?: unknown } | null;
    if (typeof record !== 'object' || record === null || typeof record.prompt !== 'string') {
      throw new Error(`${where}: expected {"prompt": string, "output_len"?: integer}`);
    }
    const outputLen = record.output_len ?? defaultOutputLen;
    if (typeof outputLen !== 'number' || !Number.isInteger(outputLen) || outputLen < 1) {
      throw new Error(
        `${where}: output_len must be a positive integer, got ${JSON.stringify(outputLen)}`,
      );
    }
    entries.push({ prompt: record.prompt, inputLen: null, outputLen });
  });
  if (entries.length === 0) throw new Error('the dataset file holds no prompts');
  return Array.from({ length: numPrompts }, (_, i) => entries[i % entries.length]!);
}

/** Read and parse a JSONL workload file (see parseJsonlDataset). */
export async function loadJsonlDataset(
  path: string,
  defaultOutputLen: number,
  numPrompts: number,
): Promise<BenchRequest[]> {
  return parseJsonlDataset(await readFile(path, 'utf8'), defaultOutputLen, numPrompts);
}
