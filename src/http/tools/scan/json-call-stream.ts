/**
 * Streaming one JSON call object into tool-call deltas.
 *
 * Owns: the commit point (a call is announced, with its id and name, as soon as its reader is
 * ready, and from then on cannot be taken back) and the end of a call: whatever stopped it
 * (its closing brace, a character that breaks the JSON, the end of the output), an announced
 * call's arguments are completed into valid JSON, so the deltas always add up to a call.
 */
import type { ToolUpdateBuilder } from '../tool-call-parser.ts';
import { JsonCallReader } from './json-call-reader.ts';
import type { LexStatus } from './json-lexer.ts';

/** One call object being streamed. */
export class JsonCallStream {
  readonly #reader: JsonCallReader;
  readonly #updates: ToolUpdateBuilder;
  #index: number | null = null;

  /** `requireArguments`: an object without `arguments`/`parameters` is not a call. */
  constructor(updates: ToolUpdateBuilder, requireArguments: boolean) {
    this.#updates = updates;
    this.#reader = new JsonCallReader(requireArguments);
  }

  /** True once the call has been announced. */
  get announced(): boolean {
    return this.#index !== null;
  }

  /** Feeds one character; announces the call or streams its arguments as they become certain. */
  push(ch: string): LexStatus {
    const status = this.#reader.push(ch);
    if (status !== 'error' && status !== 'done-before') this.#sync();
    return status;
  }

  /**
   * Ends the call where it stands (`outputEnded`: because the output ended): completes an
   * announced call's arguments. Returns whether it was a call; if not, nothing was emitted.
   */
  finish(outputEnded: boolean): boolean {
    if (outputEnded) this.#reader.end();
    this.#sync();
    if (this.#index === null) return false;
    this.#updates.appendArguments(this.#index, this.#reader.closeArguments());
    return true;
  }

  #sync(): void {
    const reader = this.#reader;
    if (this.#index === null) {
      if (!reader.ready || reader.name === null) return;
      this.#index = this.#updates.beginCall(reader.name);
    }
    this.#updates.appendArguments(this.#index, reader.takeArguments());
  }
}
