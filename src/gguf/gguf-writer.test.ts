import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { readGguf, tensorBytes } from './gguf-test-reader.ts';
import { ggufValue as v, type GgufKeyValue } from './gguf-metadata.ts';
import { writeGgufFile, type GgufTensor } from './gguf-writer.ts';

const dir = await mkdtemp(join(tmpdir(), 'gguf-writer-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const METADATA: GgufKeyValue[] = [
  { key: 'general.architecture', value: v.string('llama') },
  { key: 't.u8', value: v.uint8(255) },
  { key: 't.i8', value: v.int8(-128) },
  { key: 't.u16', value: v.uint16(65535) },
  { key: 't.i16', value: v.int16(-32768) },
  { key: 't.u32', value: v.uint32(4294967295) },
  { key: 't.i32', value: v.int32(-2147483648) },
  { key: 't.f32', value: v.float32(0.25) },
  { key: 't.bool', value: v.bool(true) },
  { key: 't.string', value: v.string('héllo ✓') },
  { key: 't.u64', value: v.uint64(2n ** 64n - 1n) },
  { key: 't.i64', value: v.int64(-(2n ** 63n)) },
  { key: 't.f64', value: v.float64(Math.PI) },
  { key: 't.arr_i32', value: v.numbers('int32', Int32Array.from([1, -2, 3])) },
  { key: 't.arr_str', value: v.strings(['a', '', 'Ġb']) },
  { key: 't.arr_empty', value: v.strings([]) },
  { key: 't.arr_bool', value: v.bools([false, true]) },
  { key: 't.arr_f32', value: v.numbers('float32', [1.5, -0.5]) },
];

const TENSORS: GgufTensor[] = [
  {
    name: 'a.f32',
    type: 'f32',
    dims: [3, 2],
    fillRow: (row, r) => row.set([r * 10, r * 10 + 1, r * 10 + 2]),
  },
  { name: 'b.f16', type: 'f16', dims: [4], fillRow: (row) => row.set([1, -2, 0.5, 65504]) },
  {
    name: 'c.q8_0',
    type: 'q8_0',
    dims: [32, 1, 2],
    fillRow: (row, r) => {
      row.fill(0);
      if (r === 0) row.set([127, -0.5, 2.5]);
    },
  },
  {
    name: 'd.f32',
    type: 'f32',
    dims: [5, 1, 1, 2],
    fillRow: (row, r) => row.fill(r === 0 ? -1 : 7),
  },
];

test('written file round-trips through an independent reader', async () => {
  const path = join(dir, 'round-trip.gguf');
  const result = await writeGgufFile(path, METADATA, TENSORS);
  const file = await readFile(path);
  const gguf = readGguf(file);
  assert.equal(gguf.version, 3);

  // Keys in order, general.alignment appended as uint32 32.
  assert.deepEqual(gguf.keyOrder, [...METADATA.map((kv) => kv.key), 'general.alignment']);
  const expected: [string, number, unknown, number?][] = [
    ['general.architecture', 8, 'llama'],
    ['t.u8', 0, 255],
    ['t.i8', 1, -128],
    ['t.u16', 2, 65535],
    ['t.i16', 3, -32768],
    ['t.u32', 4, 4294967295],
    ['t.i32', 5, -2147483648],
    ['t.f32', 6, 0.25],
    ['t.bool', 7, true],
    ['t.string', 8, 'héllo ✓'],
    ['t.u64', 10, 2n ** 64n - 1n],
    ['t.i64', 11, -(2n ** 63n)],
    ['t.f64', 12, Math.PI],
    ['t.arr_i32', 9, [1, -2, 3], 5],
    ['t.arr_str', 9, ['a', '', 'Ġb'], 8],
    ['t.arr_empty', 9, [], 8],
    ['t.arr_bool', 9, [false, true], 7],
    ['t.arr_f32', 9, [1.5, -0.5], 6],
    ['general.alignment', 4, 32],
  ];
  for (const [key, type, value, itemType] of expected) {
    const got = gguf.metadata.get(key);
    assert.ok(got, key);
    assert.equal(got.type, type, `${key} type`);
    assert.deepEqual(got.value, value, `${key} value`);
    if (itemType !== undefined) assert.equal(got.itemType, itemType, `${key} item type`);
  }

  // Tensor infos: ggml types F32 = 0, F16 = 1, Q8_0 = 8; offsets hand-computed with 32-byte
  // alignment: a 24 bytes at 0, b 8 bytes at 32, c 68 bytes at 64, d 40 bytes at 160.
  assert.deepEqual(
    gguf.tensors.map((t) => [t.name, t.dims, t.type, t.offset]),
    [
      ['a.f32', [3, 2], 0, 0],
      ['b.f16', [4], 1, 32],
      ['c.q8_0', [32, 1, 2], 8, 64],
      ['d.f32', [5, 1, 1, 2], 0, 160],
    ],
  );
  assert.equal(gguf.dataOffset % 32, 0);
  assert.equal(result.dataOffset, gguf.dataOffset);
  assert.equal(file.length, gguf.dataOffset + 224);
  assert.equal(result.bytes, file.length);

  const a = tensorBytes(gguf, 'a.f32', 24);
  assert.deepEqual(
    Array.from({ length: 6 }, (_, i) => a.readFloatLE(i * 4)),
    [0, 1, 2, 10, 11, 12],
  );
  const b = tensorBytes(gguf, 'b.f16', 8);
  assert.deepEqual(
    Array.from({ length: 4 }, (_, i) => b.readUInt16LE(i * 2)),
    [0x3c00, 0xc000, 0x3800, 0x7bff],
  );
  // Q8_0 row 0: amax 127 -> d = 1.0 (0x3c00), q = [127, roundf(-0.5) = -1, roundf(2.5) = 3].
  const c = tensorBytes(gguf, 'c.q8_0', 68);
  assert.deepEqual([...c.subarray(0, 5)], [0x00, 0x3c, 127, 0xff, 3]);
  assert.ok(c.subarray(5, 68).every((x) => x === 0));
  const d = tensorBytes(gguf, 'd.f32', 40);
  assert.deepEqual(
    Array.from({ length: 10 }, (_, i) => d.readFloatLE(i * 4)),
    [-1, -1, -1, -1, -1, 7, 7, 7, 7, 7],
  );

  // Padding between tensors and at the end is zero.
  const data = file.subarray(gguf.dataOffset);
  for (const [from, to] of [
    [24, 32],
    [40, 64],
    [132, 160],
    [200, 224],
  ] as const) {
    assert.ok(
      data.subarray(from, to).every((x) => x === 0),
      `padding ${from}..${to}`,
    );
  }
});

test('tiny write buffers produce the same bytes as the default ones', async () => {
  const big = join(dir, 'big-chunks.gguf');
  const small = join(dir, 'small-chunks.gguf');
  await writeGgufFile(big, METADATA, TENSORS);
  await writeGgufFile(small, METADATA, TENSORS, { chunkBytes: 1 });
  assert.deepEqual(await readFile(small), await readFile(big));
});

test('invalid input is rejected before anything is written', async () => {
  const path = join(dir, 'invalid.gguf');
  const tensor = TENSORS[0];
  assert.ok(tensor);
  const duplicate = { key: 't.u8', value: v.uint8(1) };
  await assert.rejects(writeGgufFile(path, [...METADATA, duplicate], []), /duplicate GGUF key/);
  await assert.rejects(writeGgufFile(path, [], [tensor, tensor]), /duplicate tensor name/);
  await assert.rejects(
    writeGgufFile(path, [], [{ ...tensor, type: 'q8_0', dims: [16, 2] }]),
    /ne\[0\] % 32/,
  );
  await assert.rejects(
    writeGgufFile(path, [{ key: 'x', value: v.uint8(256) }], []),
    /out of range/,
  );
  await assert.rejects(
    writeGgufFile(path, [{ key: 'general.alignment', value: v.uint32(64) }], []),
    /general.alignment/,
  );
  assert.equal(existsSync(path), false);
});

test('a failing row producer leaves no partial file', async () => {
  const path = join(dir, 'failing.gguf');
  const failing: GgufTensor = {
    name: 'x',
    type: 'f32',
    dims: [8, 1000],
    fillRow: (row, r) => {
      if (r === 500) throw new Error('boom');
      row.fill(r);
    },
  };
  await assert.rejects(writeGgufFile(path, [], [failing], { chunkBytes: 64 }), /boom/);
  assert.equal(existsSync(path), false);
});
