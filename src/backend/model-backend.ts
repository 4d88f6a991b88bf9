/**
 * The backend boundary: the only thing the engine sees of a model.
 *
 * Owns: the plain-data shapes of one decode step (which tokens of which sequence go in, which
 * rows come out, how each output row is sampled and scored), the KV sequence operations, the
 * tokenizer view and the model facts. Implementations: `llama/llama-backend.ts` (llama.cpp through
 * our addon) and `fake-backend.ts` (scripted logits, for engine tests). Nothing here knows about
 * HTTP, JSON or the addon.
 */

/** Facts about the loaded model, read once. Token ids are null where the model has none. */
export interface ModelInfo {
  /** Number of token ids (logits per row). */
  readonly vocabSize: number;
  /** Context length the model was trained with (GGUF `<arch>.context_length`). */
  readonly trainContextLength: number;
  readonly embeddingLength: number;
  readonly layerCount: number;
  readonly parameterCount: number;
  readonly sizeBytes: number;
  /** llama.cpp's one-line description, e.g. "llama ?B F16". */
  readonly description: string;
  readonly bosToken: number | null;
  readonly eosToken: number | null;
  readonly eotToken: number | null;
  /**
   * The fill-in-the-middle tokens (llama.cpp's llama_vocab_fim_pre/suf/mid, from the GGUF keys
   * `tokenizer.ggml.fim_{pre,suf,mid}_token_id` or recognised by their text), or null unless the
   * model has all three.
   */
  readonly fillInTheMiddle: FillInTheMiddleTokens | null;
  /** Whether tokenize(addSpecial=true) prepends BOS. */
  readonly addBos: boolean;
  /** Every token that ends generation (EOS, EOT, ...), ascending. */
  readonly endOfGenerationTokens: readonly number[];
  /** `tokenizer.chat_template`, or null. */
  readonly chatTemplate: string | null;
  /** All GGUF metadata as strings. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Pooling of an embedding model ("none" | "mean" | "cls" | "last" | "rank" | "unspecified"). */
  readonly poolingType: string;
}

/** The three tokens of a prefix-suffix-middle infill prompt. */
export interface FillInTheMiddleTokens {
  readonly prefix: number;
  readonly suffix: number;
  readonly middle: number;
}

/** Tokenizer and per-token facts, as the engine's detokenizer and stop checker need them. */
export interface Tokenizer {
  /** Text to token ids. `addSpecial` adds BOS/EOS as the model wants; `parseSpecial` maps "<|im_end|>" text to its token. */
  tokenize(text: string, options: { addSpecial: boolean; parseSpecial: boolean }): number[];
  /** Token ids to text. `skipSpecial` drops control tokens' text. */
  detokenize(tokens: readonly number[], options: { skipSpecial: boolean }): string;
  /** The raw bytes of one token's piece (control tokens render as their text). */
  tokenBytes(token: number): Uint8Array;
  /**
   * The token's text as the vocabulary stores it ("\u0120the" in a BPE vocabulary): what Hugging
   * Face's convert_ids_to_tokens gives, for /tokenize's token_strs.
   */
  tokenText(token: number): string;
  /** True for control/special tokens (those `skipSpecial` drops). */
  isSpecial(token: number): boolean;
  /** True for tokens that end generation (EOS, EOT). */
  isEndOfGeneration(token: number): boolean;
}

/** How one output row draws its token. Disabled values: topK <= 0, topP = 1, minP = 0. */
export interface RowSampling {
  /** < 1e-5 means greedy (argmax, lowest id on ties). */
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  /** The draw's seed; the row's result depends on nothing else (not on the batch). */
  readonly seed: bigint;
  /**
   * Optional allowed-token bitmask, ceil(vocabSize / 32) words; bit t%32 of word t>>5 set means
   * token t may be drawn. Disallowed tokens are removed before temperature.
   */
  readonly allowedTokens: Uint32Array | null;
  /**
   * Optional additive biases (OpenAI's logit_bias): `values[i]` is added to the logit of
   * `tokens[i]` before the mask and temperature, so greedy and sampled draws both see it; raw
   * logprobs, ranks and top-N stay those of the unbiased logits. Token ids distinct, in-vocabulary.
   */
  readonly logitBias: LogitBias | null;
  /**
   * Optional vLLM penalties over the sequence's tokens, applied after the logit bias and before
   * the mask and temperature (greedy included); raw logprobs stay unpenalized. Absent or null:
   * none.
   */
  readonly penalties?: Penalties | null | undefined;
}

/** Greedy drawing (argmax, lowest id on ties), nothing else. */
export const GREEDY_SAMPLING: RowSampling = {
  temperature: 0,
  topK: 0,
  topP: 1,
  minP: 0,
  seed: 0n,
  allowedTokens: null,
  logitBias: null,
};

/**
 * vLLM's repetition, frequency and presence penalties of one row (vLLM's `apply_penalties`):
 * for each listed token t (every distinct token of the prompt and the output so far), first
 * logit = logit > 0 ? logit / repetition : logit * repetition, then
 * logit -= frequency * outputCounts[i] + presence * (outputCounts[i] > 0 ? 1 : 0).
 */
export interface Penalties {
  /** Distinct, in-vocabulary token ids. */
  readonly tokens: Int32Array;
  /** Per token: how many times it occurs in the generated output (0: in the prompt only). */
  readonly outputCounts: Int32Array;
  /** > 0; 1 disables. */
  readonly repetition: number;
  /** [-2, 2]; 0 disables. */
  readonly frequency: number;
  /** [-2, 2]; 0 disables. */
  readonly presence: number;
}

/** Sparse additive logit biases: parallel arrays of token ids and the values added to them. */
export interface LogitBias {
  readonly tokens: Int32Array;
  readonly values: Float32Array;
}

/** One output row: the logits after the token at `offset` of its chunk. */
export interface OutputRow {
  /** Index of the token inside its chunk whose next-token distribution this row is. */
  readonly offset: number;
  /** Draw a token with these settings, or null to only score. */
  readonly sampling: RowSampling | null;
  /** How many top raw logprobs to report (0 for none). */
  readonly topLogprobs: number;
  /** A token whose raw logprob and rank to report (e.g. the next prompt token), or null. */
  readonly targetToken: number | null;
  /** Copy the raw logits out (costs vocabSize floats). */
  readonly returnLogits: boolean;
  /**
   * Report the drawn token's raw logprob and rank (default true). false leaves RowResult's
   * logprob NaN and rank 0 and lets a greedy row skip the log-softmax: as vLLM, compute
   * logprobs only when they are asked for.
   */
  readonly scoreSample?: boolean;
}

/** One sequence's consecutive tokens in a step, at positions startPosition, startPosition+1, ... */
export interface SequenceChunk {
  readonly sequenceId: number;
  readonly startPosition: number;
  readonly tokens: readonly number[];
  /** Output rows, offsets strictly ascending. */
  readonly rows: readonly OutputRow[];
}

/** A whole step: every chunk goes into one batched decode. */
export interface DecodeRequest {
  readonly chunks: readonly SequenceChunk[];
}

export interface TokenLogprob {
  readonly token: number;
  /** Raw log-softmax of the unprocessed logits. */
  readonly logprob: number;
}

/** Results for one OutputRow. Logprobs are always raw (of the model's logits, before any processing). */
export interface RowResult {
  /** The drawn token, or null when the row was not sampled. */
  readonly token: number | null;
  /** Raw logprob and rank (1 = most likely) of the drawn token; NaN / 0 when not sampled. */
  readonly logprob: number;
  readonly rank: number;
  /** Top raw logprobs, descending, ties by lower id. */
  readonly top: readonly TokenLogprob[];
  /** Raw logprob and rank of the row's target token, null when none was asked. */
  readonly target: { readonly logprob: number; readonly rank: number } | null;
  readonly logits: Float32Array | null;
}

/** One embedding vector: per sequence when the model pools, else per output row. */
export interface EmbeddingResult {
  readonly sequenceId: number;
  readonly vector: Float32Array;
}

export interface DecodeResult {
  /** One entry per OutputRow, chunk by chunk in request order (empty for embedding backends). */
  readonly rows: readonly RowResult[];
  /**
   * Embedding backends only: one vector per sequence in first-appearance order when the model
   * pools (mean, cls, last), else one per output row in row order. Empty otherwise.
   */
  readonly embeddings: readonly EmbeddingResult[];
  /** Milliseconds spent in the forward pass and in sampling/scoring. */
  readonly decodeMs: number;
  readonly sampleMs: number;
}

/** How the KV memory is laid out, fixed at context creation. */
export interface KvLayout {
  /** Total cells (tokens) over all sequences. */
  readonly totalCells: number;
  /** Cells one sequence may hold (totalCells when unified). */
  readonly cellsPerSequence: number;
  /** Sequence ids are 0..maxSequences-1. */
  readonly maxSequences: number;
  /** Most tokens in one decode. */
  readonly maxBatchTokens: number;
  /** true: a sequence copy shares cells; false: one stream per sequence, a copy copies data (full copies only). */
  readonly unified: boolean;
}

/** KV sequence operations. Positions: [from, to), to = null for open end. */
export interface KvSequenceOperations {
  /** Drop cells of `sequenceId` in [from, to). Returns false if the backend refused a partial removal. */
  remove(sequenceId: number, from: number, to: number | null): boolean;
  /**
   * Make `destination` hold `source`'s cells in [from, to). Unified KV shares the cells; per-sequence
   * KV copies the data and supports only whole-sequence copies (from 0, to null).
   */
  copy(source: number, destination: number, from: number, to: number | null): void;
  /** Drop every cell that does not belong to `sequenceId`. */
  keepOnly(sequenceId: number): void;
  /** Add `delta` to positions in [from, to) of `sequenceId`. */
  shift(sequenceId: number, from: number, to: number | null, delta: number): void;
  /** Lowest and highest position held, or null when the sequence is empty. */
  positions(sequenceId: number): { readonly min: number; readonly max: number } | null;
  /** Drop everything. */
  clear(): void;
}

/**
 * A loaded model with one decoding context: the engine's only view of the forward pass.
 * At most one `decode` is in flight; KV operations must not be called while one is.
 */
export interface ModelBackend {
  readonly info: ModelInfo;
  readonly tokenizer: Tokenizer;
  readonly kvLayout: KvLayout;
  readonly kv: KvSequenceOperations;
  /** One batched forward pass over every chunk, with sampling and scoring of the output rows. */
  decode(request: DecodeRequest): Promise<DecodeResult>;
  /**
   * The caller has no decode to dispatch soon (its work ran out): release what the backend keeps
   * busy between decodes (the llama.cpp backend's decode threads poll for the next step). Never
   * while a decode is in flight; a later decode works as usual. A no-op once disposed.
   */
  idle(): void;
  /** Release the context and the model. Idempotent. */
  dispose(): Promise<void>;
}

/** The greedy threshold shared by every sampler (vLLM's _SAMPLING_EPS). */
export const GREEDY_TEMPERATURE_EPSILON = 1e-5;
