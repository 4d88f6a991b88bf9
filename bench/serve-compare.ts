/**
 * The serving comparison: servellm against llama.cpp's llama-server on the same generated model,
 * the same kernels (peer-tools.ts), threads, parallel sequences and context, one server after the
 * other in one run, driven by `servellm bench serve`'s client. Writes the ratio table
 * (servellm / llama-server) to bench/RESULTS.md.
 *
 * Per model and repeat (the server order alternates between repeats):
 *   - random workload: 32-token prompts of letters, 64 output tokens (ignore_eos), at each
 *     concurrency, 4 x concurrency requests (at least 16) after `concurrency` warm-ups; both servers
 *     with 16 parallel sequences of 256 tokens. No prompt is sent twice (see `drive`);
 *   - shared-prefix workloads: a 512-token prefix shared by every prompt plus a 32-token suffix,
 *     64 output tokens, concurrency 8, 8 parallel sequences of 1024 tokens: cold (8 requests
 *     bring a prefix new to the server at once) and warm (16 requests after warm-ups that
 *     computed the prefix); prompt tokens each server evaluated, from its log;
 *   - the kernel ceiling: llama-batched-bench's decode rate at the same batch sizes;
 *   - servellm's own step timer and decode rates, from its stats lines (one a second) while 16
 *     sequences run: the decode-only throughput (decode-only steps, dispatch to dispatch; what
 *     llama-batched-bench's S_TG measures) and the windows' generation throughput (which also
 *     pays for prefilling the requests that replace finished ones).
 * Every request bans tokens 128-255 with logit_bias: those are bytes that are not UTF-8 on their
 * own, and llama-server aborts a stream whose text is not valid UTF-8.
 * Medians over repeats; a ratio is the median of the per-repeat ratios.
 *
 * Usage: npx tsx bench/serve-compare.ts [--repeats 3] [--threads 2]
 *   [--models random-130m-f16,random-370m-q8_0] [--concurrency 1,4,8,16] [--no-prefix]
 *   [--servellm-args='--flag value ...'] (more servellm flags, e.g. for an A/B of a setting)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BenchRequest } from '../src/benchmark/dataset.ts';
import type { BenchmarkMetrics } from '../src/benchmark/metrics.ts';
import { ensureModel, type ModelSpec } from '../src/gguf/model-cache.ts';
import { median, writeResultsSection } from './bench-support.ts';
import { runBatchedBench } from './peer-tools.ts';
import { letterRequests, OUTPUT_LEN, runWorkload, servedModelName } from './peer-workload.ts';
import { startServerProcess, type ServerConfig, type ServerName } from './server-process.ts';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    models: { type: 'string', default: 'random-130m-f16,random-370m-q8_0' },
    concurrency: { type: 'string', default: '1,4,8,16' },
    'no-prefix': { type: 'boolean', default: false },
    'servellm-args': { type: 'string', default: '' },
    port: { type: 'string', default: '18300' },
  },
});
const repeats = Number(values.repeats);
const threads = Number(values.threads);
const presets = values.models.split(',') as ModelSpec['preset'][];
const concurrencies = values.concurrency === '' ? [] : values.concurrency.split(',').map(Number);
const port = Number(values.port);
const SERVERS: readonly ServerName[] = ['servellm', 'llama-server'];
const INPUT_LEN = 32;
const PARALLEL = 16;
/**
 * The shared-prefix workloads: `coldPrompts` requests arrive together with a prefix no server has
 * seen (a system prompt's first burst); `prompts` requests come after warm-ups that computed it.
 */
const PREFIX = {
  prefixLen: 512,
  inputLen: 32,
  concurrency: 8,
  prompts: 16,
  coldPrompts: 8,
  parallel: 8,
};

interface Measure {
  readonly outputTps: number;
  readonly ttftP50: number;
  readonly tpotP50: number;
  readonly failed: number;
}

interface StepFigures {
  readonly hostMsP50: number;
  readonly loopActiveMsP50: number;
  /** Generation throughput of the windows: decode-only steps plus the prefills of joiners. */
  readonly decodeTps: number;
  /** Rows per second over decode-only steps only: the figure that compares with S_TG. */
  readonly decodeOnlyTps: number;
  readonly kernelMsP50: number;
  readonly lines: number;
}

type WorkloadKey = `c${number}` | PrefixWorkload;

/** The shared prefix arrives with the measured requests (cold), or every server computed it. */
type PrefixWorkload = 'prefix-cold' | 'prefix-warm';

/** Per model: workload -> server -> one Measure per repeat. */
const measures = new Map<string, Map<WorkloadKey, Map<ServerName, Measure[]>>>();
const stepFigures = new Map<string, StepFigures[]>();
const ceilings = new Map<string, Map<number, number[]>>();
/** Per model, workload and server: prompt tokens the server evaluated for the measured requests. */
const evaluated = new Map<string, number[]>();

/** Keep one run's figures and print them. */
function record(
  model: string,
  workload: WorkloadKey,
  server: ServerName,
  metrics: BenchmarkMetrics,
): void {
  const m = toMeasure(metrics);
  console.log(
    `  ${server} ${workload}: ${m.outputTps.toFixed(1)} tok/s, TTFT p50 ${m.ttftP50.toFixed(1)} ms, ` +
      `TPOT p50 ${m.tpotP50.toFixed(2)} ms${m.failed > 0 ? `, ${m.failed} FAILED` : ''}`,
  );
  for (const [reason, count] of metrics.errors) console.log(`    failed ${count}x: ${reason}`);
  let byWorkload = measures.get(model);
  if (byWorkload === undefined) {
    measures.set(model, (byWorkload = new Map<WorkloadKey, Map<ServerName, Measure[]>>()));
  }
  let byServer = byWorkload.get(workload);
  if (byServer === undefined)
    byWorkload.set(workload, (byServer = new Map<ServerName, Measure[]>()));
  byServer.set(server, [...(byServer.get(server) ?? []), m]);
}

function toMeasure(metrics: BenchmarkMetrics): Measure {
  return {
    outputTps: metrics.outputThroughput,
    ttftP50: metrics.ttft.median,
    tpotP50: metrics.tpot.median,
    failed: metrics.failed,
  };
}

/**
 * Warm up with `warmups`, then measure `requests`. The warm-up prompts are distinct from the
 * measured ones: a server that caches prompts (llama-server keeps each slot's last prompt) must
 * not find the measured prompts already computed, or it measures its cache, not its serving.
 */
async function drive(
  baseUrl: string,
  warmups: BenchRequest[],
  requests: BenchRequest[],
  concurrency: number,
  onMeasureStart: () => void = () => {},
): Promise<BenchmarkMetrics> {
  const model = (await servedModelName(baseUrl)) ?? 'model';
  await runWorkload(baseUrl, model, warmups, concurrency);
  onMeasureStart();
  return runWorkload(baseUrl, model, requests, concurrency);
}

const STATS_LINE =
  /Avg generation throughput: ([\d.]+) tokens\/s, Running: (\d+) reqs.*\(([\d.]+) rows\/step\), Decode-only throughput: ([\d.]+) tokens\/s, Kernel time p50: ([\d.]+) ms, Step host time p50\/p99: ([\d.]+)\/[\d.]+ ms, Loop active per step: ([\d.]+) ms/;

/** servellm's step timer and decode rate over the stats lines with all `parallel` rows busy. */
function stepFiguresFrom(lines: readonly string[], parallel: number): StepFigures {
  const host: number[] = [];
  const active: number[] = [];
  const decode: number[] = [];
  const decodeOnly: number[] = [];
  const kernel: number[] = [];
  for (const line of lines) {
    const m = STATS_LINE.exec(line);
    if (m === null || Number(m[2]) !== parallel || Number(m[3]) < parallel - 0.5) continue;
    decode.push(Number(m[1]));
    decodeOnly.push(Number(m[4]));
    kernel.push(Number(m[5]));
    host.push(Number(m[6]));
    active.push(Number(m[7]));
  }
  return {
    hostMsP50: median(host),
    loopActiveMsP50: median(active),
    decodeTps: median(decode),
    decodeOnlyTps: median(decodeOnly),
    kernelMsP50: median(kernel),
    lines: host.length,
  };
}

const SERVELLM_PROMPT_RATE = /Avg prompt throughput: ([\d.]+) tokens\/s/;
const LLAMA_PROMPT_EVAL = /prompt eval time =\s*[\d.]+ ms \/\s*(\d+) tokens/;

/**
 * Prompt tokens a server evaluated, from its log: llama-server prints each finished task's
 * "prompt eval time = ... / N tokens"; servellm's one-second stats lines give its prompt rate
 * (to 0.1 token/s, so the sum is within a token per line).
 */
function promptTokensEvaluated(server: ServerName, lines: readonly string[]): number {
  let total = 0;
  for (const line of lines) {
    const m = (server === 'servellm' ? SERVELLM_PROMPT_RATE : LLAMA_PROMPT_EVAL).exec(line);
    if (m !== null) total += Number(m[1]);
  }
  return Math.round(total);
}

async function measureServer(
  preset: string,
  modelPath: string,
  server: ServerName,
  repeat: number,
): Promise<void> {
  const config: ServerConfig = {
    modelPath,
    port,
    threads,
    parallel: PARALLEL,
    contextPerSequence: 256,
    servellmArgs: values['servellm-args'].split(' ').filter((arg) => arg !== ''),
  };
  const running = await startServerProcess(server, config);
  try {
    for (const concurrency of concurrencies) {
      // Seeds distinct per repeat, concurrency and role: no prompt is sent twice to a server.
      const seed = 1000 * repeat + 10 * concurrency;
      const warmups = letterRequests(concurrency, 0, INPUT_LEN, seed + 1);
      const requests = letterRequests(Math.max(16, 4 * concurrency), 0, INPUT_LEN, seed);
      const logStart = running.log.length;
      const metrics = await drive(running.baseUrl, warmups, requests, concurrency);
      record(preset, `c${concurrency}`, server, metrics);
      if (server === 'servellm' && concurrency === PARALLEL) {
        // Let the last second's stats line arrive before reading the window.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const figures = stepFiguresFrom(running.log.slice(logStart), PARALLEL);
        stepFigures.set(preset, [...(stepFigures.get(preset) ?? []), figures]);
      }
    }
  } finally {
    await running.stop();
  }
  if (values['no-prefix']) return;
  for (const workload of ['prefix-cold', 'prefix-warm'] as const) {
    const prefixServer = await startServerProcess(server, {
      ...config,
      parallel: PREFIX.parallel,
      contextPerSequence: 1024,
    });
    try {
      // Measured: one shared prefix, distinct suffixes. Warm-ups: the same prefix (warm: each of
      // llama-server's slots holds it, and servellm's cache) or another one (cold: the measured
      // prefix arrives with the first measured requests).
      const seed = 1000 * repeat;
      const warmupSeed = workload === 'prefix-warm' ? seed : seed + 7;
      const measured = workload === 'prefix-warm' ? PREFIX.prompts : PREFIX.coldPrompts;
      const all = letterRequests(measured, PREFIX.prefixLen, PREFIX.inputLen, seed);
      const warmups = letterRequests(
        PREFIX.concurrency + PREFIX.prompts,
        PREFIX.prefixLen,
        PREFIX.inputLen,
        warmupSeed,
      ).slice(PREFIX.prompts);
      let logStart = 0;
      const metrics = await drive(prefixServer.baseUrl, warmups, all, PREFIX.concurrency, () => {
        logStart = prefixServer.log.length;
      });
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the last stats line
      const key = `${preset}/${workload}/${server}`;
      const count = promptTokensEvaluated(server, prefixServer.log.slice(logStart));
      evaluated.set(key, [...(evaluated.get(key) ?? []), count]);
      console.log(`    prompt tokens evaluated: ${count}`);
      record(preset, workload, server, metrics);
    } finally {
      await prefixServer.stop();
    }
  }
}

const fmt = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

/** Medians of both servers' figures and of the per-repeat ratios for one workload. */
function row(label: string, byServer: Map<ServerName, Measure[]>): string {
  const ours = byServer.get('servellm') ?? [];
  const peer = byServer.get('llama-server') ?? [];
  const ratio = (f: (m: Measure) => number): number =>
    median(ours.map((m, i) => f(m) / f(peer[i]!)).filter(Number.isFinite));
  const med = (list: Measure[], f: (m: Measure) => number): number => median(list.map(f));
  const failed = [...ours, ...peer].reduce((n, m) => n + m.failed, 0);
  const cells = (f: (m: Measure) => number, digits: number): string[] => [
    fmt(med(ours, f), digits),
    fmt(med(peer, f), digits),
    `**${fmt(ratio(f), 3)}**`,
  ];
  const all = [
    label,
    ...cells((m) => m.outputTps, 1),
    ...cells((m) => m.ttftP50, 1),
    ...cells((m) => m.tpotP50, 2),
    String(failed),
  ];
  return `| ${all.join(' | ')} |`;
}

function modelSection(preset: string, description: string): string {
  const byWorkload = measures.get(preset) ?? new Map<WorkloadKey, Map<ServerName, Measure[]>>();
  const lines = [
    `### ${preset} (${description})`,
    '',
    '| workload | servellm out tok/s | llama-server out tok/s | ratio | servellm TTFT p50 ms | llama-server TTFT p50 ms | ratio | servellm TPOT p50 ms | llama-server TPOT p50 ms | ratio | failed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const concurrency of concurrencies) {
    const byServer = byWorkload.get(`c${concurrency}`);
    if (byServer !== undefined) lines.push(row(`concurrency ${concurrency}`, byServer));
  }
  const prefixNotes: string[] = [];
  for (const workload of ['prefix-cold', 'prefix-warm'] as const) {
    const byServer = byWorkload.get(workload);
    if (byServer === undefined) continue;
    const label = `shared prefix ${PREFIX.prefixLen}+${PREFIX.inputLen}, c=${PREFIX.concurrency}, ${workload === 'prefix-cold' ? 'cold' : 'warm'}`;
    lines.push(row(label, byServer));
    const counts = SERVERS.map((server) =>
      fmt(median(evaluated.get(`${preset}/${workload}/${server}`) ?? []), 0),
    );
    prefixNotes.push(
      `${workload === 'prefix-cold' ? 'cold' : 'warm'}: servellm ${counts[0]}, llama-server ${counts[1]}`,
    );
  }
  if (prefixNotes.length > 0) {
    lines.push(
      '',
      `Shared prefix: every prompt is a ${PREFIX.prefixLen}-token prefix and ${PREFIX.inputLen} distinct tokens, after ${PREFIX.concurrency} warm-ups. ` +
        `Cold: the warm-ups have another prefix, and ${PREFIX.coldPrompts} requests with a prefix new to the server arrive at once (a system prompt's first burst: ${PREFIX.coldPrompts * (PREFIX.prefixLen + PREFIX.inputLen)} prompt tokens). ` +
        `Warm: the warm-ups share the prefix (each of llama-server's slots and servellm's cache hold it), then ${PREFIX.prompts} requests (${PREFIX.prompts * (PREFIX.prefixLen + PREFIX.inputLen)} prompt tokens). ` +
        `Prompt tokens each server evaluated for the measured requests, medians (from the servers' logs): ${prefixNotes.join('; ')}.`,
    );
  }
  const ceiling = ceilings.get(preset);
  if (ceiling !== undefined && ceiling.size > 0) {
    lines.push(
      '',
      '| batch | llama-batched-bench decode tok/s | servellm output tok/s at that concurrency | fraction |',
      '|---:|---:|---:|---:|',
    );
    for (const [batch, rates] of ceiling) {
      const ours = byWorkload.get(`c${batch}`)?.get('servellm') ?? [];
      const outTps = median(ours.map((m) => m.outputTps));
      lines.push(
        `| ${batch} | ${fmt(median(rates), 1)} | ${fmt(outTps, 1)} | ${fmt(outTps / median(rates), 3)} |`,
      );
    }
  }
  const steps = stepFigures.get(preset) ?? [];
  if (steps.length > 0) {
    const decode = median(steps.map((s) => s.decodeTps));
    const decodeOnly = median(steps.map((s) => s.decodeOnlyTps));
    const tg = median(ceiling?.get(PARALLEL) ?? []);
    lines.push(
      '',
      `servellm at ${PARALLEL} running sequences (its stats lines, ${steps.map((s) => s.lines).join('/')} one-second windows per repeat): ` +
        `aggregate decode over its decode-only steps ${fmt(decodeOnly, 1)} tok/s = **${fmt(decodeOnly / tg, 3)}** of llama-batched-bench's ${fmt(tg, 1)} ` +
        `(generation throughput of the whole windows, which also prefill the requests that replace finished ones: ${fmt(decode, 1)} tok/s = ${fmt(decode / tg, 3)}); ` +
        `kernel (decode + sampling) time per step p50 ${fmt(median(steps.map((s) => s.kernelMsP50)), 2)} ms, ` +
        `step host time p50 **${fmt(median(steps.map((s) => s.hostMsP50)), 3)} ms**, ` +
        `event-loop active time per step ${fmt(median(steps.map((s) => s.loopActiveMsP50)), 3)} ms.`,
    );
  }
  return lines.join('\n');
}

const started = new Date();
const descriptions = new Map<string, string>();
for (const preset of presets) {
  const modelPath = await ensureModel({ preset });
  console.log(`${preset}: ${modelPath}`);
  // Both servers map the file: read it once so the first one measured finds it in the page cache.
  readFileSync(modelPath);
  for (let repeat = 0; repeat < repeats; repeat++) {
    console.log(`repeat ${repeat + 1}/${repeats}`);
    const order = repeat % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const server of order) await measureServer(preset, modelPath, server, repeat);
    const rates =
      concurrencies.length === 0
        ? null
        : runBatchedBench(modelPath, concurrencies, INPUT_LEN, OUTPUT_LEN, threads, false);
    if (rates !== null) {
      let byBatch = ceilings.get(preset);
      if (byBatch === undefined) ceilings.set(preset, (byBatch = new Map<number, number[]>()));
      for (const [batch, rate] of rates) byBatch.set(batch, [...(byBatch.get(batch) ?? []), rate]);
      console.log(
        `  llama-batched-bench: ${[...rates].map(([b, r]) => `${b}: ${r}`).join(', ')} tok/s`,
      );
    }
  }
  descriptions.set(preset, modelPath.split('/').pop()!);
}

const command =
  `npx tsx bench/serve-compare.ts --repeats ${repeats} --threads ${threads} --models ${values.models} ` +
  `--concurrency ${values.concurrency}${values['no-prefix'] ? ' --no-prefix' : ''}`;
const body = [
  `\`${command}\` (\`npm run bench:serve\`), started ${started.toISOString()}, ${repeats} repeats, ` +
    `${threads} threads for both servers. servellm \`--max-num-seqs ${PARALLEL} --max-model-len 256\` ` +
    `against llama-server \`-np ${PARALLEL} -c ${PARALLEL * 256}\` (shared prefix: ${PREFIX.parallel} sequences of 1024), ` +
    'both on the prebuilt kernels of @node-llama-cpp/linux-x64 (bench/peer-tools.ts). ' +
    `Workload: ${INPUT_LEN}-token prompts, ${OUTPUT_LEN} output tokens with ignore_eos, greedy, ` +
    'tokens 128-255 banned by logit_bias. Ratios are servellm / llama-server, medians of per-repeat ratios: ' +
    'above 1 is better for throughput, below 1 is better for TTFT and TPOT.',
  ...presets.map((preset) => modelSection(preset, descriptions.get(preset) ?? '')),
].join('\n\n');
writeResultsSection('Serving: servellm against llama-server', body);
console.log(body);
