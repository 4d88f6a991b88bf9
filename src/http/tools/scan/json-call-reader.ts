/**
 * Reading one JSON call object, `{"name": "f", "arguments": {...}}`, as it streams.
 *
 * Owns: which keys matter (`name`, and `arguments` or `parameters`, first occurrence wins;
 * other keys are skipped), when a call is certain enough to announce (its name is known and its
 * arguments have begun, in either key order; or, where the format allows calls without
 * arguments, the object or the output ended), and the arguments as compact JSON fragments, held
 * until the call is announced and then released as they arrive.
 */
import { JsonLexer, type LexStatus } from './json-lexer.ts';
import { CompactJsonWriter, type ValueSink } from './json-writer.ts';

type Route = 'name' | 'arguments' | 'skip';

/** Splits the call object's events between its name, its arguments and everything else. */
class CallObjectRouter implements ValueSink {
  name: string | null = null;
  args: CompactJsonWriter | null = null;
  /** The value is not a call object (not an object, or a name that is not a string). */
  invalid = false;
  closed = false;
  #depth = 0;
  #route: Route | null = null;
  #target: CompactJsonWriter | null = null;
  #nameSeen = false;

  openObject(): void {
    if (this.#depth++ > 0) this.#target?.openObject();
  }

  openArray(): void {
    if (this.#depth++ === 0) this.invalid = true;
    else this.#target?.openArray();
  }

  close(): void {
    if (--this.#depth === 0) {
      this.closed = true;
      return;
    }
    this.#target?.close();
    this.#afterEvent();
  }

  key(literal: string): void {
    if (this.#depth === 1) this.#select(JSON.parse(literal) as string);
    else this.#target?.key(literal);
  }

  openString(): void {
    if (this.#depth === 0) this.invalid = true;
    else this.#target?.openString();
  }

  stringText(escaped: string): void {
    this.#target?.stringText(escaped);
    if (this.#route === 'skip') this.#target?.take();
  }

  closeString(): void {
    this.#target?.closeString();
    this.#afterEvent();
  }

  scalar(literal: string): void {
    if (this.#depth === 0) this.invalid = true;
    else this.#target?.scalar(literal);
    this.#afterEvent();
  }

  #select(key: string): void {
    if (key === 'name' && !this.#nameSeen) {
      this.#nameSeen = true;
      this.#route = 'name';
      this.#target = new CompactJsonWriter();
    } else if ((key === 'arguments' || key === 'parameters') && this.args === null) {
      this.#route = 'arguments';
      this.args = new CompactJsonWriter();
      this.#target = this.args;
    } else {
      this.#route = 'skip';
      this.#target = new CompactJsonWriter();
    }
  }

  /** Ends the current top-level value once its writer has all of it. */
  #afterEvent(): void {
    const target = this.#target;
    if (this.#depth !== 1 || target === null || !target.complete) return;
    if (this.#route === 'name') {
      const name: unknown = JSON.parse(target.take());
      if (typeof name === 'string' && name !== '') this.name = name;
      else this.invalid = true;
    }
    this.#route = null;
    this.#target = null;
  }
}

/** One call object, fed a character at a time. */
export class JsonCallReader {
  readonly #router = new CallObjectRouter();
  readonly #lexer = new JsonLexer(this.#router);
  readonly #requireArguments: boolean;
  #ended = false;

  /** `requireArguments`: an object without `arguments`/`parameters` is not a call. */
  constructor(requireArguments: boolean) {
    this.#requireArguments = requireArguments;
  }

  /** Feeds one character; `error` also when the text is not a call object. */
  push(ch: string): LexStatus {
    const status = this.#lexer.push(ch);
    return this.#router.invalid ? 'error' : status;
  }

  /** Ends the input (completes a trailing number). */
  end(): void {
    this.#lexer.end();
    this.#ended = true;
  }

  /** The function name, once complete. */
  get name(): string | null {
    return this.#router.name;
  }

  /**
   * True when the call can be announced: its name is known and its arguments are under way (or,
   * where arguments are optional, the object or the input ended without them).
   */
  get ready(): boolean {
    const router = this.#router;
    if (router.name === null || router.invalid) return false;
    if (router.args !== null) return true;
    return !this.#requireArguments && (router.closed || this.#ended);
  }

  /** Arguments text written since the last call (hold it until the call is announced). */
  takeArguments(): string {
    return this.#router.args?.take() ?? '';
  }

  /** The text that ends the arguments: their closing, or `{}` when none were written. */
  closeArguments(): string {
    const args = this.#router.args;
    return args === null || !args.started ? '{}' : args.closing();
  }
}
