/**
 * vLLM's periodic engine stats line ("Avg prompt throughput ... Running: N reqs"), logged every
 * interval while the engine has done or has work, plus servellm's step timer: the JavaScript
 * host time per step, the decode-only throughput and the event loop's busy time per step (see
 * engine/step-timer.ts).
 *
 * Owns: the timer, the throughput arithmetic between two snapshots, and the line's format. The
 * line's field names are stable: bench/serve-compare.ts parses them.
 */
import type { EngineStats } from '../engine/engine-types.ts';
import type { StepTimingSummary } from '../engine/step-timer.ts';

/** What the logger reads from the engine. */
export interface StatsSource {
  stats(): EngineStats;
  drainStepTiming(): StepTimingSummary;
}

/** One stats line from two snapshots `seconds` apart; null when there is nothing to report. */
export function formatStatsLine(
  previous: EngineStats,
  current: EngineStats,
  seconds: number,
  timing: StepTimingSummary,
): string | null {
  const prompt = (current.promptTokens - previous.promptTokens) / seconds;
  const generation = (current.generationTokens - previous.generationTokens) / seconds;
  if (prompt === 0 && generation === 0 && current.running === 0 && current.waiting === 0) {
    return null;
  }
  const queries = current.prefixCacheQueries - previous.prefixCacheQueries;
  const hits = current.prefixCacheHits - previous.prefixCacheHits;
  const hitRate = queries > 0 ? (100 * hits) / queries : 0;
  return (
    `Engine 000: Avg prompt throughput: ${prompt.toFixed(1)} tokens/s, ` +
    `Avg generation throughput: ${generation.toFixed(1)} tokens/s, ` +
    `Running: ${current.running} reqs, Waiting: ${current.waiting} reqs, ` +
    `KV cache usage: ${(100 * current.kvUsage).toFixed(1)}%, ` +
    `Prefix cache hit rate: ${hitRate.toFixed(1)}%, ` +
    `Steps: ${timing.steps} (${timing.meanRows.toFixed(1)} rows/step), ` +
    `Decode-only throughput: ${timing.decodeOnlyTokensPerS.toFixed(1)} tokens/s, ` +
    `Kernel time p50: ${timing.kernelMsP50.toFixed(2)} ms, ` +
    `Step host time p50/p99: ${timing.hostMsP50.toFixed(3)}/${timing.hostMsP99.toFixed(3)} ms, ` +
    `Loop active per step: ${timing.loopActiveMsPerStep.toFixed(3)} ms`
  );
}

/** Log a stats line every `intervalS` seconds; returns a function that stops it. */
export function startStatsLogger(
  source: StatsSource,
  intervalS: number,
  log: (line: string) => void,
): () => void {
  let previous = source.stats();
  let previousAt = performance.now();
  source.drainStepTiming();
  const timer = setInterval(() => {
    const current = source.stats();
    const now = performance.now();
    const line = formatStatsLine(
      previous,
      current,
      (now - previousAt) / 1000,
      source.drainStepTiming(),
    );
    previous = current;
    previousAt = now;
    if (line !== null) log(line);
  }, intervalS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
