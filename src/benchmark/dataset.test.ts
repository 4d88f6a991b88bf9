import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonlDataset, randomDataset, type RandomDatasetOptions } from './dataset.ts';

const BASE: RandomDatasetOptions = {
  numPrompts: 50,
  inputLen: 20,
  outputLen: 8,
  rangeRatio: 0,
  prefixLen: 0,
  seed: 0,
  promptKind: 'tokens',
  tokenIdRange: [97, 122],
};

describe('randomDataset', () => {
  it('makes token-id prompts of exact lengths within the id range', () => {
    const requests = randomDataset(BASE);
    assert.equal(requests.length, 50);
    for (const r of requests) {
      assert.ok(Array.isArray(r.prompt));
      const ids = r.prompt as readonly number[];
      assert.equal(ids.length, 20);
      assert.equal(r.inputLen, 20);
      assert.equal(r.outputLen, 8);
      assert.ok(ids.every((id) => Number.isInteger(id) && id >= 97 && id <= 122));
    }
  });

  it('is reproducible from its seed', () => {
    assert.deepEqual(randomDataset(BASE), randomDataset(BASE));
    assert.notDeepEqual(randomDataset(BASE), randomDataset({ ...BASE, seed: 1 }));
  });

  it('draws lengths from [L(1-r), L(1+r)] with a range ratio', () => {
    const requests = randomDataset({ ...BASE, numPrompts: 400, rangeRatio: 0.5 });
    const inputs = requests.map((r) => r.inputLen!);
    const outputs = requests.map((r) => r.outputLen);
    assert.equal(Math.min(...inputs), 10);
    assert.equal(Math.max(...inputs), 30);
    assert.equal(Math.min(...outputs), 4);
    assert.equal(Math.max(...outputs), 12);
  });

  it('shares a prefix and keeps suffixes distinct', () => {
    const requests = randomDataset({ ...BASE, prefixLen: 16, numPrompts: 5 });
    const prompts = requests.map((r) => r.prompt as readonly number[]);
    for (const p of prompts) {
      assert.equal(p.length, 36);
      assert.deepEqual(p.slice(0, 16), prompts[0]!.slice(0, 16));
    }
    assert.equal(new Set(prompts.map((p) => p.slice(16).join(','))).size, 5);
  });

  it('makes text prompts of random words for chat', () => {
    const requests = randomDataset({ ...BASE, promptKind: 'text', prefixLen: 3, numPrompts: 3 });
    for (const r of requests) {
      assert.equal(typeof r.prompt, 'string');
      assert.equal(r.inputLen, null);
      assert.match(r.prompt as string, /^([a-z]{2,8} ){22}[a-z]{2,8}$/);
    }
  });

  it('rejects a bad range ratio', () => {
    assert.throws(() => randomDataset({ ...BASE, rangeRatio: 1 }), RangeError);
  });
});

describe('parseJsonlDataset', () => {
  it('reads prompts and output lengths, cycling to the requested count', () => {
    const text = '{"prompt": "hi", "output_len": 4}\n\n{"prompt": "there"}\n';
    assert.deepEqual(parseJsonlDataset(text, 16, 3), [
      { prompt: 'hi', inputLen: null, outputLen: 4 },
      { prompt: 'there', inputLen: null, outputLen: 16 },
      { prompt: 'hi', inputLen: null, outputLen: 4 },
    ]);
  });

  it('names the bad line', () => {
    assert.throws(() => parseJsonlDataset('{"prompt": "a"}\n{oops', 8, 1), /line 2: invalid JSON/);
    assert.throws(() => parseJsonlDataset('{"text": "a"}', 8, 1), /line 1: expected/);
    assert.throws(() => parseJsonlDataset('{"prompt": "a", "output_len": 0}', 8, 1), /line 1/);
    assert.throws(() => parseJsonlDataset('\n', 8, 1), /no prompts/);
  });
});
