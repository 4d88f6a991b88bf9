/**
 * The "successor" model: a llama model whose next-token logits are a closed formula, so tests can
 * compute expected probabilities exactly. Owns the successor table, the construction and the
 * expected logits.
 *
 * Construction (n_embd = 1024 = 4^5, so sqrt(n_embd) = 32 and 1/32 are exact): token_embd row t
 * is 32 * onehot(t); every attention and FFN matrix is zero, so each block adds exactly 0 to the
 * residual; attn_norm and ffn_norm weights are 1; the RMS epsilon is 1e-12, so
 * mean(x^2) + eps == 1 in float32; output_norm weight is 1/32, so the final hidden state is
 * exactly onehot(t). output.weight row s holds margin1 at column t for every t with
 * succ(t) = s, and margin2 at t for every t with succ(succ(t)) = s. Hence for the last input
 * token t: logit[succ(t)] = margin1, logit[succ(succ(t))] = margin2, every other logit 0.
 *
 * Exactness: with F32 or F16 every step is exact. With Q8_0 the (all-zero) block matrices are
 * Q8_0, but token_embd and output are kept F16 so the logits stay exact; this mirrors llama.cpp
 * quantizers keeping some tensors at higher precision.
 *
 * The successor table (ids as in byte-vocabulary.ts, id = byte for 0..255):
 * - 'a'..'y' -> next letter, 'z' -> 'a'; 'A'..'Y' -> next letter, 'Z' -> 'A';
 * - '0'..'8' -> next digit, '9' -> '.', '.' -> `<|endoftext|>` (EOS);
 * - '\n' -> '0' (so a ChatML prompt, which ends "<|im_start|>assistant\n", is answered
 *   "0123456789." then EOS);
 * - `<|endoftext|>` -> '0', `<|im_start|>` -> 'a', `<|im_end|>` -> '\n';
 * - with the fill-in-the-middle tokens (option `fillInTheMiddle`, vocabulary 262):
 *   `<|fim_prefix|>` -> 'A', `<|fim_suffix|>` -> 'a', `<|fim_middle|>` -> '0' (so an infill
 *   prompt, which ends with `<|fim_middle|>`, is answered "0123456789." then EOS);
 * - every other byte b -> (b + 1) mod 256.
 * No token is its own successor, so succ(t) and succ(succ(t)) always differ.
 */

import {
  BASE_VOCAB_SIZE,
  ENDOFTEXT_TOKEN_ID,
  FIM_MIDDLE_TOKEN_ID,
  FIM_PREFIX_TOKEN_ID,
  FIM_SUFFIX_TOKEN_ID,
  FIM_VOCAB_SIZE,
  IM_END_TOKEN_ID,
  IM_START_TOKEN_ID,
  buildByteVocabulary,
} from './byte-vocabulary.ts';
import { roundToFloat16 } from './float16.ts';
import type { GgufWriteResult } from './gguf-writer.ts';
import {
  writeLlamaModel,
  type GeneralSampling,
  type LlamaTensorSlot,
  type PoolingType,
  type WeightType,
} from './llama-model-writer.ts';

/** Hidden size of the successor model (>= vocabulary size; a power of 4). */
export const SUCCESSOR_EMBEDDING_LENGTH = 1024;

/** Vocabulary size of the successor model (the byte vocabulary, no extra tokens). */
export const SUCCESSOR_VOCAB_SIZE = BASE_VOCAB_SIZE;

/** The vocabulary size of a successor model: 259, or 262 with the fill-in-the-middle tokens. */
export function successorVocabSize(options: SuccessorModelOptions = {}): number {
  return options.fillInTheMiddle === true ? FIM_VOCAB_SIZE : SUCCESSOR_VOCAB_SIZE;
}

/** Options of the successor model. */
export interface SuccessorModelOptions {
  /** Type of the matrices: 'f32', 'f16' (default) or 'q8_0' (see module comment). */
  readonly weightType?: WeightType;
  /** Logit of succ(t). Must be exactly representable in float16. Default 8. */
  readonly margin1?: number;
  /** Logit of succ(succ(t)). Must be exactly representable in float16. Default 4. */
  readonly margin2?: number;
  /** Number of (do-nothing) blocks. Default 1. */
  readonly blockCount?: number;
  /** `llama.context_length`. Default 4096. */
  readonly contextLength?: number;
  /**
   * `llama.pooling_type`: 'none' (default) is the generator; 'mean', 'cls' or 'last' make an
   * embedding model whose per-token hidden state is one-hot(t), so a mean-pooled embedding is the
   * input's token frequencies.
   */
  readonly poolingType?: PoolingType;
  /**
   * Add the fill-in-the-middle tokens `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>` (ids
   * 259-261) and their `tokenizer.ggml.fim_*_token_id` keys. Default false.
   */
  readonly fillInTheMiddle?: boolean;
  /**
   * The recommended sampling, written as `general.sampling.*` keys (what `--generation-config
   * auto` serves as request defaults). Default: no keys written.
   */
  readonly sampling?: GeneralSampling;
}

/** The options every successor model has a default for (all but `sampling`). */
export type SuccessorDefaultedOptions = Required<Omit<SuccessorModelOptions, 'sampling'>>;

/** The defaults of {@link SuccessorModelOptions} (`sampling` has none: no keys are written). */
export const SUCCESSOR_DEFAULTS: Readonly<SuccessorDefaultedOptions> = {
  weightType: 'f16',
  margin1: 8,
  margin2: 4,
  blockCount: 1,
  contextLength: 4096,
  poolingType: 'none',
  fillInTheMiddle: false,
};

const CODE = (ch: string) => ch.charCodeAt(0);

/**
 * The successor of token `token` (0 <= token < the vocabulary size of `options`: 259, or 262
 * with the fill-in-the-middle tokens); see the module comment for the table.
 */
export function successorOf(token: number, options: SuccessorModelOptions = {}): number {
  if (!Number.isInteger(token) || token < 0 || token >= successorVocabSize(options)) {
    throw new RangeError(`token out of range: ${token}`);
  }
  if (token === FIM_PREFIX_TOKEN_ID) return CODE('A');
  if (token === FIM_SUFFIX_TOKEN_ID) return CODE('a');
  if (token === FIM_MIDDLE_TOKEN_ID) return CODE('0');
  if (token >= CODE('a') && token < CODE('z')) return token + 1;
  if (token === CODE('z')) return CODE('a');
  if (token >= CODE('A') && token < CODE('Z')) return token + 1;
  if (token === CODE('Z')) return CODE('A');
  if (token >= CODE('0') && token < CODE('9')) return token + 1;
  if (token === CODE('9')) return CODE('.');
  if (token === CODE('.')) return ENDOFTEXT_TOKEN_ID;
  if (token === CODE('\n')) return CODE('0');
  if (token === ENDOFTEXT_TOKEN_ID) return CODE('0');
  if (token === IM_START_TOKEN_ID) return CODE('a');
  if (token === IM_END_TOKEN_ID) return CODE('\n');
  return (token + 1) % 256;
}

function resolveMargins(options: SuccessorModelOptions): [number, number] {
  const margins: [number, number] = [
    options.margin1 ?? SUCCESSOR_DEFAULTS.margin1,
    options.margin2 ?? SUCCESSOR_DEFAULTS.margin2,
  ];
  for (const m of margins) {
    if (!Number.isFinite(m) || roundToFloat16(m) !== m) {
      throw new RangeError(`successor margins must be exact float16 values, got ${m}`);
    }
  }
  return margins;
}

/** The exact logits for last input token `token`: margin1 at succ, margin2 at succ∘succ, else 0. */
export function successorLogits(token: number, options: SuccessorModelOptions = {}): Float64Array {
  const [margin1, margin2] = resolveMargins(options);
  const logits = new Float64Array(successorVocabSize(options));
  const next = successorOf(token, options);
  logits[next] = margin1;
  logits[successorOf(next, options)] = margin2;
  return logits;
}

/**
 * The exact next-token logprobs after `token`, from the closed formula: with Z = e^margin1 +
 * e^margin2 + (vocab - 2), log p(succ) = margin1 - log Z, log p(succ(succ)) = margin2 - log Z,
 * and every other token -log Z.
 */
export function successorLogprobs(
  token: number,
  options: SuccessorModelOptions = {},
): Float64Array {
  const [margin1, margin2] = resolveMargins(options);
  const vocabSize = successorVocabSize(options);
  const logZ = Math.log(Math.exp(margin1) + Math.exp(margin2) + (vocabSize - 2));
  return successorLogits(token, options).map((logit) => logit - logZ);
}

/** For each output token s, the input tokens t with succ(t) = s and with succ(succ(t)) = s. */
function inverseTable(options: SuccessorModelOptions): { first: number[][]; second: number[][] } {
  const vocabSize = successorVocabSize(options);
  const first = Array.from({ length: vocabSize }, () => [] as number[]);
  const second = Array.from({ length: vocabSize }, () => [] as number[]);
  for (let t = 0; t < vocabSize; t++) {
    const s = successorOf(t, options);
    first[s]?.push(t);
    second[successorOf(s, options)]?.push(t);
  }
  return { first, second };
}

/** Writes the successor model to `path`. */
export async function writeSuccessorModel(
  path: string,
  options: SuccessorModelOptions = {},
): Promise<GgufWriteResult> {
  const [margin1, margin2] = resolveMargins(options);
  const weightType = options.weightType ?? SUCCESSOR_DEFAULTS.weightType;
  const scale = Math.sqrt(SUCCESSOR_EMBEDDING_LENGTH);
  const { first, second } = inverseTable(options);
  const weights = (slot: LlamaTensorSlot) => (row: Float32Array, index: number) => {
    switch (slot.role) {
      case 'token_embd':
        row.fill(0);
        row[index] = scale;
        return;
      case 'attn_norm':
      case 'ffn_norm':
        row.fill(1);
        return;
      case 'output_norm':
        row.fill(1 / scale);
        return;
      case 'output':
        row.fill(0);
        for (const t of first[index] ?? []) row[t] = margin1;
        for (const t of second[index] ?? []) row[t] = margin2;
        return;
      case 'attn_q':
      case 'attn_k':
      case 'attn_v':
      case 'attn_output':
      case 'ffn_gate':
      case 'ffn_up':
      case 'ffn_down':
        row.fill(0);
    }
  };
  return writeLlamaModel(path, {
    hparams: {
      name: `successor-${weightType}`,
      contextLength: options.contextLength ?? SUCCESSOR_DEFAULTS.contextLength,
      embeddingLength: SUCCESSOR_EMBEDDING_LENGTH,
      blockCount: options.blockCount ?? SUCCESSOR_DEFAULTS.blockCount,
      feedForwardLength: 256,
      headCount: 16,
      headCountKv: 4,
      ropeFreqBase: 10000,
      rmsEpsilon: 1e-12,
    },
    vocabulary: buildByteVocabulary(successorVocabSize(options), {
      fillInTheMiddle: options.fillInTheMiddle ?? false,
    }),
    weightType,
    tensorType: (slot) =>
      weightType === 'q8_0' && (slot.role === 'token_embd' || slot.role === 'output')
        ? 'f16'
        : undefined,
    weights,
    poolingType: options.poolingType ?? SUCCESSOR_DEFAULTS.poolingType,
    ...(options.sampling !== undefined ? { sampling: options.sampling } : {}),
  });
}
