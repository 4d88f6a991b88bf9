/**
 * The JavaScript surface of the C++ addon in `native/` (the contract both sides implement).
 *
 * Owns: the exact shapes that cross the N-API boundary. Only `src/backend/llama/` imports this
 * module; the engine never sees it. Every array is a typed array, every call that can take more
 * than a few microseconds returns a promise, and every invalid argument throws a JS `Error`
 * (never a llama.cpp assertion, which would kill the process).
 */

/** Which build of the llama.cpp libraries to load. `auto` tries cuda, then vulkan, then cpu. */
export type NativeVariant = 'cpu' | 'cuda' | 'vulkan';

/** What `init` reports about the loaded kernels. */
export interface NativeInitInfo {
  /** `llama_version()` of the loaded library; the addon refuses anything not starting with 0.4.0. */
  readonly llamaVersion: string;
  /** `llama_print_system_info()`: the CPU features the chosen ggml-cpu variant uses. */
  readonly systemInfo: string;
  /** The ggml backend devices found after `ggml_backend_load_all_from_path`, e.g. ["CPU"]. */
  readonly devices: readonly string[];
  readonly supportsGpuOffload: boolean;
}

export interface NativeModelOptions {
  /** Layers to offload to a GPU; 0 on CPU builds; -1 means all. */
  readonly gpuLayers: number;
  readonly useMmap: boolean;
  /** Load only the vocabulary and metadata (no weights): tokenizer-only use. */
  readonly vocabOnly: boolean;
}

/** Facts about a loaded model, read once at load. Token ids are -1 where the model has none. */
export interface NativeModelInfo {
  readonly vocabSize: number;
  readonly trainContextLength: number;
  readonly embeddingLength: number;
  readonly layerCount: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly description: string;
  readonly sizeBytes: number;
  readonly parameterCount: number;
  readonly bosToken: number;
  readonly eosToken: number;
  readonly eotToken: number;
  /** Fill-in-the-middle prefix, suffix and middle tokens (llama_vocab_fim_pre/suf/mid), -1 if none. */
  readonly fimPreToken: number;
  readonly fimSufToken: number;
  readonly fimMidToken: number;
  readonly padToken: number;
  readonly nlToken: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly hasEncoder: boolean;
  readonly hasDecoder: boolean;
  readonly isRecurrent: boolean;
  /** `llama_vocab_type` as a name: "spm" | "bpe" | "wpm" | "ugm" | "rwkv" | "plamo2" | "none". */
  readonly vocabType: string;
  /** GGUF `<arch>.pooling_type` if present ("none" | "mean" | "cls" | "last" | "rank"), else "unspecified". */
  readonly poolingType: string;
}

/** Per-token facts for the whole vocabulary, index = token id. */
export interface NativeVocabTable {
  /** Raw bytes of each token's piece as `llama_token_to_piece(special=true)` renders it. */
  readonly pieces: readonly Uint8Array[];
  /** `llama_token_attr` bit flags per token. */
  readonly attributes: Uint32Array;
  /** 1 where `llama_vocab_is_eog(token)`. */
  readonly endOfGeneration: Uint8Array;
  /** 1 where `llama_vocab_is_control(token)`. */
  readonly control: Uint8Array;
}

export interface NativeContextOptions {
  /** Total KV cells (tokens) of the context; the sum over all sequences. */
  readonly contextSize: number;
  /** Most tokens one `decode` call may carry. */
  readonly batchSize: number;
  /** Physical micro-batch size (<= batchSize). */
  readonly microBatchSize: number;
  /** Sequence ids are 0..maxSequences-1. */
  readonly maxSequences: number;
  /**
   * true: one pool of cells; a sequence copy shares cells (no data copied).
   * false: one KV stream per sequence, each of contextSize / maxSequences cells; a copy copies data.
   */
  readonly unifiedKv: boolean;
  /** Threads of the persistent ggml thread pool attached to this context. */
  readonly threads: number;
  readonly flashAttention: 'auto' | 'on' | 'off';
  /** Extract embeddings instead of logits (embedding models). */
  readonly embeddings: boolean;
}

export interface NativeContextInfo {
  readonly contextSize: number;
  /** Cells per sequence (= contextSize when unified, contextSize / maxSequences otherwise). */
  readonly sequenceContextSize: number;
  readonly batchSize: number;
  readonly microBatchSize: number;
  readonly maxSequences: number;
  readonly unifiedKv: boolean;
  readonly threads: number;
  readonly embeddings: boolean;
  /** Pooling type in effect for embeddings, as in NativeModelInfo.poolingType. */
  readonly poolingType: string;
}

/**
 * One decode: `n` tokens, each with its position and one sequence id. All arrays have length `n`
 * (`n` = tokens.length, 1 <= n <= batchSize).
 */
export interface NativeBatch {
  readonly tokens: Int32Array;
  readonly positions: Int32Array;
  readonly sequenceIds: Int32Array;
  /** 1 where this token's row wants output (logits / sampling / embeddings). */
  readonly outputs: Uint8Array;
}

/**
 * Sampling and scoring for the output rows of a batch, fused into the same worker call.
 * "Row" r is the r-th token of the batch whose `outputs` flag is 1 (batch order).
 * Every per-row array has length = number of output rows. Omit the whole object to only decode.
 * An optional field that is undefined counts as omitted.
 *
 * Per row, in vLLM (v1) sampler's order: raw logits -> logit bias -> penalties ->
 * allowed-token mask -> temperature -> min-p -> top-k -> top-p -> draw. Logprobs are always of
 * the raw logits. Biases and penalties are float32 operations in the order of the reference
 * sampler (`applyLogitBias`, `applyPenalties` in src/backend/reference-sampler.ts).
 */
export interface NativeSamplingSpec {
  /** 1 = draw a token for this row; 0 = only score it (logprobs / target). */
  readonly sample: Uint8Array;
  /** <= 0 (or < 1e-5) means greedy: argmax, ties broken by the lowest token id. */
  readonly temperature: Float32Array;
  /** <= 0 or >= vocab means disabled. */
  readonly topK: Int32Array;
  /** 1 means disabled; range (0, 1]. */
  readonly topP: Float32Array;
  /** 0 means disabled; range [0, 1]. */
  readonly minP: Float32Array;
  /** Seed of this row's draw. The draw depends on nothing else, so batch composition never matters. */
  readonly seeds: BigUint64Array;
  /** How many top raw logprobs to return for this row (0..topLogprobsMax). */
  readonly topLogprobs: Int32Array;
  /** A token whose raw logprob (and rank) to report for this row, or -1. */
  readonly targetTokens: Int32Array;
  /** 1 = copy this row's raw logits out into `NativeDecodeResult.logits`. */
  readonly returnLogits: Uint8Array;
  /** Per row: 1 = report the drawn token's raw logprob and rank, 0 = not. Omitted: all 1. */
  readonly scoreSampled?: Uint8Array | undefined;
  /**
   * Optional allowed-token bitmask: `words = ceil(vocabSize / 32)` uint32 words per mask; bit
   * (t % 32) of word floor(t / 32) set = token t allowed. `maskIndex[r]` is the mask of row r
   * (index into `allowedMasks` in units of `words`), or -1 for no mask.
   */
  readonly allowedMasks?: Uint32Array | undefined;
  readonly maskIndex?: Int32Array | undefined;
  /**
   * Optional additive logit biases, CSR-style: row r's biases are entries
   * [biasOffsets[r], biasOffsets[r + 1]) of `biasTokens` / `biasValues` (biasOffsets has
   * rows + 1 ascending entries, first 0, last = biasTokens.length). Added to the raw logits before
   * the mask; logprobs, ranks, top-N and targets stay raw. All three present or none.
   */
  readonly biasOffsets?: Int32Array | undefined;
  readonly biasTokens?: Int32Array | undefined;
  readonly biasValues?: Float32Array | undefined;
  /**
   * Optional vLLM penalties (repetition, frequency, presence), CSR-style like the biases: row
   * r's penalized tokens are entries [penaltyOffsets[r], penaltyOffsets[r + 1]) of
   * `penaltyTokens` (distinct within a row, in [0, vocab)) with their output counts (>= 0) in
   * `penaltyCounts`; its parameters are `repetitionPenalties[r]` (finite, > 0; 1 disables),
   * `frequencyPenalties[r]` and `presencePenalties[r]` (finite; 0 disables), one entry per row.
   * Per listed token, after the biases, each step rounded to float32: x = x > 0 ? x / repetition
   * : x * repetition; then, if its count c > 0, x -= frequency * c, then x -= presence.
   * Logprobs, ranks, top-N and targets stay raw. All six present or none; a row with neither
   * biases nor penalties draws from its raw logits without a copy.
   */
  readonly penaltyOffsets?: Int32Array | undefined;
  readonly penaltyTokens?: Int32Array | undefined;
  readonly penaltyCounts?: Int32Array | undefined;
  readonly repetitionPenalties?: Float32Array | undefined;
  readonly frequencyPenalties?: Float32Array | undefined;
  readonly presencePenalties?: Float32Array | undefined;
}

/** Per-row results, same row order as NativeSamplingSpec. */
export interface NativeDecodeResult {
  /** Chosen token per row, -1 where `sample` was 0. */
  readonly tokens: Int32Array;
  /** Raw (unprocessed) log-softmax logprob of the chosen token, NaN where not sampled. */
  readonly logprobs: Float32Array;
  /** Rank (1 = most likely) of the chosen token among raw logits, 0 where not sampled. */
  readonly ranks: Int32Array;
  /** Width of the top arrays: max over rows of topLogprobs (0 if none). */
  readonly topCount: number;
  /** rows * topCount token ids, descending raw logprob; -1 padding past a row's own count. */
  readonly topTokens: Int32Array;
  /** rows * topCount raw logprobs matching topTokens; NaN padding. */
  readonly topLogprobs: Float32Array;
  /** Raw logprob of targetTokens[r], NaN where no target. */
  readonly targetLogprobs: Float32Array;
  /** Rank of targetTokens[r] (1 = most likely), 0 where no target. */
  readonly targetRanks: Int32Array;
  /** For rows with returnLogits=1, in row order: (number of such rows) * vocabSize raw logits. */
  readonly logits: Float32Array;
  /** Embedding-mode contexts only: see NativeContext.decode. Empty otherwise. */
  readonly embeddings: Float32Array;
  /** Sequence id of each embedding vector in `embeddings` (pooled: one per sequence). */
  readonly embeddingSequenceIds: Int32Array;
  /** Wall time of llama_decode and of the sampling part, in milliseconds (worker-measured). */
  readonly decodeMs: number;
  readonly sampleMs: number;
}

export interface NativeContext {
  readonly info: NativeContextInfo;
  /**
   * Decode a batch on the context's worker (off the JS thread) and, in the same call, sample and
   * score its output rows. At most one decode per context is in flight; a second call rejects.
   * llama_decode failures (no KV slot, aborted) reject with an Error whose message names the code.
   * In embedding mode, `sampling` must be omitted; the result carries embeddings: one vector per
   * distinct sequence in the batch when pooled, else one per output row.
   */
  decode(batch: NativeBatch, sampling?: NativeSamplingSpec): Promise<NativeDecodeResult>;
  /**
   * The same fused decode, synchronously on the calling (JS) thread: no worker hand-off, but the
   * event loop waits for it. Throws where `decode` would reject.
   */
  decodeSync(batch: NativeBatch, sampling?: NativeSamplingSpec): NativeDecodeResult;
  /** Remove cells of `seq` with positions in [p0, p1) (-1 = open end). Returns false if refused. */
  kvRemove(seq: number, p0: number, p1: number): boolean;
  /** Copy positions [p0, p1) of `src` to `dst` (shares cells when unified, copies data otherwise). */
  kvCopy(src: number, dst: number, p0: number, p1: number): void;
  /** Remove every cell not belonging to `seq`. */
  kvKeep(seq: number): void;
  /** Add `delta` to positions in [p0, p1) of `seq`. Throws if the memory cannot shift. */
  kvShift(seq: number, p0: number, p1: number, delta: number): void;
  /** Smallest / largest position held for `seq`, -1 if empty. */
  kvMinPosition(seq: number): number;
  kvMaxPosition(seq: number): number;
  /** Clear the whole KV memory. */
  kvClear(): void;
  /**
   * Put the decode thread pool to sleep until the next decode. After a decode its workers poll for
   * the next one (for about 100 ms of CPU, then they sleep on their own); call this when no decode
   * follows soon, so they do not take a core from other work.
   */
  pauseThreads(): void;
  /** Free the context (KV memory, thread pool). Rejects while a decode is in flight. Idempotent. */
  dispose(): void;
}

export interface NativeModel {
  readonly info: NativeModelInfo;
  /** All GGUF key/values as strings (arrays render as llama.cpp renders them). */
  metadata(): Record<string, string>;
  /** `tokenizer.chat_template` (or the named one), null when absent. */
  chatTemplate(name?: string): string | null;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  detokenize(tokens: Int32Array, removeSpecial: boolean, unparseSpecial: boolean): string;
  /** The token's text as the vocabulary stores it (`llama_vocab_get_text`); RangeError out of range. */
  tokenText(token: number): string;
  vocabTable(): NativeVocabTable;
  createContext(options: NativeContextOptions): Promise<NativeContext>;
  /** Throws while any context of this model is alive. Idempotent. */
  dispose(): void;
}

/**
 * Sample from logits given by the caller (the very code the fused decode uses), for tests and
 * for engines that post-process logits in JS. `logits` is rows * vocabSize.
 */
export type NativeSampleLogits = (
  logits: Float32Array,
  vocabSize: number,
  sampling: NativeSamplingSpec,
) => NativeDecodeResult;

export interface NativeAddon {
  /**
   * Load the ggml backends from `libraryDir` (ggml_backend_load_all_from_path), then
   * llama_backend_init. Idempotent for the same directory; throws for a different one.
   * Throws if llama_version() does not start with "0.4.0".
   */
  init(libraryDir: string): NativeInitInfo;
  /** Route llama.cpp's log lines: level (0 none .. 4 debug) and below go to the callback. */
  setLogger(level: number, callback: ((level: number, text: string) => void) | null): void;
  loadModel(path: string, options: NativeModelOptions): Promise<NativeModel>;
  sampleLogits: NativeSampleLogits;
  /** Number of physical CPU cores (the default thread count). */
  physicalCores(): number;
}

/**
 * What the compiled addon itself exports. Decode results cross the boundary packed in one
 * ArrayBuffer (layout in native/src/decode-result.h); load-addon.ts completes this into
 * NativeAddon by adding `decode` / `decodeSync` to the context class and `sampleLogits`, each
 * turning the packed result into a NativeDecodeResult (decode-result-view.ts).
 */
export interface RawNativeAddon extends Omit<NativeAddon, 'sampleLogits'> {
  sampleLogitsPacked(
    logits: Float32Array,
    vocabSize: number,
    sampling: NativeSamplingSpec,
  ): ArrayBuffer;
  /** The context class (instances come from NativeModel.createContext). */
  readonly NativeContext: { readonly prototype: RawNativeContext };
}

/** A context as the addon builds it: NativeContext's decodes, packed. */
export interface RawNativeContext {
  decodePacked(batch: NativeBatch, sampling?: NativeSamplingSpec): Promise<ArrayBuffer>;
  decodeSyncPacked(batch: NativeBatch, sampling?: NativeSamplingSpec): ArrayBuffer;
}
