/**
 * A request's output stream: a small unbounded single-consumer async queue.
 *
 * Owns: delivery of one request's outputs to whoever iterates them. Items are delivered in order;
 * after `end` the iteration finishes once the buffer is drained, after `fail` it throws the error
 * once the buffer is drained. A consumer that stops early (`break`, `return()`) cancels the
 * stream: the buffer is dropped and `onCancel` runs (the engine aborts the request). Pushes after
 * the stream closed are ignored. Bounded by construction: a request yields at most maxTokens + 1
 * items.
 */

export class OutputStream<T> implements AsyncIterable<T> {
  readonly #onCancel: () => void;
  readonly #buffer: T[] = [];
  #closed = false;
  #error: Error | null = null;
  #cancelled = false;
  #iterated = false;
  #wake: (() => void) | null = null;

  /** `onCancel` runs once if the consumer stops before the stream ended. */
  constructor(onCancel: () => void = () => {}) {
    this.#onCancel = onCancel;
  }

  /** Whether `end` or `fail` was called, or the consumer cancelled. */
  get closed(): boolean {
    return this.#closed;
  }

  push(item: T): void {
    if (this.#closed) return;
    this.#buffer.push(item);
    this.#notify();
  }

  /** No more items. */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#notify();
  }

  /** No more items; the consumer's next read after the buffered ones throws `error`. */
  fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterated) throw new Error('an output stream can be iterated only once');
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.#cancel();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async #next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.#cancelled) return { done: true, value: undefined };
      if (this.#buffer.length > 0) return { done: false, value: this.#buffer.shift()! };
      if (this.#closed) {
        const error = this.#error;
        if (error === null) return { done: true, value: undefined };
        this.#error = null;
        throw error;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#buffer.length = 0;
    const wasOpen = !this.#closed;
    this.#closed = true;
    this.#notify();
    if (wasOpen) this.#onCancel();
  }
}
