/**
 * The engine requests of one HTTP call, as one stream of outputs.
 *
 * Owns: adding the call's requests (all or none: a refusal aborts the ones already added),
 * merging their output streams in arrival order tagged with the request's position, tracking
 * which requests are unfinished, and aborting those at once when the client goes away or the
 * consumer stops early (an error, a failed write). Aborting is idempotent.
 */
import type { ServerResponse } from 'node:http';
import type {
  BeamSearchSettings,
  EngineClient,
  EngineRequest,
  RequestOutput,
} from '../../engine/engine-types.ts';
import { InternalServerError } from '../errors.ts';
import type { PlannedRequest } from '../params/n-samples.ts';
import { engineRequestId } from '../served-models.ts';

/** One engine output and the position of its request in the call (its choice index). */
export interface IndexedOutput {
  readonly index: number;
  readonly output: RequestOutput;
}

/** The running requests of one HTTP call. */
export interface Generation {
  /** Every output of every request, in arrival order; ends when all requests have finished. Iterate once. */
  readonly outputs: AsyncIterable<IndexedOutput>;
  /** Abort every request that has not finished yet (no-op for the rest, and when repeated). */
  abort(): void;
}

type Pull = Promise<{ readonly index: number; readonly result: IteratorResult<RequestOutput> }>;

/**
 * The engine requests of a plan's choices: ids derived from the response id and the choice
 * index, each shared prompt pointing at the id of the choice it copies, the request's priority.
 */
export function toEngineRequests(
  responseId: string,
  planned: readonly PlannedRequest[],
  priority: number | undefined = undefined,
): EngineRequest[] {
  const ids = planned.map((_, index) => engineRequestId(responseId, index));
  return planned.map((request, index) => ({
    id: ids[index]!,
    promptTokens: request.promptTokens,
    params: request.params,
    sharesPromptWith: request.sharesPromptWith === null ? undefined : ids[request.sharesPromptWith],
    priority,
    siblings: planned.length,
  }));
}

/** A request's stream ended before an output with a finish reason: an engine bug. */
function endedWithoutFinish(id: string): InternalServerError {
  return new InternalServerError(`The engine ended request ${id} without a finish reason.`);
}

/** Cancels a stream we no longer read (after aborting its request). */
function closeQuietly(iterator: AsyncIterator<RequestOutput>): void {
  const closing = iterator.return?.();
  if (closing !== undefined) closing.catch(() => undefined);
}

/** Reads a finished request's stream to its end in the background, so it completes naturally. */
function drainQuietly(iterator: AsyncIterator<RequestOutput>): void {
  iterator.next().then(
    (result) => {
      if (result.done !== true) drainQuietly(iterator);
    },
    () => undefined,
  );
}

/**
 * Adds every request to the engine and returns their merged outputs. Throws (after aborting any
 * request already added) when the engine refuses one.
 */
export function startGeneration(
  engine: EngineClient,
  requests: readonly EngineRequest[],
): Generation {
  const iterators: AsyncIterator<RequestOutput>[] = [];
  try {
    for (const request of requests) iterators.push(engine.add(request)[Symbol.asyncIterator]());
  } catch (error) {
    for (const request of requests.slice(0, iterators.length)) engine.abort(request.id);
    throw error;
  }
  return mergedGeneration(
    engine,
    iterators,
    requests.map((request) => request.id),
  );
}

/**
 * Adds one beam search per request (`width` answers each) and returns their merged outputs:
 * request i's answer j is output index i * width + j. Throws like startGeneration.
 */
export function startBeamGeneration(
  engine: EngineClient,
  requests: readonly EngineRequest[],
  options: BeamSearchSettings,
): Generation {
  const iterators: AsyncIterator<RequestOutput>[] = [];
  const ids: string[] = [];
  try {
    for (const request of requests) {
      for (const stream of engine.addBeamSearch(request, options)) {
        iterators.push(stream[Symbol.asyncIterator]());
        ids.push(request.id);
      }
    }
  } catch (error) {
    for (const id of new Set(ids)) engine.abort(id);
    throw error;
  }
  return mergedGeneration(engine, iterators, ids);
}

/** The outputs of `iterators` as one stream; `ids[i]` is the engine request behind stream i. */
function mergedGeneration(
  engine: EngineClient,
  iterators: readonly AsyncIterator<RequestOutput>[],
  ids: readonly string[],
): Generation {
  const unfinished = new Set(iterators.keys());
  const abort = (): void => {
    for (const index of unfinished) engine.abort(ids[index]!);
    unfinished.clear();
  };

  async function* merge(): AsyncGenerator<IndexedOutput> {
    const pending = new Map<number, Pull>();
    const pull = (index: number): void => {
      pending.set(
        index,
        iterators[index]!.next().then((result) => ({ index, result })),
      );
    };
    iterators.forEach((_, index) => pull(index));
    try {
      while (pending.size > 0) {
        const { index, result } = await Promise.race(pending.values());
        pending.delete(index);
        if (result.done === true) throw endedWithoutFinish(ids[index]!);
        if (result.value.finishReason === null) pull(index);
        else {
          unfinished.delete(index);
          drainQuietly(iterators[index]!);
        }
        yield { index, output: result.value };
      }
    } finally {
      abort();
      for (const [index, next] of pending) {
        next.catch(() => undefined);
        closeQuietly(iterators[index]!);
      }
    }
  }

  /** One request (most calls): its stream as is, without the race over pending pulls. */
  async function* single(): AsyncGenerator<IndexedOutput> {
    const iterator = iterators[0]!;
    let finished = false;
    try {
      while (!finished) {
        const result = await iterator.next();
        if (result.done === true) throw endedWithoutFinish(ids[0]!);
        if (result.value.finishReason !== null) {
          finished = true;
          unfinished.delete(0);
          drainQuietly(iterator);
        }
        yield { index: 0, output: result.value };
      }
    } finally {
      abort();
      if (!finished) closeQuietly(iterator);
    }
  }

  return {
    outputs: { [Symbol.asyncIterator]: iterators.length === 1 ? single : merge },
    abort,
  };
}

/**
 * Aborts `generation` as soon as the client's connection closes before the response is
 * complete (streaming or not, queued or running), or at once if it already has.
 */
export function abortOnDisconnect(response: ServerResponse, generation: Generation): void {
  if (response.destroyed) {
    generation.abort();
    return;
  }
  response.once('close', () => {
    if (!response.writableFinished) generation.abort();
  });
}
