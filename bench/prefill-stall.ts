/**
 * What a long prompt does to the streams already running: the baseline for issue 6's latency
 * bound (ITL p99 of 8 running streams below 3x their median while a 2,000-token prompt is
 * prefilled). In-process (LlamaBackend + LlmEngine as `servellm serve` builds them) on the
 * random ~130M F16 model: 8 greedy streams decode; once they are running, a 2,000-token prompt
 * arrives. For each step budget (`--max-num-batched-tokens`) and step latency factor (the
 * engine's bound on a step with prompt tokens while requests decode, `--step-latency-factor`;
 * 0 = off, vLLM's behaviour), per round: the 8 streams' inter-token gaps before the long prompt
 * (median) and from its arrival to its first token (p99, max), and the long prompt's time to
 * first token. Medians over rounds.
 *
 * Usage: npx tsx bench/prefill-stall.ts [--rounds 3] [--budgets 2048] [--factors 0,2]
 *   [--threads N]
 * Writes the "Prefill stall" section of bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import { params } from '../src/engine/engine-test-fixtures.ts';
import { LlmEngine } from '../src/engine/llm-engine.ts';
import { Xoshiro128 } from '../src/gguf/prng.ts';
import { loadBenchBackend, median, writeResultsSection } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    budgets: { type: 'string', default: '2048' },
    factors: { type: 'string', default: '0,2' },
    threads: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const budgets = values.budgets.split(',').map(Number);
const factors = values.factors.split(',').map(Number);
const STREAMS = 8;
const LONG_PROMPT = 2000;
const MAX_MODEL_LEN = 2304;

const { backend, threads } = await loadBenchBackend({
  sequences: STREAMS + 1,
  cellsPerSequence: MAX_MODEL_LEN,
  threads: values.threads,
});
const random = new Xoshiro128(7);
const letters = (count: number) =>
  Array.from({ length: count }, () => 97 + (random.nextUint32() % 26));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

interface Round {
  readonly medianItl: number;
  readonly p99Itl: number;
  readonly maxItl: number;
  readonly longTtft: number;
}

async function round(budget: number, factor: number, id: number): Promise<Round> {
  const engine = new LlmEngine(backend, {
    maxModelLen: MAX_MODEL_LEN,
    maxNumSeqs: STREAMS + 1,
    maxNumBatchedTokens: budget,
    stepLatencyFactor: factor,
  });
  const gapsBefore: number[] = [];
  const gapsDuring: number[] = [];
  let longArrived: number | null = null;
  let longFirst: number | null = null;
  let steady = 0;
  let releaseLong!: () => void;
  const steadyReached = new Promise<void>((resolve) => (releaseLong = resolve));
  const streams = Array.from({ length: STREAMS }, async (_, i) => {
    let last: number | null = null;
    const outputs = engine.add({
      id: `s${id}-${i}`,
      promptTokens: letters(32),
      params: params({ maxTokens: 400, ignoreEos: true }),
    });
    const iterator = outputs[Symbol.asyncIterator]();
    while ((await iterator.next()).done !== true) {
      const now = performance.now();
      if (last !== null) {
        if (longArrived === null) gapsBefore.push(now - last);
        else if (longFirst === null || now <= longFirst) gapsDuring.push(now - last);
      }
      last = now;
      if (++steady === STREAMS * 20) releaseLong();
      if (longFirst !== null && now > longFirst + 200) {
        await iterator.return?.(); // aborts the stream
        break;
      }
    }
  });
  await steadyReached;
  longArrived = performance.now();
  const longStream = engine.add({
    id: `long${id}`,
    promptTokens: letters(LONG_PROMPT),
    params: params({ maxTokens: 1 }),
  });
  const long = longStream[Symbol.asyncIterator]();
  while ((await long.next()).done !== true) longFirst ??= performance.now();
  await Promise.all(streams);
  await engine.shutdown();
  return {
    medianItl: median(gapsBefore),
    p99Itl: percentile(gapsDuring, 99),
    maxItl: Math.max(...gapsDuring),
    longTtft: longFirst! - longArrived,
  };
}

const rows: string[] = [];
let id = 0;
for (const budget of budgets) {
  for (const factor of factors) {
    const results: Round[] = [];
    for (let r = 0; r < rounds; r++) results.push(await round(budget, factor, id++));
    const m = (key: keyof Round) => median(results.map((result) => result[key]));
    const ratio = median(results.map((result) => result.p99Itl / result.medianItl));
    const line =
      `| ${budget} | ${factor === 0 ? 'off' : factor} | ${m('medianItl').toFixed(1)} | ${m('p99Itl').toFixed(1)} | ` +
      `**${ratio.toFixed(2)}** | ${m('maxItl').toFixed(0)} | ${m('longTtft').toFixed(0)} |`;
    console.log(line);
    rows.push(line);
  }
}
await backend.dispose();
const body = [
  `\`npx tsx bench/prefill-stall.ts --rounds ${rounds} --budgets ${budgets.join(',')} --factors ${factors.join(',')}\`, ${new Date().toISOString()}, ` +
    `random-130m-f16, ${threads} threads, per-sequence KV; ${STREAMS} greedy streams decoding when a ` +
    `${LONG_PROMPT}-token prompt arrives; medians of ${rounds} rounds (p99 / median: the median of the per-round ratios). Issue 6's bound: p99 / median below 3.`,
  '',
  '| --max-num-batched-tokens | --step-latency-factor | ITL median before, ms | ITL p99 while prefilling, ms | p99 / median | ITL max, ms | long prompt TTFT, ms |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
].join('\n');
writeResultsSection('Prefill stall', body);
