import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from './sse.ts';

const STREAM =
  ': comment\n\ndata: {"a":1}\n\ndata:{"b":2}\r\n\r\nevent: x\nid: 3\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n';

function feed(pieces: readonly string[]): string[] {
  const parser = new SseParser();
  return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()];
}

describe('SseParser', () => {
  it('reads data payloads, skipping comments and other fields', () => {
    assert.deepEqual(feed([STREAM]), ['{"a":1}', '{"b":2}', 'line1\nline2', '[DONE]']);
  });

  it('gives the same events however the stream is split', () => {
    const whole = feed([STREAM]);
    for (let size = 1; size <= 7; size++) {
      const pieces: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) pieces.push(STREAM.slice(i, i + size));
      assert.deepEqual(feed(pieces), whole, `pieces of ${size}`);
    }
    for (let cut = 0; cut <= STREAM.length; cut++) {
      assert.deepEqual(feed([STREAM.slice(0, cut), STREAM.slice(cut)]), whole, `cut at ${cut}`);
    }
  });

  it('handles CR line ends and a CRLF split between chunks', () => {
    assert.deepEqual(feed(['data: x\r', '\ndata: y\r', '\r', '\n']), ['x\ny']);
    assert.deepEqual(feed(['data: x\r\rdata: y\r\r']), ['x', 'y']);
  });

  it('returns an unterminated last event at the end', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: {"c":3}'), []);
    assert.deepEqual(parser.end(), ['{"c":3}']);
  });
});
