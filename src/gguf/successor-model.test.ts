import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { metadataValue, readGguf, tensorBytes, type ReadGguf } from './gguf-test-reader.ts';
import {
  successorLogprobs,
  successorLogits,
  successorOf,
  writeSuccessorModel,
} from './successor-model.ts';

const dir = await mkdtemp(join(tmpdir(), 'successor-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const code = (s: string) => s.charCodeAt(0);
const EOS = 256;

/** Greedy continuation of `start` for `n` steps, following the successor table. */
function chain(start: number, n: number): number[] {
  const out: number[] = [];
  let t = start;
  for (let i = 0; i < n; i++) out.push((t = successorOf(t)));
  return out;
}

test('every token has a successor, never itself', () => {
  for (let t = 0; t < 259; t++) {
    const s = successorOf(t);
    assert.ok(Number.isInteger(s) && s >= 0 && s < 259, `succ(${t}) = ${s}`);
    assert.notEqual(s, t, `fixed point at ${t}`);
    assert.notEqual(successorOf(s), s, `succ(succ(${t})) == succ(${t})`);
  }
  assert.throws(() => successorOf(259), RangeError);
  assert.throws(() => successorOf(-1), RangeError);
});

test('the documented successor table', () => {
  assert.equal(Buffer.from(chain(code('c'), 5)).toString(), 'defgh');
  assert.deepEqual(chain(code('5'), 6), [...Buffer.from('6789.'), EOS]);
  assert.deepEqual(chain(code('\n'), 12), [...Buffer.from('0123456789.'), EOS]);
  assert.equal(successorOf(code('z')), code('a'));
  assert.equal(successorOf(code('Y')), code('Z'));
  assert.equal(successorOf(code('Z')), code('A'));
  assert.equal(successorOf(EOS), code('0'));
  assert.equal(successorOf(257), code('a')); // <|im_start|>
  assert.equal(successorOf(258), code('\n')); // <|im_end|>
  assert.equal(successorOf(code(' ')), code('!'));
  assert.equal(successorOf(255), 0);
  assert.equal(successorOf(0), 1);
});

test('successorLogits: margin1 at succ, margin2 at succ(succ), zero elsewhere', () => {
  const logits = successorLogits(code('c'));
  assert.equal(logits.length, 259);
  assert.equal(logits[code('d')], 8);
  assert.equal(logits[code('e')], 4);
  assert.equal(
    logits.reduce((n, x) => n + (x === 0 ? 1 : 0), 0),
    257,
  );
  const custom = successorLogits(code('9'), { margin1: 6.5, margin2: -1 });
  assert.equal(custom[code('.')], 6.5);
  assert.equal(custom[EOS], -1);
  assert.throws(() => successorLogits(1, { margin1: 0.1 }), /float16/);
});

test('successorLogprobs is the closed formula', () => {
  const lp = successorLogprobs(code('a'));
  const denominator = Math.exp(8) + Math.exp(4) + 257;
  assert.ok(Math.abs(Math.exp(lp[code('b')]!) - Math.exp(8) / denominator) < 1e-13);
  assert.ok(Math.abs(Math.exp(lp[code('c')]!) - Math.exp(4) / denominator) < 1e-13);
  assert.ok(Math.abs(Math.exp(lp[code('x')]!) - 1 / denominator) < 1e-13);
  const total = lp.reduce((sum, x) => sum + Math.exp(x), 0);
  assert.ok(Math.abs(total - 1) < 1e-12);
});

/** Independent float16 decoder for the file check. */
function half(bits: number): number {
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  const s = bits & 0x8000 ? -1 : 1;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

function f16Matrix(gguf: ReadGguf, name: string, cols: number, rows: number): Float64Array {
  const bytes = tensorBytes(gguf, name, cols * rows * 2);
  return Float64Array.from({ length: cols * rows }, (_, i) => half(bytes.readUInt16LE(i * 2)));
}

test('the written F16 file: llama keys, tensor shapes, and logits equal to the formula', async () => {
  const path = join(dir, 'successor-f16.gguf');
  await writeSuccessorModel(path, { weightType: 'f16' });
  const gguf = readGguf(await readFile(path));
  const expectKeys: [string, unknown][] = [
    ['general.architecture', 'llama'],
    ['general.file_type', 1],
    ['general.alignment', 32],
    ['llama.embedding_length', 1024],
    ['llama.block_count', 1],
    ['llama.vocab_size', 259],
    ['llama.context_length', 4096],
    ['llama.attention.head_count', 16],
    ['llama.attention.head_count_kv', 4],
    ['llama.rope.dimension_count', 64],
    ['llama.feed_forward_length', 256],
    ['tokenizer.ggml.model', 'gpt2'],
    ['tokenizer.ggml.pre', 'qwen2'],
    ['tokenizer.ggml.merges', []],
    ['tokenizer.ggml.bos_token_id', 256],
    ['tokenizer.ggml.eos_token_id', 256],
    ['tokenizer.ggml.eot_token_id', 258],
    ['tokenizer.ggml.add_bos_token', false],
  ];
  for (const [key, value] of expectKeys) assert.deepEqual(metadataValue(gguf, key), value, key);
  const eps = metadataValue(gguf, 'llama.attention.layer_norm_rms_epsilon');
  assert.ok(typeof eps === 'number' && eps > 0 && 1 + eps === 1 + Math.fround(1e-12));
  assert.equal(gguf.metadata.get('tokenizer.ggml.merges')?.itemType, 8);
  const tokens = metadataValue(gguf, 'tokenizer.ggml.tokens') as string[];
  assert.equal(tokens[32], 'Ġ');
  assert.deepEqual(
    (metadataValue(gguf, 'tokenizer.ggml.token_type') as number[]).slice(255),
    [1, 3, 3, 3],
  );
  const template = metadataValue(gguf, 'tokenizer.chat_template') as string;
  assert.ok(template.includes("'<|im_start|>' + message['role'] + '\\n' + message['content']"));
  assert.ok(template.includes("{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"));

  const shapes = Object.fromEntries(gguf.tensors.map((t) => [t.name, [t.type, ...t.dims]]));
  assert.deepEqual(shapes, {
    'token_embd.weight': [1, 1024, 259],
    'blk.0.attn_norm.weight': [0, 1024],
    'blk.0.attn_q.weight': [1, 1024, 1024],
    'blk.0.attn_k.weight': [1, 1024, 256],
    'blk.0.attn_v.weight': [1, 1024, 256],
    'blk.0.attn_output.weight': [1, 1024, 1024],
    'blk.0.ffn_norm.weight': [0, 1024],
    'blk.0.ffn_gate.weight': [1, 1024, 256],
    'blk.0.ffn_up.weight': [1, 1024, 256],
    'blk.0.ffn_down.weight': [1, 256, 1024],
    'output_norm.weight': [0, 1024],
    'output.weight': [1, 1024, 259],
  });
  // Blocks contribute nothing: every block matrix is zero, the block norms are 1.
  for (const t of gguf.tensors.filter((t) => t.name.startsWith('blk.'))) {
    const bytes = tensorBytes(
      gguf,
      t.name,
      t.dims.reduce((a, b) => a * b) * (t.type === 0 ? 4 : 2),
    );
    if (t.type === 0) assert.ok(bytes.every((_, i) => i % 4 !== 0 || bytes.readFloatLE(i) === 1));
    else
      assert.ok(
        bytes.every((x) => x === 0),
        t.name,
      );
  }
  // Forward pass in float64 from the file's bytes: h = rmsnorm(embd[t]) * output_norm.
  const embd = f16Matrix(gguf, 'token_embd.weight', 1024, 259);
  const out = f16Matrix(gguf, 'output.weight', 1024, 259);
  const normBytes = tensorBytes(gguf, 'output_norm.weight', 4096);
  const outNorm = Float64Array.from({ length: 1024 }, (_, i) => normBytes.readFloatLE(i * 4));
  for (let t = 0; t < 259; t++) {
    const x = embd.subarray(t * 1024, (t + 1) * 1024);
    // ggml adds eps to mean(x^2) in float32, where 1 + 1e-12 rounds to 1.
    const rms = Math.sqrt(Math.fround(x.reduce((a, b) => a + b * b, 0) / 1024 + eps));
    const h = x.map((value, j) => (value / rms) * (outNorm[j] ?? 0));
    const logits = Float64Array.from({ length: 259 }, (_, s) =>
      h.reduce((a, value, j) => a + value * (out[s * 1024 + j] ?? 0), 0),
    );
    assert.deepEqual([...logits], [...successorLogits(t)], `logits after token ${t}`);
  }
});

test('the Q8_0 variant keeps token_embd and output F16, blocks Q8_0', async () => {
  const path = join(dir, 'successor-q8_0.gguf');
  await writeSuccessorModel(path, { weightType: 'q8_0', blockCount: 2 });
  const gguf = readGguf(await readFile(path));
  assert.equal(metadataValue(gguf, 'general.file_type'), 7);
  assert.equal(metadataValue(gguf, 'llama.block_count'), 2);
  const types = Object.fromEntries(gguf.tensors.map((t) => [t.name, t.type]));
  assert.equal(types['token_embd.weight'], 1);
  assert.equal(types['output.weight'], 1);
  assert.equal(types['blk.1.attn_q.weight'], 8);
  assert.equal(types['blk.1.ffn_down.weight'], 8);
  assert.equal(types['blk.1.ffn_norm.weight'], 0);
});

test('fillInTheMiddle: three more control tokens, their GGUF keys, and their successors', async () => {
  const fim = { fillInTheMiddle: true } as const;
  assert.equal(successorOf(259, fim), code('A')); // <|fim_prefix|>
  assert.equal(successorOf(260, fim), code('a')); // <|fim_suffix|>
  assert.throws(() => successorOf(261), RangeError, 'not in the default vocabulary');
  assert.equal(successorOf(261, fim), code('0')); // <|fim_middle|>
  assert.throws(() => successorOf(262, fim), RangeError);
  assert.equal(successorLogits(261, fim).length, 262);
  const lp = successorLogprobs(261, fim);
  assert.ok(Math.abs(lp.reduce((sum, x) => sum + Math.exp(x), 0) - 1) < 1e-12);

  const path = join(dir, 'successor-fim.gguf');
  await writeSuccessorModel(path, fim);
  const gguf = readGguf(await readFile(path));
  assert.equal(metadataValue(gguf, 'llama.vocab_size'), 262);
  assert.equal(metadataValue(gguf, 'tokenizer.ggml.fim_pre_token_id'), 259);
  assert.equal(metadataValue(gguf, 'tokenizer.ggml.fim_suf_token_id'), 260);
  assert.equal(metadataValue(gguf, 'tokenizer.ggml.fim_mid_token_id'), 261);
  const tokens = metadataValue(gguf, 'tokenizer.ggml.tokens') as string[];
  assert.deepEqual(tokens.slice(256), [
    '<|endoftext|>',
    '<|im_start|>',
    '<|im_end|>',
    '<|fim_prefix|>',
    '<|fim_suffix|>',
    '<|fim_middle|>',
  ]);
  assert.deepEqual(
    (metadataValue(gguf, 'tokenizer.ggml.token_type') as number[]).slice(255),
    [1, 3, 3, 3, 3, 3, 3],
  );
  const out = f16Matrix(gguf, 'output.weight', 1024, 262);
  // output row '0' holds margin1 at column <|fim_middle|> (succ(<|fim_middle|>) = '0').
  assert.equal(out[code('0') * 1024 + 261], 8);

  const plain = readGguf(await readFile(join(dir, 'successor-f16.gguf')));
  assert.equal(plain.metadata.has('tokenizer.ggml.fim_pre_token_id'), false);
});

test('sampling: general.sampling.* keys as llama.cpp writes them (top_k int32, others float32)', async () => {
  const path = join(dir, 'successor-sampling.gguf');
  await writeSuccessorModel(path, {
    sampling: { temp: 0.5, topK: 40, topP: 0.75, minP: 0.0625, penaltyRepeat: 1.125 },
  });
  const gguf = readGguf(await readFile(path));
  const expected: [string, number, number][] = [
    ['general.sampling.top_k', 5, 40],
    ['general.sampling.top_p', 6, 0.75],
    ['general.sampling.min_p', 6, 0.0625],
    ['general.sampling.temp', 6, 0.5],
    ['general.sampling.penalty_repeat', 6, 1.125],
  ];
  for (const [key, type, value] of expected) {
    assert.equal(gguf.metadata.get(key)?.type, type, `${key} type`);
    assert.equal(metadataValue(gguf, key), value, key);
  }
  const partial = join(dir, 'successor-sampling-temp.gguf');
  await writeSuccessorModel(partial, { sampling: { temp: 2 } });
  const keys = readGguf(await readFile(partial)).keyOrder.filter((key) =>
    key.startsWith('general.sampling.'),
  );
  assert.deepEqual(keys, ['general.sampling.temp']);
  const plain = readGguf(await readFile(join(dir, 'successor-f16.gguf')));
  assert.equal(
    plain.keyOrder.some((key) => key.startsWith('general.sampling.')),
    false,
  );
});
