/**
 * KV sequence copies against fresh evaluation, on a seeded random model (where attention over the
 * prefix matters): a prefix evaluated once and copied to another sequence must give the same
 * logits for a suffix as evaluating prefix + suffix from scratch, in both KV modes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LlamaBackend } from '../src/backend/llama/llama-backend.ts';
import { loadTestBackend, row, TEST_KERNEL_VARIANT } from './support/models.ts';

const PREFIX = [
  72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 32, 84, 104, 105, 115, 32, 105,
];
const SUFFIX = [115, 32, 97, 32, 116, 101, 115, 116];

async function logitsAfter(
  backend: LlamaBackend,
  sequenceId: number,
  start: number,
  tokens: number[],
): Promise<Float32Array> {
  const result = await backend.decode({
    chunks: [
      {
        sequenceId,
        startPosition: start,
        tokens,
        rows: [row(tokens.length - 1, { returnLogits: true })],
      },
    ],
  });
  return result.rows[0]!.logits!;
}

/**
 * How far two evaluations of the same tokens may differ. cpu builds agree to 1e-4 whatever the
 * batch shapes and cells. On CUDA (an H200, 2026-11-26) a batch's shape picks the matrix kernel
 * and the cells the attention tiles, which accumulate in F16: one decode of prefix + suffix
 * against two differed by up to 5.7e-3, and a copied prefix against the same two decodes in other
 * cells by 1.8e-3. A different prefix moves these logits by 1.56.
 */
const TOLERANCE = TEST_KERNEL_VARIANT === 'cpu' ? 1e-4 : 2e-2;

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Logits differ across prefixes (so the comparison below has power). */
async function assertPrefixMatters(backend: LlamaBackend, fresh: Float32Array): Promise<void> {
  const other = await logitsAfter(backend, 3, 0, [...PREFIX.slice(1), ...SUFFIX]);
  const difference = maxDifference(fresh, other);
  assert.ok(difference > 10 * TOLERANCE, `the model must depend on its prefix (${difference})`);
  backend.kv.remove(3, 0, null);
}

for (const unifiedKv of [true, false]) {
  describe(`KV copies, ${unifiedKv ? 'unified' : 'per-sequence'} KV`, () => {
    it('a copied prefix gives the same logits as fresh evaluation', async () => {
      const backend = await loadTestBackend(
        { preset: 'random-tiny-f32' },
        { unifiedKv, contextSize: 1024 },
      );
      try {
        const fresh = await logitsAfter(backend, 2, 0, [...PREFIX, ...SUFFIX]);
        await assertPrefixMatters(backend, fresh);
        await backend.decode({
          chunks: [{ sequenceId: 0, startPosition: 0, tokens: PREFIX, rows: [] }],
        });
        backend.kv.copy(0, 1, 0, null);
        assert.deepEqual(backend.kv.positions(1), { min: 0, max: PREFIX.length - 1 });
        backend.kv.remove(0, 0, null);
        assert.equal(backend.kv.positions(0), null);
        const shared = await logitsAfter(backend, 1, PREFIX.length, SUFFIX);
        const difference = maxDifference(fresh, shared);
        assert.ok(difference < TOLERANCE, `difference ${difference}`);
      } finally {
        await backend.dispose();
      }
    });

    it(
      unifiedKv ? 'copies part of a sequence' : 'refuses partial copies with a JS error',
      async () => {
        const backend = await loadTestBackend(
          { preset: 'random-tiny-f32' },
          { unifiedKv, contextSize: 1024 },
        );
        try {
          await backend.decode({
            chunks: [{ sequenceId: 0, startPosition: 0, tokens: PREFIX, rows: [] }],
          });
          if (!unifiedKv) {
            assert.throws(() => backend.kv.copy(0, 1, 0, 10), /full|whole|partial/i);
            assert.equal(backend.kv.positions(1), null);
            return;
          }
          backend.kv.copy(0, 1, 0, 10);
          assert.deepEqual(backend.kv.positions(1), { min: 0, max: 9 });
          const partial = await logitsAfter(backend, 1, 10, [...PREFIX.slice(10), ...SUFFIX]);
          const fresh = await logitsAfter(backend, 2, 0, [...PREFIX, ...SUFFIX]);
          assert.ok(maxDifference(fresh, partial) < TOLERANCE);
          await assertPrefixMatters(backend, fresh);
        } finally {
          await backend.dispose();
        }
      },
    );
  });
}

describe('KV removal', () => {
  it('rewinds a sequence so it can be extended differently', async () => {
    const backend = await loadTestBackend({ preset: 'random-tiny-f32' }, { contextSize: 1024 });
    try {
      const fresh = await logitsAfter(backend, 2, 0, [...PREFIX, ...SUFFIX]);
      await backend.decode({
        chunks: [{ sequenceId: 0, startPosition: 0, tokens: [...PREFIX, 1, 2, 3], rows: [] }],
      });
      assert.ok(backend.kv.remove(0, PREFIX.length, null));
      assert.deepEqual(backend.kv.positions(0), { min: 0, max: PREFIX.length - 1 });
      const rewound = await logitsAfter(backend, 0, PREFIX.length, SUFFIX);
      assert.ok(maxDifference(fresh, rewound) < TOLERANCE);
      await assertPrefixMatters(backend, fresh);
      backend.kv.keepOnly(2);
      assert.equal(backend.kv.positions(0), null);
      assert.deepEqual(backend.kv.positions(2), { min: 0, max: PREFIX.length + SUFFIX.length - 1 });
      backend.kv.clear();
      assert.equal(backend.kv.positions(2), null);
    } finally {
      await backend.dispose();
    }
  });
});
