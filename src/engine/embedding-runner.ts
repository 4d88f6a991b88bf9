/**
 * Embeddings of an embedding model (vLLM's pooling runner, without its scheduler): the pooled
 * vector of each input.
 *
 * Owns: running embedding jobs one at a time, in arrival order; packing a job's inputs into
 * decodes of at most `maxSequences` inputs and `maxBatchTokens` tokens, one KV sequence per
 * input, each input whole in one decode (pooling needs the whole sequence); clearing the KV cache
 * after every decode; vLLM's default normalization (L2, an `embed` pooler's `normalize`).
 * The backend must be an embedding backend that pools (mean, cls, last) and serve nothing else.
 */
import type { ModelBackend, SequenceChunk } from '../backend/model-backend.ts';
import { EngineRequestError } from './engine-types.ts';

/** The vector divided by its L2 norm (a zero vector stays zero). */
export function l2Normalized(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  return norm === 0 ? vector.slice() : vector.map((value) => value / norm);
}

export class EmbeddingRunner {
  readonly #backend: ModelBackend;
  /** The job queue: each job starts when the one before it has settled. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(backend: ModelBackend) {
    this.#backend = backend;
  }

  /** The longest input one decode can pool. */
  get maxInputTokens(): number {
    const layout = this.#backend.kvLayout;
    return Math.min(layout.maxBatchTokens, layout.cellsPerSequence);
  }

  /**
   * The normalized pooled embedding of each input, in input order. Throws EngineRequestError for
   * an empty input or one longer than `maxInputTokens`.
   */
  embed(inputs: readonly (readonly number[])[]): Promise<Float32Array[]> {
    inputs.forEach((tokens, index) => {
      if (tokens.length === 0) {
        throw new EngineRequestError(`input ${index} is empty.`, 'input');
      }
      if (tokens.length > this.maxInputTokens) {
        throw new EngineRequestError(
          `input ${index} has ${tokens.length} tokens; at most ${this.maxInputTokens} fit.`,
          'input',
        );
      }
    });
    const job = this.#tail.then(() => this.#run(inputs));
    this.#tail = job.catch(() => undefined);
    return job;
  }

  async #run(inputs: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const { maxSequences, maxBatchTokens } = this.#backend.kvLayout;
    const vectors: Float32Array[] = new Array<Float32Array>(inputs.length);
    let next = 0;
    while (next < inputs.length) {
      const chunks: SequenceChunk[] = [];
      let tokens = 0;
      while (
        next < inputs.length &&
        chunks.length < maxSequences &&
        tokens + inputs[next]!.length <= maxBatchTokens
      ) {
        const input = inputs[next]!;
        chunks.push({
          sequenceId: chunks.length,
          startPosition: 0,
          tokens: input,
          // Every position is an output: llama.cpp pools over the outputs of a sequence.
          rows: input.map((_, offset) => ({
            offset,
            sampling: null,
            topLogprobs: 0,
            targetToken: null,
            returnLogits: false,
          })),
        });
        tokens += input.length;
        next++;
      }
      const first = next - chunks.length;
      try {
        const result = await this.#backend.decode({ chunks });
        if (result.embeddings.length !== chunks.length) {
          throw new Error(
            `the backend pooled ${result.embeddings.length} embeddings for ${chunks.length} inputs`,
          );
        }
        for (const { sequenceId, vector } of result.embeddings) {
          vectors[first + sequenceId] = l2Normalized(vector);
        }
      } finally {
        this.#backend.kv.clear();
      }
    }
    this.#backend.idle();
    return vectors;
  }
}
