/**
 * A deterministic ModelBackend with scripted logits, for engine tests without a model.
 *
 * Owns: a model whose next-token logits are a function the test gives of the sequence's tokens,
 * decoded with the same validation, KV rules and sampler semantics as the real backend (the
 * reference sampler). Each decode resolves on a later tick, like the native worker.
 */
import { FakeKvCache } from './fake-kv-cache.ts';
import { ByteTokenizer } from './fake-tokenizer.ts';
import type {
  DecodeRequest,
  DecodeResult,
  FillInTheMiddleTokens,
  KvLayout,
  ModelBackend,
  ModelInfo,
  RowResult,
} from './model-backend.ts';
import { sampleRow } from './reference-sampler.ts';
import { validateDecodeRequest } from './validate-decode-request.ts';

/** The scripted model: logits (length vocabSize) after `tokens`, the sequence's whole history. */
export type ScriptedLogits = (tokens: readonly number[]) => Float32Array;

export interface FakeBackendOptions {
  readonly logits: ScriptedLogits;
  /**
   * Special token texts, ids 256, 257, ...; default ["<|endoftext|>", "<|im_start|>", "<|im_end|>"].
   * "<|fim_prefix|>", "<|fim_suffix|>" and "<|fim_middle|>" among them make the fill-in-the-middle
   * tokens (as llama.cpp recognises them by text).
   */
  readonly specials?: readonly string[];
  /** Tokens that end generation; default [256, 258]. */
  readonly endOfGeneration?: readonly number[];
  readonly kvLayout?: Partial<KvLayout>;
  readonly trainContextLength?: number;
  readonly chatTemplate?: string | null;
}

const DEFAULT_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

function fimTokens(specials: readonly string[]): FillInTheMiddleTokens | null {
  const [prefix, suffix, middle] = ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'].map(
    (text) => specials.indexOf(text),
  );
  if (prefix === undefined || suffix === undefined || middle === undefined) return null;
  if (prefix < 0 || suffix < 0 || middle < 0) return null;
  return { prefix: 256 + prefix, suffix: 256 + suffix, middle: 256 + middle };
}

export class FakeBackend implements ModelBackend {
  readonly info: ModelInfo;
  readonly tokenizer: ByteTokenizer;
  readonly kvLayout: KvLayout;
  readonly kv: FakeKvCache;
  /** Every request decode() received, for assertions on batching. */
  readonly decodeLog: DecodeRequest[] = [];
  /** How many decodes had been made at each idle() call, in order. */
  readonly idleLog: number[] = [];
  readonly #logits: ScriptedLogits;
  #busy = false;
  #disposed = false;

  constructor(options: FakeBackendOptions) {
    const specials = options.specials ?? DEFAULT_SPECIALS;
    const endOfGeneration = options.endOfGeneration ?? [256, 258];
    this.tokenizer = new ByteTokenizer(specials, endOfGeneration);
    this.#logits = options.logits;
    this.kvLayout = {
      totalCells: 4096,
      cellsPerSequence: 4096,
      maxSequences: 16,
      maxBatchTokens: 512,
      unified: true,
      ...options.kvLayout,
    };
    this.kv = new FakeKvCache(this.kvLayout);
    this.info = {
      vocabSize: this.tokenizer.vocabSize,
      trainContextLength: options.trainContextLength ?? 4096,
      embeddingLength: 0,
      layerCount: 0,
      parameterCount: 0,
      sizeBytes: 0,
      description: 'fake byte model',
      bosToken: 256,
      eosToken: 256,
      eotToken: specials.length > 2 ? 258 : null,
      fillInTheMiddle: fimTokens(specials),
      addBos: false,
      endOfGenerationTokens: [...endOfGeneration].sort((a, b) => a - b),
      chatTemplate: options.chatTemplate ?? null,
      metadata: {},
      poolingType: 'unspecified',
    };
  }

  async decode(request: DecodeRequest): Promise<DecodeResult> {
    if (this.#disposed) throw new Error('backend is disposed');
    if (this.#busy) throw new Error('a decode is already in flight');
    validateDecodeRequest(request, this.kvLayout, this.info.vocabSize);
    this.#busy = true;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return this.#decodeNow(request);
    } finally {
      this.#busy = false;
    }
  }

  #decodeNow(request: DecodeRequest): DecodeResult {
    let pendingTotal = 0;
    for (const chunk of request.chunks) {
      const expected = this.kv.nextPosition(chunk.sequenceId);
      if (chunk.startPosition !== expected) {
        throw new RangeError(
          `sequence ${chunk.sequenceId} must continue at position ${expected}, got ${chunk.startPosition}`,
        );
      }
      if (!this.kv.fits(chunk.sequenceId, chunk.tokens.length, pendingTotal, 0)) {
        throw new Error('decode failed: no KV slot for the batch (code 1)');
      }
      pendingTotal += chunk.tokens.length;
    }
    this.decodeLog.push(request);
    const rows: RowResult[] = [];
    for (const chunk of request.chunks) {
      const history = this.kv.tokensOf(chunk.sequenceId);
      chunk.tokens.forEach((token, i) =>
        this.kv.append(chunk.sequenceId, chunk.startPosition + i, token),
      );
      for (const row of chunk.rows) {
        const logits = this.#logits([...history, ...chunk.tokens.slice(0, row.offset + 1)]);
        if (logits.length !== this.info.vocabSize) {
          throw new RangeError(
            `scripted logits have ${logits.length} entries, vocab is ${this.info.vocabSize}`,
          );
        }
        rows.push(sampleRow(logits, row));
      }
    }
    return { rows, embeddings: [], decodeMs: 0, sampleMs: 0 };
  }

  idle(): void {
    if (this.#disposed) return;
    if (this.#busy) throw new Error('idle() while a decode is in flight');
    this.idleLog.push(this.decodeLog.length);
  }

  dispose(): Promise<void> {
    this.#disposed = true;
    return Promise.resolve();
  }
}
