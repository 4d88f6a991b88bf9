/**
 * LlamaBackend.load refuses more sequences than batch tokens with a RangeError: llama.cpp 0.4.0
 * reserves an output row per sequence within a batch and otherwise aborts the whole process
 * (GGML_ASSERT in output_reserve). Found by the unified-KV disconnect test, whose server ran
 * with --max-num-batched-tokens 64 and 256 sequence ids.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadTestBackend } from './support/models.ts';

it('refuses maxSequences above batchSize instead of aborting in llama.cpp', async () => {
  await assert.rejects(
    loadTestBackend(
      { preset: 'successor', weightType: 'f16' },
      { maxSequences: 40, batchSize: 32 },
    ),
    (error: unknown) =>
      error instanceof RangeError &&
      /maxSequences \(40\) must not exceed batchSize \(32\)/.test(error.message),
  );
  const backend = await loadTestBackend(
    { preset: 'successor', weightType: 'f16' },
    { maxSequences: 32, batchSize: 32, unifiedKv: true },
  );
  await backend.dispose();
});
