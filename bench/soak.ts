/**
 * Soak: a servellm process under mixed traffic for a long time, watched for growth.
 *
 * One server on the random tiny model (fast steps, so many requests pass through) with a chat
 * template, `--max-num-seqs 8`. `--concurrency` clients loop until `--minutes` are up, each
 * request drawn from a mix: streamed and plain completions (some with n = 2 and logprobs),
 * streamed chat, structured outputs (a schema of test/data/json-schema-corpus.json, a choice,
 * a regex, json_object), streams cancelled at a random moment, and bad requests (malformed
 * JSON, wrong types, out-of-range values). Every `--sample-s` seconds it records the server's
 * RSS (/proc/PID/status) and, from /metrics, the KV cache usage and the running and waiting
 * requests.
 *
 * Pass criteria (printed, and the exit code is 1 when one fails): no 5xx and no dropped
 * connection outside the deliberate cancellations; every good request 200 and every bad one 4xx;
 * running and waiting back to 0 at the end; RSS growth after warm-up (the median of the last
 * tenth of the samples against the median of the first tenth after the first `--warmup-minutes`)
 * under 5 %.
 *
 * Usage: npx tsx bench/soak.ts [--minutes 30] [--concurrency 8] [--sample-s 10] [--warmup-minutes 3]
 * Writes the "Soak" section of bench/RESULTS.md.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRng } from '../src/benchmark/random.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { median, writeResultsSection } from './bench-support.ts';
import { startServerProcess, type RunningServerProcess } from './server-process.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '8' },
    'sample-s': { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string', default: '3' },
    port: { type: 'string', default: '18700' },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const concurrency = Number(values.concurrency);
const sampleMs = Number(values['sample-s']) * 1000;
const warmupMs = Number(values['warmup-minutes']) * 60_000;

const corpus = (
  JSON.parse(
    readFileSync(new URL('../test/data/json-schema-corpus.json', import.meta.url), 'utf8'),
  ) as { schema: unknown }[]
).map((entry) => entry.schema);
const template = fileURLToPath(
  new URL('../test/data/chat-templates/hermes-tool-use.jinja', import.meta.url),
);

/** A seeded uniform generator in [0, 1) (the benchmark client's mulberry32). */
function generator(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

type Kind = 'completion' | 'stream' | 'chat' | 'structured' | 'cancel' | 'bad';
const MIX: readonly [Kind, number][] = [
  ['completion', 0.2],
  ['stream', 0.25],
  ['chat', 0.15],
  ['structured', 0.15],
  ['cancel', 0.15],
  ['bad', 0.1],
];

interface Tally {
  sent: number;
  ok: number;
  clientError: number;
  serverError: number;
  dropped: number;
}
/** Good requests not answered 2xx, or bad ones not answered 4xx. */
let unexpected = 0;
const tallies = new Map<Kind, Tally>(
  MIX.map(([kind]) => [kind, { sent: 0, ok: 0, clientError: 0, serverError: 0, dropped: 0 }]),
);

function pick(random: () => number): Kind {
  let r = random();
  for (const [kind, weight] of MIX) {
    if (r < weight) return kind;
    r -= weight;
  }
  return 'completion';
}

function prompt(random: () => number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'soak', 'test', 'server', 'token'];
  return Array.from(
    { length: 4 + Math.floor(random() * 40) },
    () => words[Math.floor(random() * words.length)],
  ).join(' ');
}

/** The request of one draw: path, body (an object, or raw text for malformed ones), whether it is bad. */
function requestOf(
  kind: Kind,
  random: () => number,
): { path: string; body: unknown; bad: boolean; stream: boolean } {
  const maxTokens = 8 + Math.floor(random() * 120);
  const base = {
    model: 'tiny',
    temperature: random() < 0.3 ? 0 : 1,
    seed: Math.floor(random() * 1e6),
  };
  switch (kind) {
    case 'completion':
      return {
        path: '/v1/completions',
        body: {
          ...base,
          prompt: prompt(random),
          max_tokens: maxTokens,
          // vLLM refuses n > 1 with greedy sampling.
          n: base.temperature > 0 && random() < 0.3 ? 2 : 1,
          logprobs: random() < 0.3 ? 2 : null,
        },
        bad: false,
        stream: false,
      };
    case 'stream':
    case 'cancel':
      return {
        path: '/v1/completions',
        body: {
          ...base,
          prompt: prompt(random),
          max_tokens: maxTokens * 2,
          stream: true,
          stream_options: { include_usage: true },
        },
        bad: false,
        stream: true,
      };
    case 'chat':
      return {
        path: '/v1/chat/completions',
        body: {
          ...base,
          messages: [{ role: 'user', content: prompt(random) }],
          max_tokens: maxTokens,
          stream: true,
          logprobs: true,
          top_logprobs: 2,
        },
        bad: false,
        stream: true,
      };
    case 'structured': {
      const r = random();
      const constraint =
        r < 0.5
          ? { structured_outputs: { json: corpus[Math.floor(random() * corpus.length)] } }
          : r < 0.7
            ? { structured_outputs: { choice: ['red', 'green', 'blue', 'cyan'] } }
            : r < 0.85
              ? { structured_outputs: { regex: '[a-z]{3,8}-[0-9]{2,4}' } }
              : { response_format: { type: 'json_object' } };
      return {
        path: '/v1/completions',
        body: { ...base, prompt: prompt(random), max_tokens: 600, ...constraint },
        bad: false,
        stream: false,
      };
    }
    case 'bad': {
      const cases: unknown[] = [
        '{"model": "tiny", "prompt": ',
        { model: 'tiny', prompt: 5 },
        { model: 'tiny', prompt: 'x', max_tokens: -3 },
        { model: 'tiny', prompt: [[999999]] },
        { model: 'tiny', prompt: 'x', n: 1e9 },
        { model: 'nope', prompt: 'x' },
        { model: 'tiny', prompt: 'x', structured_outputs: { regex: '(a' } },
        { model: 'tiny', messages: 'hi' },
      ];
      const body = cases[Math.floor(random() * cases.length)];
      const chat = typeof body === 'object' && body !== null && 'messages' in body;
      return {
        path: chat ? '/v1/chat/completions' : '/v1/completions',
        body,
        bad: true,
        stream: false,
      };
    }
  }
}

async function send(server: RunningServerProcess, kind: Kind, random: () => number): Promise<void> {
  const { path, body, bad, stream } = requestOf(kind, random);
  const tally = tallies.get(kind)!;
  tally.sent++;
  const abort = new AbortController();
  const cancelAfter = kind === 'cancel' ? random() * 400 : null;
  const timer = cancelAfter === null ? null : setTimeout(() => abort.abort(), cancelAfter);
  try {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: abort.signal,
    });
    const text = await response.text();
    if (response.status >= 500) tally.serverError++;
    else if (response.status >= 400) tally.clientError++;
    else if (stream && !text.endsWith('data: [DONE]\n\n')) tally.dropped++;
    else tally.ok++;
    if (bad !== (response.status >= 400 && response.status < 500)) {
      unexpected++;
      console.error(`unexpected ${response.status} for ${kind}: ${text.slice(0, 200)}`);
    }
  } catch (error) {
    if (!abort.signal.aborted) {
      tally.dropped++;
      console.error(`${kind}: ${String(error)}`);
    }
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

interface Sample {
  readonly atS: number;
  readonly rssMiB: number;
  /** The JavaScript heap in use and reserved (prom-client's process metrics). */
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly kvPercent: number;
  readonly running: number;
  readonly waiting: number;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function gauge(metrics: string, name: string): number {
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function sample(server: RunningServerProcess, startedAt: number): Promise<Sample> {
  const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
  return {
    atS: (performance.now() - startedAt) / 1000,
    rssMiB: rssMiB(server.pid),
    heapUsedMiB: gauge(metrics, 'nodejs_heap_size_used_bytes') / 1048576,
    heapTotalMiB: gauge(metrics, 'nodejs_heap_size_total_bytes') / 1048576,
    kvPercent: 100 * gauge(metrics, 'vllm:kv_cache_usage_perc'),
    running: gauge(metrics, 'vllm:num_requests_running'),
    waiting: gauge(metrics, 'vllm:num_requests_waiting'),
  };
}

const modelPath = await ensureModel({ preset: 'random-tiny-f32' });
const server = await startServerProcess('servellm', {
  modelPath,
  port: Number(values.port),
  threads: 2,
  parallel: 8,
  contextPerSequence: 1024,
  servellmArgs: ['--served-model-name', 'tiny', '--chat-template', template],
});
const samples: Sample[] = [];
try {
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  const sampler = setInterval(() => {
    sample(server, startedAt).then(
      (s) => {
        samples.push(s);
        console.log(
          `${s.atS.toFixed(0)} s: RSS ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapUsedMiB.toFixed(1)}/${s.heapTotalMiB.toFixed(1)} MiB, KV ${s.kvPercent.toFixed(1)} %, running ${s.running}, waiting ${s.waiting}`,
        );
      },
      (error: unknown) => console.error(`sample: ${String(error)}`),
    );
  }, sampleMs);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const random = generator(worker + 1);
      while (performance.now() < deadline) await send(server, pick(random), random);
    }),
  );
  clearInterval(sampler);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const last = await sample(server, startedAt);
  samples.push(last);
  const afterWarmup = samples.filter((s) => s.atS * 1000 >= warmupMs);
  const tenth = Math.max(1, Math.floor(afterWarmup.length / 10));
  const baseline = median(afterWarmup.slice(0, tenth).map((s) => s.rssMiB));
  const end = median(afterWarmup.slice(-tenth).map((s) => s.rssMiB));
  const growth = (100 * (end - baseline)) / baseline;
  const totals = [...tallies.values()].reduce(
    (sum, t) => ({
      sent: sum.sent + t.sent,
      serverError: sum.serverError + t.serverError,
      dropped: sum.dropped + t.dropped,
    }),
    { sent: 0, serverError: 0, dropped: 0 },
  );
  const checks: [string, boolean][] = [
    ['no 5xx', totals.serverError === 0],
    ['no dropped connection', totals.dropped === 0],
    ['every good request 2xx, every bad one 4xx', unexpected === 0],
    ['running and waiting 0 at the end', last.running === 0 && last.waiting === 0],
    [`RSS growth after warm-up under 5 % (${growth.toFixed(2)} %)`, growth < 5],
  ];
  process.exitCode = checks.some(([, ok]) => !ok) ? 1 : 0;
  const every = Math.max(1, Math.round(samples.length / 10));
  const body = [
    `\`npx tsx bench/soak.ts --minutes ${values.minutes} --concurrency ${concurrency} --sample-s ${values['sample-s']} --warmup-minutes ${values['warmup-minutes']}\`, ${new Date().toISOString()}: random-tiny-f32, \`--max-num-seqs 8 --max-model-len 1024\`, ${concurrency} clients looping over the mix (plain and streamed completions, streamed chat with logprobs, structured outputs, cancelled streams, bad requests).`,
    '',
    '| kind | sent | 2xx | 4xx | 5xx | dropped |',
    '|---|---:|---:|---:|---:|---:|',
    ...[...tallies].map(
      ([kind, t]) =>
        `| ${kind} | ${t.sent} | ${t.ok} | ${t.clientError} | ${t.serverError} | ${t.dropped} |`,
    ),
    '',
    '| time | RSS | JS heap used / reserved | KV usage | running | waiting |',
    '|---:|---:|---:|---:|---:|---:|',
    ...samples
      .filter((_, i) => i % every === 0 || i === samples.length - 1)
      .map(
        (s) =>
          `| ${(s.atS / 60).toFixed(1)} min | ${s.rssMiB.toFixed(1)} MiB | ${s.heapUsedMiB.toFixed(1)} / ${s.heapTotalMiB.toFixed(1)} MiB | ${s.kvPercent.toFixed(1)} % | ${s.running} | ${s.waiting} |`,
      ),
    '',
    `RSS after warm-up: ${baseline.toFixed(1)} MiB (median of the first tenth of the samples after ${values['warmup-minutes']} minutes), at the end ${end.toFixed(1)} MiB (median of the last tenth): ${growth >= 0 ? '+' : ''}${growth.toFixed(2)} %.`,
    '',
    ...checks.map(([name, ok]) => `- ${ok ? 'pass' : 'FAIL'}: ${name}`),
  ].join('\n');
  console.log(body);
  writeResultsSection('Soak', body);
} finally {
  await server.stop();
}
