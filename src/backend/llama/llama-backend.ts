/**
 * The ModelBackend over llama.cpp: one model, one context, through our addon.
 *
 * Owns: turning backend options into model and context parameters (threads default to physical
 * cores, KV mode, batch sizes), the decode path (validate -> pack -> one native decode with fused
 * sampling, on the worker or the JS thread as decode-placement.ts decides -> unpack), the KV
 * operations, and disposal order (context before model). The only module, with its siblings in
 * this folder, that touches the addon.
 */
import type {
  DecodeRequest,
  DecodeResult,
  KvLayout,
  KvSequenceOperations,
  ModelBackend,
  ModelInfo,
} from '../model-backend.ts';
import { GREEDY_SAMPLING } from '../model-backend.ts';
import { validateDecodeRequest } from '../validate-decode-request.ts';
import { LlamaTokenizer } from './llama-tokenizer.ts';
import { DecodePlacement, DEFAULT_MAX_SYNC_DECODE_MS } from './decode-placement.ts';
import { type KernelVariant, loadAddon } from './load-addon.ts';
import type { NativeContext, NativeInitInfo, NativeModel } from './native-addon.ts';
import { packStep, unpackEmbeddings, unpackRows } from './pack-batch.ts';

/** The pooling types of embedding models. */
const POOLED = ['mean', 'cls', 'last', 'rank'];

/** Prompt tokens in the start-up decode (see LlamaBackend.warmUp). */
const WARM_UP_TOKENS = 16;

export interface LlamaBackendOptions {
  /** Path of a GGUF file. */
  readonly modelPath: string;
  /** Kernel build: cpu | cuda | vulkan | auto (default auto). */
  readonly variant?: KernelVariant;
  /** Layers to offload to the GPU; -1 = all (default), ignored by the cpu build. */
  readonly gpuLayers?: number;
  /**
   * Total KV cells over all sequences, or a function of the model's training context length that
   * gives it (default: the training context length).
   */
  readonly contextSize?: number | ((trainContextLength: number) => number);
  /** Most sequences decoded together (default 16). */
  readonly maxSequences?: number;
  /** Most tokens per decode (default 512) and the physical micro-batch (default = batchSize). */
  readonly batchSize?: number;
  readonly microBatchSize?: number;
  /** Unified KV (a copy shares cells) or one stream per sequence (default true). */
  readonly unifiedKv?: boolean;
  /** Decode threads (default: physical cores). */
  readonly threads?: number;
  readonly flashAttention?: 'auto' | 'on' | 'off';
  /**
   * Produce embeddings instead of logits (embedding models); 'auto': when the model declares a
   * pooling (mean, cls, last or rank). Default false. With embeddings a decode is one
   * micro-batch (pooling needs each sequence whole), so the micro-batch is the batch size.
   */
  readonly embeddings?: boolean | 'auto';
  readonly useMmap?: boolean;
  /**
   * llama.cpp's log lines at or below this level (0 none, 1 error, 2 warn, 3 info, 4 debug) go to
   * `log`, or to stderr without one. Default: errors to stderr.
   */
  readonly logLevel?: number;
  readonly log?: (level: number, text: string) => void;
  /**
   * Decode-only steps whose predecessor took at most this many milliseconds run on the JS thread
   * (see decode-placement.ts); 0 = always on the worker. Default DEFAULT_MAX_SYNC_DECODE_MS.
   */
  readonly maxSyncDecodeMs?: number;
}

function resolveContextSize(
  option: LlamaBackendOptions['contextSize'],
  trainContextLength: number,
): number {
  if (option === undefined) return trainContextLength;
  return typeof option === 'function' ? option(trainContextLength) : option;
}

function orNull(token: number): number | null {
  return token < 0 ? null : token;
}

function describeModel(model: NativeModel, tokenizer: LlamaTokenizer): ModelInfo {
  const info = model.info;
  return {
    vocabSize: info.vocabSize,
    trainContextLength: info.trainContextLength,
    embeddingLength: info.embeddingLength,
    layerCount: info.layerCount,
    parameterCount: info.parameterCount,
    sizeBytes: info.sizeBytes,
    description: info.description,
    bosToken: orNull(info.bosToken),
    eosToken: orNull(info.eosToken),
    eotToken: orNull(info.eotToken),
    fillInTheMiddle:
      info.fimPreToken >= 0 && info.fimSufToken >= 0 && info.fimMidToken >= 0
        ? { prefix: info.fimPreToken, suffix: info.fimSufToken, middle: info.fimMidToken }
        : null,
    addBos: info.addBos,
    endOfGenerationTokens: tokenizer.endOfGenerationTokens(),
    chatTemplate: model.chatTemplate(),
    metadata: model.metadata(),
    poolingType: info.poolingType,
  };
}

class LlamaKvOperations implements KvSequenceOperations {
  readonly #context: NativeContext;

  constructor(context: NativeContext) {
    this.#context = context;
  }

  remove(sequenceId: number, from: number, to: number | null): boolean {
    return this.#context.kvRemove(sequenceId, from, to ?? -1);
  }

  copy(source: number, destination: number, from: number, to: number | null): void {
    this.#context.kvCopy(source, destination, from, to ?? -1);
  }

  keepOnly(sequenceId: number): void {
    this.#context.kvKeep(sequenceId);
  }

  shift(sequenceId: number, from: number, to: number | null, delta: number): void {
    this.#context.kvShift(sequenceId, from, to ?? -1, delta);
  }

  positions(sequenceId: number): { readonly min: number; readonly max: number } | null {
    const max = this.#context.kvMaxPosition(sequenceId);
    return max < 0 ? null : { min: this.#context.kvMinPosition(sequenceId), max };
  }

  clear(): void {
    this.#context.kvClear();
  }
}

export class LlamaBackend implements ModelBackend {
  readonly info: ModelInfo;
  readonly tokenizer: LlamaTokenizer;
  readonly kvLayout: KvLayout;
  readonly kv: KvSequenceOperations;
  /** What the loaded kernels are (version, CPU features, devices). */
  readonly kernels: NativeInitInfo;
  readonly #model: NativeModel;
  readonly #context: NativeContext;
  readonly #embeddings: boolean;
  readonly #placement: DecodePlacement;
  #decodes = 0;
  #syncDecodes = 0;
  #disposed = false;

  private constructor(
    model: NativeModel,
    context: NativeContext,
    kernels: NativeInitInfo,
    maxSyncDecodeMs: number,
  ) {
    this.#placement = new DecodePlacement(maxSyncDecodeMs);
    this.#model = model;
    this.#context = context;
    this.#embeddings = context.info.embeddings;
    this.kernels = kernels;
    this.tokenizer = new LlamaTokenizer(model);
    this.info = describeModel(model, this.tokenizer);
    const c = context.info;
    this.kvLayout = {
      totalCells: c.contextSize,
      cellsPerSequence: c.sequenceContextSize,
      maxSequences: c.maxSequences,
      maxBatchTokens: c.batchSize,
      unified: c.unifiedKv,
    };
    this.kv = new LlamaKvOperations(context);
  }

  /** Load the model and create its context. */
  static async load(options: LlamaBackendOptions): Promise<LlamaBackend> {
    const batchSize = options.batchSize ?? 512;
    const maxSequences = options.maxSequences ?? 16;
    if (maxSequences > batchSize) {
      // llama.cpp 0.4.0 reserves an output row per sequence, at most one per batch token: more
      // sequences than batch tokens abort the process (GGML_ASSERT in output_reserve).
      throw new RangeError(
        `maxSequences (${maxSequences}) must not exceed batchSize (${batchSize}): llama.cpp needs an output row per sequence within a batch`,
      );
    }
    const { addon, info: kernels } = loadAddon(options.variant ?? 'auto');
    if (options.logLevel !== undefined || options.log !== undefined) {
      addon.setLogger(options.logLevel ?? 1, options.log ?? null);
    }
    const model = await addon.loadModel(options.modelPath, {
      gpuLayers: options.gpuLayers ?? -1,
      useMmap: options.useMmap ?? true,
      vocabOnly: false,
    });
    try {
      const embeddings =
        options.embeddings === 'auto'
          ? POOLED.includes(model.info.poolingType)
          : (options.embeddings ?? false);
      const context = await model.createContext({
        contextSize: resolveContextSize(options.contextSize, model.info.trainContextLength),
        batchSize,
        microBatchSize: embeddings ? batchSize : (options.microBatchSize ?? batchSize),
        maxSequences,
        // Embeddings use one unified stream: with a stream per sequence, llama.cpp 0.4.0 pooled
        // the second sequence of a batch over only its last tokens (test/embeddings-e2e.test.ts).
        unifiedKv: embeddings || (options.unifiedKv ?? true),
        threads: options.threads ?? addon.physicalCores(),
        flashAttention: options.flashAttention ?? 'auto',
        embeddings,
      });
      return new LlamaBackend(
        model,
        context,
        kernels,
        options.maxSyncDecodeMs ?? DEFAULT_MAX_SYNC_DECODE_MS,
      );
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  async decode(request: DecodeRequest): Promise<DecodeResult> {
    if (this.#disposed) throw new Error('backend is disposed');
    const tokenCount = validateDecodeRequest(request, this.kvLayout, this.info.vocabSize);
    this.#decodes++;
    const step = packStep(request, this.info.vocabSize, tokenCount);
    if (this.#embeddings) {
      const result = await this.#context.decode(step.batch);
      return {
        rows: [],
        embeddings: unpackEmbeddings(result),
        decodeMs: result.decodeMs,
        sampleMs: 0,
      };
    }
    const sequences = request.chunks.length;
    let result;
    if (this.#placement.runsOnJsThread(tokenCount, sequences)) {
      // One event-loop turn first: the previous step's outputs reach their sockets and new
      // requests are read before the JS thread is taken for the decode.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#disposed) throw new Error('backend is disposed');
      this.#syncDecodes++;
      result = this.#context.decodeSync(step.batch, step.sampling);
    } else {
      result = await this.#context.decode(step.batch, step.sampling);
    }
    this.#placement.record(tokenCount, sequences, result.decodeMs + result.sampleMs);
    const rows =
      step.sampling === undefined
        ? []
        : unpackRows(result, this.info.vocabSize, step.sampling.returnLogits);
    return { rows, embeddings: [], decodeMs: result.decodeMs, sampleMs: result.sampleMs };
  }

  /** Put the decode threads to sleep (they poll for the next decode otherwise; see threadpool.h). */
  idle(): void {
    if (!this.#disposed) this.#context.pauseThreads();
  }

  /**
   * One small decode before serving (a few prompt tokens and a greedy row in sequence 0, then
   * removed): a kernel build that cannot run on this machine fails at startup rather than on the
   * first request (the prebuilt CUDA build aborts the process on an H200 whose driver is older
   * than its PTX), and that request pays no one-time kernel setup. Counted in no statistic.
   */
  async warmUp(): Promise<void> {
    if (this.#disposed) throw new Error('backend is disposed');
    const length = Math.min(
      WARM_UP_TOKENS,
      this.kvLayout.maxBatchTokens,
      this.kvLayout.cellsPerSequence,
    );
    const request: DecodeRequest = {
      chunks: [
        {
          sequenceId: 0,
          startPosition: 0,
          tokens: Array.from({ length }, (_, i) => i % this.info.vocabSize),
          rows: [
            {
              offset: length - 1,
              sampling: this.#embeddings ? null : GREEDY_SAMPLING,
              topLogprobs: 0,
              targetToken: null,
              returnLogits: false,
            },
          ],
        },
      ],
    };
    const tokenCount = validateDecodeRequest(request, this.kvLayout, this.info.vocabSize);
    const step = packStep(request, this.info.vocabSize, tokenCount);
    try {
      await this.#context.decode(step.batch, this.#embeddings ? undefined : step.sampling);
    } finally {
      this.#context.kvClear();
      this.#context.pauseThreads();
    }
  }

  /** True when this backend produces embeddings (an embedding model), not logits. */
  get embeddings(): boolean {
    return this.#embeddings;
  }

  /** Decodes issued to the kernels so far (for tests that count steps against decodes). */
  get decodeCount(): number {
    return this.#decodes;
  }

  /** How many of those ran synchronously on the JS thread (see decode-placement.ts). */
  get syncDecodeCount(): number {
    return this.#syncDecodes;
  }

  dispose(): Promise<void> {
    if (!this.#disposed) {
      this.#disposed = true;
      this.#context.dispose();
      this.#model.dispose();
    }
    return Promise.resolve();
  }
}
