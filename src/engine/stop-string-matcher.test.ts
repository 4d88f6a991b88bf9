import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopStringMatcher, type StopMatch } from './stop-string-matcher.ts';

function feed(matcher: StopStringMatcher, pieces: readonly string[]): StopMatch[] {
  const results: StopMatch[] = [];
  for (const piece of pieces) {
    const result = matcher.push(piece);
    results.push(result);
    if (result.stop !== null) break;
  }
  return results;
}

const texts = (results: readonly StopMatch[]) => results.map((r) => r.text);

describe('StopStringMatcher', () => {
  it('passes text through untouched without stop strings', () => {
    const m = new StopStringMatcher([], false);
    assert.deepEqual(texts(feed(m, ['ab', 'c'])), ['ab', 'c']);
    assert.equal(m.flush(), '');
  });

  it('matches a stop string spanning tokens and cuts before it', () => {
    const m = new StopStringMatcher(['STOP'], false);
    const results = feed(m, ['hello S', 'T', 'OP and more']);
    assert.deepEqual(texts(results), ['hello ', '', '']);
    assert.equal(results[2]!.stop, 'STOP');
  });

  it('includes the stop string with includeStopStrInOutput, and drops text after it', () => {
    const m = new StopStringMatcher(['STOP'], true);
    const results = feed(m, ['hello S', 'TO', 'P tail']);
    assert.deepEqual(texts(results), ['hello ', '', 'STOP']);
    assert.equal(results[2]!.stop, 'STOP');
  });

  it('holds back a possible start and releases it when the match fails', () => {
    const m = new StopStringMatcher(['abc'], false);
    const results = feed(m, ['xa', 'b', 'd', 'ab']);
    assert.deepEqual(texts(results), ['x', '', 'abd', '']);
    assert.equal(m.heldText, 'ab');
    assert.equal(m.flush(), 'ab');
    assert.equal(m.heldText, '');
  });

  it('holds back only what can still start a stop string', () => {
    const m = new StopStringMatcher(['aab'], false);
    // "aaa": the last two may still become "aab"; the first may not.
    assert.deepEqual(texts(feed(m, ['aaa'])), ['a']);
    assert.equal(m.heldText, 'aa');
    assert.deepEqual(feed(m, ['b']), [{ text: '', stop: 'aab' }]);
  });

  it('with several stop strings, the leftmost match wins, whatever their order', () => {
    const m = new StopStringMatcher(['world', 'lo'], false);
    const [result] = feed(m, ['hello world']);
    assert.deepEqual(result, { text: 'hel', stop: 'lo' });
    const n = new StopStringMatcher(['lo', 'hel'], true);
    assert.deepEqual(feed(n, ['hello']), [{ text: 'hel', stop: 'hel' }]);
  });

  it('of matches starting at the same place, the shortest wins', () => {
    const m = new StopStringMatcher(['abcd', 'ab'], true);
    assert.deepEqual(feed(m, ['xabcd']), [{ text: 'xab', stop: 'ab' }]);
  });

  it('matches across a held prefix of a different stop string', () => {
    const m = new StopStringMatcher(['xyz', 'yq'], false);
    const results = feed(m, ['1x', 'y', 'q']);
    assert.deepEqual(texts(results), ['1', '', 'x']);
    assert.equal(results[2]!.stop, 'yq');
  });

  it('matches non-ASCII stop strings', () => {
    const m = new StopStringMatcher(['世界'], false);
    const results = feed(m, ['你好世', '界！']);
    assert.deepEqual(texts(results), ['你好', '']);
    assert.equal(results[1]!.stop, '世界');
  });

  it('takes no text after a match', () => {
    const m = new StopStringMatcher(['a'], false);
    feed(m, ['a']);
    assert.throws(() => m.push('b'), /already matched/);
  });
});
