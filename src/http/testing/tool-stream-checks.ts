/**
 * Test support for tool-call parsers: a parser's stream, cut into pieces every which way, must
 * say what its `parse()` says.
 *
 * Owns: the chunkings (whole; split in two at every code-point boundary; one code point at a
 * time; seeded random pieces), the delta rules (a call's first delta carries id, type
 * "function" and name; later ones only index and arguments; indexes count up from 0), and the
 * comparison: no markup in content, content concatenation = parse().content (null ↔ ''), and
 * per call the concatenated argument fragments = parse()'s arguments (as text and as JSON).
 */
import assert from 'node:assert/strict';
import type {
  ToolCallIdGenerator,
  ToolCallParser,
  ToolParseResult,
  ToolStreamUpdate,
} from '../tools/tool-call-parser.ts';

/** Ids `call_0`, `call_1`, ... (a fresh counter per generator). */
export function counterIds(prefix = 'call_'): ToolCallIdGenerator {
  let next = 0;
  return () => `${prefix}${next++}`;
}

/** The parse result with calls `[name, arguments]` and ids `call_0`, `call_1`, ... */
export function parseResult(
  content: string | null,
  calls: readonly (readonly [name: string, args: string])[],
): ToolParseResult {
  return {
    content,
    toolCalls: calls.map(([name, args], index) => ({ id: `call_${index}`, name, arguments: args })),
  };
}

/** A small seeded generator (mulberry32), for reproducible random chunkings. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ways to cut `text` into deltas (on code-point boundaries, as a detokenizer would). */
export function chunkings(text: string, seed: number, randomCount = 20): string[][] {
  const points = Array.from(text);
  const result: string[][] = [[text], points];
  for (let cut = 1; cut < points.length; cut++) {
    result.push([points.slice(0, cut).join(''), points.slice(cut).join('')]);
  }
  const random = seededRandom(seed);
  for (let n = 0; n < randomCount; n++) {
    const chunks: string[] = [];
    for (let at = 0; at < points.length;) {
      const size = 1 + Math.floor(random() * 8);
      chunks.push(points.slice(at, at + size).join(''));
      at += size;
    }
    result.push(chunks);
  }
  return result;
}

/** What a stream produced, assembled. */
export interface StreamedOutput {
  readonly content: string;
  readonly calls: readonly { id: string; name: string; arguments: string }[];
}

/** Runs a fresh stream over `chunks`, checking every delta's shape. */
export function runStream(parser: ToolCallParser, chunks: readonly string[]): StreamedOutput {
  const stream = parser.stream();
  const updates: ToolStreamUpdate[] = chunks.map((chunk) => stream.push(chunk));
  updates.push(stream.finish());
  let content = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const update of updates) {
    content += update.content;
    for (const delta of update.toolCalls) {
      const call = calls[delta.index];
      if (call === undefined) {
        assert.equal(delta.index, calls.length, 'calls are announced in index order');
        assert.equal(typeof delta.id, 'string', 'the first delta of a call carries its id');
        assert.equal(delta.type, 'function');
        assert.equal(typeof delta.function.name, 'string');
        calls.push({
          id: delta.id ?? '',
          name: delta.function.name ?? '',
          arguments: delta.function.arguments ?? '',
        });
      } else {
        assert.deepEqual(Object.keys(delta).sort(), ['function', 'index'], 'later deltas: index');
        assert.deepEqual(Object.keys(delta.function), ['arguments'], 'later deltas: arguments');
        call.arguments += delta.function.arguments ?? '';
      }
    }
  }
  return { content, calls };
}

/**
 * Checks the stream against `parse()` for every chunking of `text`: content and calls agree,
 * and no `markup` string appears in the content.
 */
export function checkStreaming(
  parser: ToolCallParser,
  text: string,
  markup: readonly string[],
  seed = 1,
): void {
  const expected = parser.parse(text);
  for (const chunks of chunkings(text, seed)) {
    const streamed = runStream(parser, chunks);
    const where = `chunks ${JSON.stringify(chunks)}`;
    for (const mark of markup) {
      assert.ok(!streamed.content.includes(mark), `${mark} leaked into content (${where})`);
    }
    assert.equal(streamed.content, expected.content ?? '', `content (${where})`);
    assert.equal(streamed.calls.length, expected.toolCalls.length, `call count (${where})`);
    expected.toolCalls.forEach((call, index) => {
      const got = streamed.calls[index];
      assert.ok(got !== undefined);
      assert.equal(got.name, call.name, `name of call ${index} (${where})`);
      assert.deepEqual(
        JSON.parse(got.arguments),
        JSON.parse(call.arguments),
        `arguments of call ${index} (${where})`,
      );
      assert.equal(got.arguments, call.arguments, `argument text of call ${index} (${where})`);
    });
    assert.equal(new Set(streamed.calls.map((call) => call.id)).size, streamed.calls.length);
  }
}
