/**
 * Embedding output against the successor model's construction: the hidden state after the final
 * norm is exactly one-hot(t) (embedding sqrt(n) * one-hot, blocks adding nothing, final norm
 * weight 1/sqrt(n)), so each output row's embedding is the one-hot vector of its token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SUCCESSOR_EMBEDDING_LENGTH } from '../src/gguf/successor-model.ts';
import { loadTestBackend, row } from './support/models.ts';

describe('embeddings', () => {
  it('returns the final hidden state of each output row', async () => {
    const backend = await loadTestBackend(
      { preset: 'successor', weightType: 'f32' },
      { embeddings: true, batchSize: 64, microBatchSize: 64 },
    );
    try {
      const tokens = [97, 53, 256];
      const result = await backend.decode({
        chunks: [
          { sequenceId: 0, startPosition: 0, tokens: tokens.slice(0, 2), rows: [row(0), row(1)] },
          { sequenceId: 1, startPosition: 0, tokens: tokens.slice(2), rows: [row(0)] },
        ],
      });
      assert.equal(result.rows.length, 0);
      assert.deepEqual(
        result.embeddings.map((e) => e.sequenceId),
        [0, 0, 1],
      );
      result.embeddings.forEach((embedding, i) => {
        assert.equal(embedding.vector.length, SUCCESSOR_EMBEDDING_LENGTH);
        embedding.vector.forEach((value, d) => {
          const expected = d === tokens[i] ? 1 : 0;
          assert.ok(Math.abs(value - expected) <= 1e-6, `row ${i} dim ${d}: ${value}`);
        });
      });
    } finally {
      await backend.dispose();
    }
  });
});
