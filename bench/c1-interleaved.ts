/**
 * Concurrency 1, interleaved: servellm and llama-server both started on the same model (one busy
 * at a time), and short bursts of requests alternate between them, round after round, so the
 * machine's drift (it moves either server's rate by up to 20 % over minutes here) falls on both
 * alike. serve-compare.ts measures one server for minutes, then the other; this measures the
 * concurrency-1 ratio that drift hides there.
 *
 * Per round: `--burst` requests to one server, then to the other (the first alternates between
 * rounds); 32-token prompts, 64 output tokens, greedy, ignore_eos, tokens 128-255 banned as in
 * serve-compare.ts. Reports the median over rounds of the per-round ratios (servellm /
 * llama-server) of output tok/s and of the p50s of TTFT, TPOT, ITL and E2E latency, with their
 * quartiles, and writes the "Concurrency 1, interleaved" section of bench/RESULTS.md.
 *
 * Before each burst it waits `--settle-ms` (default 500): llama-server's ggml workers busy-poll
 * for about 100 ms of CPU after its last decode (measured from /proc/PID/stat: 100-110 ms, against
 * 0-10 ms for servellm, whose pool is paused after each decode), and without the wait that
 * polling lands on the first request of the other server's burst.
 *
 * Usage: npx tsx bench/c1-interleaved.ts [--rounds 24] [--burst 2] [--threads 2] [--settle-ms 500]
 *   [--models random-130m-f16,random-370m-q8_0]
 */
import { parseArgs } from 'node:util';
import type { BenchmarkMetrics } from '../src/benchmark/metrics.ts';
import { ensureModel, type ModelSpec } from '../src/gguf/model-cache.ts';
import { median, writeResultsSection } from './bench-support.ts';
import { letterRequests, runWorkload, servedModelName } from './peer-workload.ts';
import {
  startServerProcess,
  type RunningServerProcess,
  type ServerName,
} from './server-process.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '24' },
    burst: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    models: { type: 'string', default: 'random-130m-f16,random-370m-q8_0' },
    port: { type: 'string', default: '18400' },
    'settle-ms': { type: 'string', default: '500' },
  },
});
const rounds = Number(values.rounds);
const burst = Number(values.burst);
const threads = Number(values.threads);
const settleMs = Number(values['settle-ms']);
const SERVERS: readonly ServerName[] = ['servellm', 'llama-server'];
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** `burst` requests of 32 letter tokens, one at a time. */
async function burstOn(server: RunningServerProcess, model: string, seed: number) {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return runWorkload(server.baseUrl, model, letterRequests(burst, 0, 32, seed), 1);
}

const p50 = (stats: BenchmarkMetrics['ttft']): number => stats.median;

const sections: string[] = [];
for (const preset of values.models.split(',')) {
  const modelPath = await ensureModel({ preset } as ModelSpec);
  const running = new Map<ServerName, RunningServerProcess>();
  try {
    for (const [i, name] of SERVERS.entries()) {
      running.set(
        name,
        await startServerProcess(name, {
          modelPath,
          port: Number(values.port) + i,
          threads,
          parallel: 16,
          contextPerSequence: 256,
        }),
      );
    }
    const names = new Map<ServerName, string>();
    for (const [name, server] of running) {
      names.set(name, (await servedModelName(server.baseUrl)) ?? 'model');
      await burstOn(server, names.get(name)!, 999); // warm-up
    }
    const ratios = {
      tps: [] as number[],
      ttft: [] as number[],
      tpot: [] as number[],
      itl: [] as number[],
      e2el: [] as number[],
    };
    const failed = new Map<ServerName, number>(SERVERS.map((name) => [name, 0]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
      const metrics = new Map<ServerName, BenchmarkMetrics>();
      for (const name of order) {
        const m = await burstOn(running.get(name)!, names.get(name)!, 1000 + round);
        metrics.set(name, m);
        failed.set(name, failed.get(name)! + m.failed);
      }
      const ours = metrics.get('servellm')!;
      const theirs = metrics.get('llama-server')!;
      ratios.tps.push(ours.outputThroughput / theirs.outputThroughput);
      ratios.ttft.push(p50(ours.ttft) / p50(theirs.ttft));
      ratios.tpot.push(p50(ours.tpot) / p50(theirs.tpot));
      ratios.itl.push(p50(ours.itl) / p50(theirs.itl));
      ratios.e2el.push(p50(ours.e2el) / p50(theirs.e2el));
    }
    const row = (label: string, list: number[]): string => {
      const sorted = [...list].sort((a, b) => a - b);
      return `| ${label} | **${median(list).toFixed(3)}** | ${quantile(sorted, 0.25).toFixed(3)} – ${quantile(sorted, 0.75).toFixed(3)} |`;
    };
    const table = [
      `### ${preset}`,
      '',
      '| per-round ratio, servellm / llama-server | median | quartiles |',
      '|---|---:|---:|',
      row('output tok/s (above 1 is better)', ratios.tps),
      row('TTFT p50 (below 1 is better)', ratios.ttft),
      row('TPOT p50 (below 1 is better)', ratios.tpot),
      row('ITL p50 (below 1 is better)', ratios.itl),
      row('E2E latency p50 (below 1 is better)', ratios.e2el),
      '',
      `Failed requests: servellm ${failed.get('servellm')}, llama-server ${failed.get('llama-server')}.`,
    ].join('\n');
    console.log(table);
    sections.push(table);
  } finally {
    for (const server of running.values()) await server.stop();
  }
}
writeResultsSection(
  'Concurrency 1, interleaved',
  `\`npx tsx bench/c1-interleaved.ts --rounds ${rounds} --burst ${burst} --threads ${threads} --settle-ms ${settleMs} --models ${values.models}\`, ${new Date().toISOString()}: both servers up, ${burst} requests to one then ${burst} to the other each round (the first alternating), ${rounds} rounds; 32-token prompts, 64 output tokens, greedy, tokens 128-255 banned. Both servers stay resident; each burst starts ${settleMs} ms after the previous one ended, so llama-server's ggml workers have stopped busy-polling (about 100 ms of CPU after its last decode).\n\n${sections.join('\n\n')}`,
);
