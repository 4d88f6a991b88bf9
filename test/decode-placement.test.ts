/**
 * Decodes on the JS thread and on the worker give the same results: the engine over the real
 * llama.cpp backend generates 8 concurrent greedy successor chains with seeded sampling rows too,
 * once with every decode on the worker (maxSyncDecodeMs 0) and once with decode-only steps on the
 * JS thread (a bound no step reaches); the tokens agree with the successor formula and with each
 * other, and the second run really decoded on the JS thread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { params } from '../src/engine/engine-test-fixtures.ts';
import { LlmEngine } from '../src/engine/llm-engine.ts';
import { successorOf } from '../src/gguf/successor-model.ts';
import { loadTestBackend } from './support/models.ts';

async function generate(maxSyncDecodeMs: number) {
  const backend = await loadTestBackend(
    { preset: 'successor', weightType: 'f16' },
    { maxSequences: 8, contextSize: 8 * 64, unifiedKv: false, threads: 1, maxSyncDecodeMs },
  );
  try {
    const engine = new LlmEngine(backend, {
      maxModelLen: 64,
      maxNumSeqs: 8,
      maxNumBatchedTokens: 64,
    });
    const runs = Array.from({ length: 8 }, async (_, i) => {
      const tokens: number[] = [];
      const sampled = i % 2 === 1; // odd requests sample at temperature 1 with a seed
      const request = {
        id: `r${i}`,
        promptTokens: [65 + i, 66 + i],
        params: params({
          maxTokens: 12,
          ...(sampled ? { temperature: 1, seed: BigInt(1000 + i) } : {}),
        }),
      };
      for await (const output of engine.add(request)) {
        tokens.push(...output.tokenIds);
      }
      return tokens;
    });
    const outputs = await Promise.all(runs);
    await engine.shutdown();
    return { outputs, syncDecodes: backend.syncDecodeCount, decodes: backend.decodeCount };
  } finally {
    await backend.dispose();
  }
}

describe('decode placement (JS thread or worker)', () => {
  it('gives the same tokens either way, and the formula for greedy rows', async () => {
    const worker = await generate(0);
    const jsThread = await generate(1e9);
    assert.equal(worker.syncDecodes, 0);
    assert.ok(
      jsThread.syncDecodes >= jsThread.decodes / 2,
      `${jsThread.syncDecodes} of ${jsThread.decodes} decodes on the JS thread`,
    );
    assert.deepEqual(jsThread.outputs, worker.outputs);
    worker.outputs.forEach((tokens, i) => {
      assert.equal(tokens.length, 12);
      if (i % 2 === 1) return;
      let previous = 66 + i;
      for (const token of tokens) {
        assert.equal(token, successorOf(previous), `request ${i}`);
        previous = token;
      }
    });
  });
});
