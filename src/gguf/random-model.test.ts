import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { metadataValue, readGguf, tensorBytes } from './gguf-test-reader.ts';
import { Xoshiro128 } from './prng.ts';
import {
  RANDOM_PRESETS,
  randomModelParameterCount,
  writeRandomModel,
  type RandomModelOptions,
} from './random-model.ts';

const dir = await mkdtemp(join(tmpdir(), 'random-model-test-'));
after(() => rm(dir, { recursive: true, force: true }));

test('preset parameter counts (hand-computed from the llama tensor shapes)', () => {
  // 2 * vocab * n_embd + layers * (4 * n_embd^2 + 3 * n_embd * n_ff + 2 * n_embd) + n_embd
  assert.equal(randomModelParameterCount(RANDOM_PRESETS['random-130m-f16']), 134_105_856);
  assert.equal(randomModelParameterCount(RANDOM_PRESETS['random-370m-q8_0']), 373_867_520);
  assert.equal(randomModelParameterCount(RANDOM_PRESETS['random-tiny-f32']), 115_392);
});

test('xoshiro128** floats are uniform in [0, 1)', () => {
  const rng = new Xoshiro128(42);
  let sum = 0;
  let min = 1;
  let max = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = rng.nextFloat();
    sum += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.01);
  assert.ok(min >= 0 && min < 0.001 && max < 1 && max > 0.999);
  assert.notEqual(new Xoshiro128(1).nextUint32(), new Xoshiro128(2).nextUint32());
});

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let sq = 0;
  let maxAbs = 0;
  for (const v of values) {
    sum += v;
    sq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean), maxAbs };
}

function f32Tensor(file: Buffer, name: string, count: number): Float32Array {
  const bytes = tensorBytes(readGguf(file), name, count * 4);
  return Float32Array.from({ length: count }, (_, i) => bytes.readFloatLE(i * 4));
}

test('the tiny F32 preset: shapes, norms 1, uniform weights with the requested std', async () => {
  const path = join(dir, 'tiny.gguf');
  await writeRandomModel(path, RANDOM_PRESETS['random-tiny-f32']);
  const file = await readFile(path);
  const gguf = readGguf(file);
  assert.equal(metadataValue(gguf, 'llama.embedding_length'), 64);
  assert.equal(metadataValue(gguf, 'llama.vocab_size'), 259);
  assert.equal(metadataValue(gguf, 'general.file_type'), 0);
  assert.equal(gguf.tensors.length, 1 + 2 * 9 + 2);
  assert.ok(gguf.tensors.every((t) => t.type === 0));
  assert.ok(f32Tensor(file, 'blk.1.ffn_norm.weight', 64).every((x) => x === 1));
  const a = 0.02 * Math.sqrt(3);
  const embd = stats(f32Tensor(file, 'token_embd.weight', 64 * 259));
  assert.ok(embd.maxAbs <= a && Math.abs(embd.std - 0.02) < 0.001 && Math.abs(embd.mean) < 0.001);
  const output = stats(f32Tensor(file, 'output.weight', 64 * 259));
  assert.ok(Math.abs(output.std - 0.4) < 0.02, `output std ${output.std}`);
  const q = f32Tensor(file, 'blk.0.attn_q.weight', 64 * 64);
  const k = f32Tensor(file, 'blk.0.attn_k.weight', 64 * 64);
  assert.notDeepEqual(q, k, 'tensors draw from different streams');
});

test('same options give the same bytes; another seed gives other bytes', async () => {
  const options: RandomModelOptions = {
    ...RANDOM_PRESETS['random-tiny-f32'],
    vocabSize: 300,
    weightType: 'q8_0',
  };
  const [one, two, three] = ['one', 'two', 'three'].map((n) => join(dir, `${n}.gguf`));
  assert.ok(one && two && three);
  await writeRandomModel(one, options);
  await writeRandomModel(two, options);
  await writeRandomModel(three, { ...options, seed: 2 });
  const [b1, b2, b3] = await Promise.all([one, two, three].map((p) => readFile(p)));
  assert.ok(b1 && b2 && b3);
  assert.ok(b1.equals(b2));
  assert.equal(b1.length, b3.length);
  assert.ok(!b1.equals(b3));
  const gguf = readGguf(b1);
  assert.equal(metadataValue(gguf, 'general.file_type'), 7);
  assert.equal(gguf.tensors.find((t) => t.name === 'output.weight')?.type, 8);
  assert.equal(gguf.tensors.find((t) => t.name === 'output_norm.weight')?.type, 0);
  assert.equal((metadataValue(gguf, 'tokenizer.ggml.merges') as string[]).length, 300 - 259);
});

test('Q8_0 with n_embd not a multiple of 32 is rejected', async () => {
  const options: RandomModelOptions = {
    ...RANDOM_PRESETS['random-tiny-f32'],
    embeddingLength: 48,
    weightType: 'q8_0',
  };
  await assert.rejects(writeRandomModel(join(dir, 'bad.gguf'), options), /ne\[0\] % 32/);
});
