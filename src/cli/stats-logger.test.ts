import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineStats } from '../engine/engine-types.ts';
import type { StepTimingSummary } from '../engine/step-timer.ts';
import { formatStatsLine, startStatsLogger } from './stats-logger.ts';

const IDLE: EngineStats = {
  running: 0,
  waiting: 0,
  kvUsage: 0,
  kvBlocksUsed: 0,
  kvBlocksTotal: 64,
  cachedSequences: 0,
  prefixCacheQueries: 1000,
  prefixCacheHits: 200,
  preemptions: 0,
  steps: 0,
  decodes: 0,
  promptTokens: 0,
  forkedPromptTokens: 0,
  generationTokens: 0,
};

const TIMING: StepTimingSummary = {
  steps: 40,
  meanRows: 15.5,
  hostMsP50: 0.25,
  hostMsP99: 1.5,
  kernelMsP50: 30.25,
  decodeOnlyTokensPerS: 512.5,
  loopActiveMsPerStep: 0.75,
};

describe('engine stats line', () => {
  it("has vLLM's throughput fields and the step timer", () => {
    const busy = {
      ...IDLE,
      running: 3,
      waiting: 1,
      kvUsage: 0.25,
      prefixCacheQueries: 1400,
      prefixCacheHits: 500,
      promptTokens: 300,
      generationTokens: 80,
    };
    assert.equal(
      formatStatsLine(IDLE, busy, 2, TIMING),
      'Engine 000: Avg prompt throughput: 150.0 tokens/s, Avg generation throughput: 40.0 tokens/s, ' +
        'Running: 3 reqs, Waiting: 1 reqs, KV cache usage: 25.0%, Prefix cache hit rate: 75.0%, Steps: 40 (15.5 rows/step), ' +
        'Decode-only throughput: 512.5 tokens/s, Kernel time p50: 30.25 ms, Step host time p50/p99: 0.250/1.500 ms, Loop active per step: 0.750 ms',
    );
  });

  it('says nothing while idle', () => {
    assert.equal(formatStatsLine(IDLE, IDLE, 10, TIMING), null);
  });

  it('logs on its interval from the engine it watches, and stops', async () => {
    let generated = 0;
    let drains = 0;
    const lines: string[] = [];
    const stop = startStatsLogger(
      {
        stats: () => ({ ...IDLE, running: 1, generationTokens: (generated += 5) }),
        drainStepTiming: () => {
          drains++;
          return TIMING;
        },
      },
      0.02,
      (line) => lines.push(line),
    );
    await new Promise((resolve) => setTimeout(resolve, 250));
    stop();
    const seen = lines.length;
    assert.ok(seen >= 2, `${seen} lines`);
    assert.equal(drains, seen + 1, 'each line drains one step-timer window');
    assert.match(lines[0]!, /Running: 1 reqs/);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(lines.length, seen, 'no line after stop');
  });
});
