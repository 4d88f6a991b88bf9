/**
 * One fuzzed HTTP request, independent of the transport that sends it.
 *
 * Owns: the request's method, URL, headers and raw payload bytes, its route path (for the
 * answer's expected shape), and how fast-check prints it in a failure report (payload cut to
 * a readable length, so a 100,000-element body does not flood the report).
 */
import fc from 'fast-check';

/** The POST endpoints the fuzzer targets. */
export type Endpoint =
  | '/v1/completions'
  | '/v1/chat/completions'
  | '/v1/embeddings'
  | '/tokenize'
  | '/detokenize'
  | '/invocations';

/** A request to send: method, URL (path and query), headers, raw payload. */
export class FuzzCase {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** Header names in lower case; no content-type header when absent. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body's bytes, or null for none. */
  readonly payload: Buffer | null;
  /** What generated it (e.g. "json /v1/completions", "raw bytes"), for statistics. */
  readonly kind: string;

  constructor(
    method: 'GET' | 'POST',
    url: string,
    headers: Readonly<Record<string, string>>,
    payload: Buffer | null,
    kind: string,
  ) {
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.payload = payload;
    this.kind = kind;
  }

  /** The URL's path, without the query. */
  get path(): string {
    const query = this.url.indexOf('?');
    return query < 0 ? this.url : this.url.slice(0, query);
  }

  /** A readable one-line description: method, URL, headers, payload (cut to 2,000 bytes). */
  describe(): string {
    const payload =
      this.payload === null
        ? 'no body'
        : this.payload.length > 2000
          ? `${JSON.stringify(this.payload.subarray(0, 2000).toString('latin1'))}... (${this.payload.length} bytes)`
          : JSON.stringify(this.payload.toString('latin1'));
    return `${this.method} ${this.url} ${JSON.stringify(this.headers)} ${payload}`;
  }

  [fc.toStringMethod](): string {
    return this.describe();
  }
}
