import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputStream } from './output-stream.ts';

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('OutputStream', () => {
  it('delivers buffered and later items in order, then ends', async () => {
    const s = new OutputStream<number>();
    s.push(1);
    const drained = drain(s);
    s.push(2);
    await new Promise((resolve) => setImmediate(resolve));
    s.push(3);
    s.end();
    s.push(4); // ignored after end
    assert.deepEqual(await drained, [1, 2, 3]);
  });

  it('throws the failure after the buffered items', async () => {
    const s = new OutputStream<number>();
    s.push(1);
    s.fail(new Error('boom'));
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const item of s) seen.push(item);
    }, /boom/);
    assert.deepEqual(seen, [1]);
  });

  it('cancels when the consumer stops early, once, and not after the end', async () => {
    let cancels = 0;
    const s = new OutputStream<number>(() => cancels++);
    s.push(1);
    s.push(2);
    for await (const item of s) {
      assert.equal(item, 1);
      break;
    }
    assert.equal(cancels, 1);
    assert.equal(s.closed, true);
    s.push(3);

    let late = 0;
    const ended = new OutputStream<number>(() => late++);
    ended.push(1);
    ended.end();
    for await (const item of ended) {
      assert.equal(item, 1);
      break;
    }
    assert.equal(late, 0);
  });

  it('wakes a waiting consumer on end and refuses a second iteration', async () => {
    const s = new OutputStream<number>();
    const drained = drain(s);
    await new Promise((resolve) => setImmediate(resolve));
    s.end();
    assert.deepEqual(await drained, []);
    assert.throws(() => s[Symbol.asyncIterator](), /only once/);
  });
});
