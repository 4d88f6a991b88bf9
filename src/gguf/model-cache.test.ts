import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ensureModel, modelCacheDirectory, modelFileName } from './model-cache.ts';

const dir = await mkdtemp(join(tmpdir(), 'model-cache-test-'));
const previous = process.env['SERVELLM_MODEL_CACHE'];
after(async () => {
  if (previous === undefined) delete process.env['SERVELLM_MODEL_CACHE'];
  else process.env['SERVELLM_MODEL_CACHE'] = previous;
  await rm(dir, { recursive: true, force: true });
});

test('the default cache folder is .cache/models at the repository root', () => {
  const saved = process.env['SERVELLM_MODEL_CACHE'];
  delete process.env['SERVELLM_MODEL_CACHE'];
  try {
    const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
    assert.equal(modelCacheDirectory(), join(root, '.cache', 'models'));
  } finally {
    if (saved !== undefined) process.env['SERVELLM_MODEL_CACHE'] = saved;
  }
});

test('file names: label plus a hash of the resolved spec', () => {
  const name = modelFileName({ preset: 'random-tiny-f32' });
  assert.match(name, /^random-tiny-f32-[0-9a-f]{12}\.gguf$/);
  assert.equal(modelFileName({ preset: 'random-tiny-f32', seed: 1 }), name, 'explicit default');
  assert.notEqual(modelFileName({ preset: 'random-tiny-f32', seed: 2 }), name);
  assert.match(modelFileName({ preset: 'successor' }), /^successor-f16-[0-9a-f]{12}\.gguf$/);
  assert.equal(
    modelFileName({ preset: 'successor', weightType: 'f16', margin1: 8 }),
    modelFileName({ preset: 'successor' }),
  );
  assert.match(
    modelFileName({ preset: 'random-tiny-f32', weightType: 'f16' }),
    /^random-tiny-f32-as-f16-/,
  );
  assert.match(modelFileName({ preset: 'successor', weightType: 'q8_0' }), /^successor-q8_0-/);
});

test('a successor model with general.sampling keys is its own file; none is the plain model', () => {
  const plain = modelFileName({ preset: 'successor' });
  const noSampling: { preset: 'successor'; sampling?: { temp?: number } } = { preset: 'successor' };
  assert.equal(modelFileName(noSampling), plain);
  const tempHalf = modelFileName({ preset: 'successor', sampling: { temp: 0.5 } });
  assert.notEqual(tempHalf, plain);
  assert.notEqual(modelFileName({ preset: 'successor', sampling: { temp: 2 } }), tempHalf);
  assert.equal(modelFileName({ preset: 'successor', sampling: { temp: 0.5 } }), tempHalf);
});

test('ensureModel writes once, reuses the file, and leaves no temporary files', async () => {
  process.env['SERVELLM_MODEL_CACHE'] = join(dir, 'cache');
  const spec = { preset: 'random-tiny-f32', seed: 7 } as const;
  const [a, b] = await Promise.all([ensureModel(spec), ensureModel(spec)]);
  assert.equal(a, b);
  assert.equal(a, join(dir, 'cache', modelFileName(spec)));
  const first = await stat(a);
  assert.ok(first.size > 400_000);
  const again = await ensureModel(spec);
  assert.equal(again, a);
  assert.equal((await stat(again)).mtimeMs, first.mtimeMs, 'not rewritten');
  const other = await ensureModel({ preset: 'successor' });
  assert.notEqual(other, a);
  assert.deepEqual(
    (await readdir(join(dir, 'cache'))).sort(),
    [
      modelFileName({ preset: 'random-tiny-f32', seed: 7 }),
      modelFileName({ preset: 'successor' }),
    ].sort(),
  );
});
