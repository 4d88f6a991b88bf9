/**
 * A fake EngineClient for HTTP tests: streams scripted outputs and records what it was asked.
 *
 * Owns: per-request scripts (text pieces, the finish and stop reasons, an optional failure),
 * refusals at `add` (EngineRequestError), a gate that holds every stream before its first
 * output (a queued request), pacing between outputs, and the log of `add` and `abort` calls.
 * An aborted stream ends at once with finishReason "abort", as the real engine's does.
 */
import type {
  BeamSearchSettings,
  EngineClient,
  EngineRequest,
  EngineRequestError,
  EngineStats,
  FinishReason,
  RequestOutput,
} from '../../engine/engine-types.ts';

/** What one request streams. */
export interface Script {
  /** Text of each update, one token each; the last one carries the finish reason. */
  readonly pieces: readonly string[];
  /** Default "length". */
  readonly finishReason?: FinishReason;
  readonly stopReason?: string | number | null;
  /** Send the finish reason on an extra update with no text. */
  readonly separateFinal?: boolean;
  /** Throw this after `failAfter` pieces (default: after all of them) instead of finishing. */
  readonly error?: Error;
  readonly failAfter?: number;
  /** The prompt tokens every update reports found in the prefix cache. Default 0. */
  readonly cachedTokens?: number;
}

/** How the fake engine behaves; every field optional. */
export interface ScriptedEngineOptions {
  readonly maxModelLen?: number;
  /** The script of each request. Default: `maxTokens` pieces "a", finish "length". */
  readonly script?: (request: EngineRequest) => Script;
  /** A refusal to throw from `add`, or null to accept. */
  readonly refuse?: (request: EngineRequest) => EngineRequestError | null;
  /** Every stream waits for this before its first output. */
  readonly gate?: Promise<void>;
  /** Milliseconds between outputs (default 0: the next macrotask). */
  readonly delayMs?: number;
}

const defaultScript = (request: EngineRequest): Script => ({
  pieces: Array.from({ length: request.params.maxTokens }, () => 'a'),
});

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An EngineClient that plays scripts and records `add`/`abort` calls. */
export class ScriptedEngine implements EngineClient {
  readonly maxModelLen: number;
  /** Every accepted request, in order. */
  readonly added: EngineRequest[] = [];
  /** Every abort call's id, in order (also for unknown or finished ids). */
  readonly aborted: string[] = [];
  /** Ids whose stream has ended (finished, aborted or failed). */
  readonly ended = new Set<string>();
  readonly #options: ScriptedEngineOptions;
  readonly #abortSignals = new Map<string, () => void>();
  readonly #abortedIds = new Set<string>();
  #abortListeners: (() => void)[] = [];

  constructor(options: ScriptedEngineOptions = {}) {
    this.#options = options;
    this.maxModelLen = options.maxModelLen ?? 4096;
  }

  /** Beam searches asked for, with their options. */
  readonly beamSearches: ({ request: EngineRequest } & BeamSearchSettings)[] = [];

  /** A beam search: `width` scripted requests with ids `<id>#<j>`. */
  addBeamSearch(
    request: EngineRequest,
    options: BeamSearchSettings,
  ): AsyncIterable<RequestOutput>[] {
    this.beamSearches.push({ request, ...options });
    return Array.from({ length: options.width }, (_, j) =>
      this.add({ ...request, id: `${request.id}#${j}` }),
    );
  }

  add(request: EngineRequest): AsyncIterable<RequestOutput> {
    const refusal = this.#options.refuse?.(request) ?? null;
    if (refusal !== null) throw refusal;
    this.added.push(request);
    const aborted = new Promise<void>((resolve) => this.#abortSignals.set(request.id, resolve));
    const script = (this.#options.script ?? defaultScript)(request);
    return this.#run(request, script, aborted);
  }

  abort(requestId: string): void {
    this.aborted.push(requestId);
    const signal = this.#abortSignals.get(requestId);
    if (signal !== undefined && !this.ended.has(requestId)) {
      this.#abortedIds.add(requestId);
      signal();
    }
    for (const listener of this.#abortListeners) listener();
  }

  /** Resolves once `abort` has been called for `requestId`. */
  async waitForAbort(requestId: string): Promise<void> {
    while (!this.aborted.includes(requestId)) {
      await new Promise<void>((resolve) => this.#abortListeners.push(resolve));
      this.#abortListeners = [];
    }
  }

  stats(): EngineStats {
    const live = this.added.filter((request) => !this.ended.has(request.id)).length;
    return {
      running: live,
      waiting: 0,
      kvUsage: 0,
      kvBlocksUsed: 0,
      kvBlocksTotal: 0,
      cachedSequences: 0,
      prefixCacheQueries: 0,
      prefixCacheHits: 0,
      preemptions: 0,
      steps: 0,
      decodes: 0,
      promptTokens: 0,
      forkedPromptTokens: 0,
      generationTokens: 0,
    };
  }

  shutdown(): Promise<void> {
    for (const request of this.added) this.abort(request.id);
    return Promise.resolve();
  }

  async *#run(
    request: EngineRequest,
    script: Script,
    aborted: Promise<void>,
  ): AsyncGenerator<RequestOutput> {
    const promptTokens = request.promptTokens.length;
    const update = (
      text: string,
      tokens: number,
      completionTokens: number,
      finish: FinishReason | null,
      stop: string | number | null = null,
    ): RequestOutput => ({
      requestId: request.id,
      text,
      tokenIds: Array.from({ length: tokens }, () => 97),
      promptTokens,
      completionTokens,
      cachedTokens: script.cachedTokens ?? 0,
      finishReason: finish,
      stopReason: stop,
      logprobs: null,
      promptLogprobs: null,
    });
    try {
      if (this.#options.gate !== undefined) await Promise.race([this.#options.gate, aborted]);
      const failAfter = script.failAfter ?? script.pieces.length;
      for (let i = 0; i < script.pieces.length; i += 1) {
        await Promise.race([wait(this.#options.delayMs ?? 0), aborted]);
        if (this.#abortedIds.has(request.id)) {
          yield update('', 0, i, 'abort');
          return;
        }
        if (script.error !== undefined && i === failAfter) throw script.error;
        const last = i === script.pieces.length - 1 && script.separateFinal !== true;
        const finish = last ? (script.finishReason ?? 'length') : null;
        yield update(
          script.pieces[i]!,
          1,
          i + 1,
          finish,
          last ? (script.stopReason ?? null) : null,
        );
      }
      if (this.#abortedIds.has(request.id)) {
        yield update('', 0, script.pieces.length, 'abort');
        return;
      }
      if (script.error !== undefined) throw script.error;
      if (script.separateFinal === true || script.pieces.length === 0) {
        const count = script.pieces.length;
        yield update('', 0, count, script.finishReason ?? 'length', script.stopReason ?? null);
      }
    } finally {
      this.ended.add(request.id);
    }
  }
}
