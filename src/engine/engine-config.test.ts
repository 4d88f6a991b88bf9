import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvLayout } from '../backend/model-backend.ts';
import { defaultEngineConfig, validateEngineConfig } from './engine-config.ts';

const unified: KvLayout = {
  totalCells: 4096,
  cellsPerSequence: 4096,
  maxSequences: 16,
  maxBatchTokens: 512,
  unified: true,
};
const perSequence: KvLayout = { ...unified, cellsPerSequence: 256, unified: false };

describe('engine config', () => {
  it('defaults to the model context and vLLM limits, capped by the KV layout', () => {
    assert.deepEqual(defaultEngineConfig(unified, 8192), {
      maxModelLen: 4096,
      maxNumSeqs: 16,
      maxNumBatchedTokens: 512,
    });
    assert.deepEqual(defaultEngineConfig(perSequence, 2048), {
      maxModelLen: 256,
      maxNumSeqs: 16,
      maxNumBatchedTokens: 512,
    });
    assert.deepEqual(
      defaultEngineConfig({ ...unified, maxBatchTokens: 8 }, 100, { maxModelLen: 50 }),
      {
        maxModelLen: 50,
        maxNumSeqs: 8,
        maxNumBatchedTokens: 8,
      },
    );
    validateEngineConfig(defaultEngineConfig(unified, 100), unified);
  });

  it('refuses limits the KV layout cannot honour, naming the field and bound', () => {
    const ok = { maxModelLen: 256, maxNumSeqs: 16, maxNumBatchedTokens: 512 };
    validateEngineConfig(ok, perSequence);
    const bad: [Partial<typeof ok>, KvLayout, RegExp][] = [
      [{ maxModelLen: 257 }, perSequence, /maxModelLen must be an integer in \[1, 256\].*got 257/],
      [{ maxModelLen: 4097 }, unified, /maxModelLen .*\[1, 4096\] \(the unified KV cache size\)/],
      [{ maxModelLen: 0 }, unified, /maxModelLen/],
      [{ maxNumSeqs: 17 }, unified, /maxNumSeqs .*\[1, 16\].*got 17/],
      [{ maxNumBatchedTokens: 513 }, unified, /maxNumBatchedTokens .*\[1, 512\]/],
      [{ maxNumSeqs: 8, maxNumBatchedTokens: 4 }, unified, /maxNumSeqs .*\[1, 4\]/],
      [{ maxNumSeqs: 1.5 }, unified, /maxNumSeqs/],
    ];
    for (const [change, layout, message] of bad) {
      assert.throws(() => validateEngineConfig({ ...ok, ...change }, layout), message);
    }
  });
});
