/**
 * A minimal Server-Sent Events reader for streamed OpenAI responses: feed it decoded text in
 * chunks of any size (a chunk may end mid-line), get back each event's `data` payload.
 *
 * Owns: line splitting (LF, CRLF or CR), comment lines (`:`), `data:` fields (one optional space
 * stripped, several lines joined with LF) and event boundaries (blank lines). Other fields
 * (`event`, `id`, `retry`) are ignored; interpreting payloads (`[DONE]`, JSON) is the caller's.
 */

/** Incremental SSE parser; one instance per response. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private pendingCr = false;

  /** Feed the next piece of the stream; returns the payloads of the events it completed. */
  push(text: string): string[] {
    const events: string[] = [];
    let input = text;
    if (this.pendingCr && input.startsWith('\n')) input = input.slice(1);
    this.pendingCr = false;
    this.buffer += input;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (match === null) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) this.pendingCr = true;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line, events);
    }
    return events;
  }

  /** The stream ended: returns the payload of an event left without its blank line, if any. */
  end(): string[] {
    const events: string[] = [];
    if (this.buffer !== '') this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.data.push(value);
  }
}
