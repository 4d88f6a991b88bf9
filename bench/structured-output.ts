/**
 * Structured outputs: what enforcing a JSON schema costs per token, and what compiling one costs.
 *
 * TPOT: one servellm process on the random ~130M F16 model (32,000 tokens), 2 threads. Each round
 * sends `--burst` streaming completions unconstrained, then the same constrained by each schema
 * below (the order alternating between rounds); 32-token prompts, 64 output tokens, temperature 1,
 * ignore_eos. Reports the median over rounds of the per-round TPOT p50 ratio (constrained /
 * unconstrained). The first constrained request of each schema is sent before the rounds, so the
 * vocabulary and first masks are built outside them; masks are cached per automaton
 * configuration, so this measures the steady state a served schema reaches.
 *
 * Compile: in this process, the front end plus the byte automaton for every schema of
 * test/data/json-schema-corpus.json (median and max over the corpus, best of 5 each).
 *
 * Usage: npx tsx bench/structured-output.ts [--rounds 8] [--burst 2] [--threads 2]
 * Writes the "Structured outputs" section of bench/RESULTS.md.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runBenchmark } from '../src/benchmark/run-benchmark.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { compileGrammar } from '../src/grammar/automaton/byte-nfa.ts';
import { jsonSchemaGrammar } from '../src/grammar/json-schema/json-schema-grammar.ts';
import { GrammarMatchers } from '../src/engine/structured-output.ts';
import { loadBenchBackend, median, writeResultsSection } from './bench-support.ts';
import { letterRequests, servedModelName } from './peer-workload.ts';
import { startServerProcess } from './server-process.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    burst: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    port: { type: 'string', default: '18600' },
  },
});
const rounds = Number(values.rounds);
const burst = Number(values.burst);

/** vLLM's test fixture shape: a person with a graded skill list and a work history. */
const PERSON_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    skills: { type: 'array', items: { type: 'string', maxLength: 10 }, minItems: 3 },
    grade: { type: 'string', pattern: '^[A-D]$' },
    email: { type: 'string', pattern: '^[a-z0-9.]{1,20}@[a-z]{1,10}\\.(com|org)$' },
    work_history: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          company: { type: 'string' },
          duration: { type: 'number' },
          position: { type: 'string' },
        },
        required: ['company', 'position'],
      },
    },
  },
  required: ['name', 'age', 'skills', 'grade', 'email', 'work_history'],
};

/** Short fields only: the mask changes at almost every token. */
const SHORT_FIELDS_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer', minimum: 0, maximum: 99999 },
    ok: { type: 'boolean' },
    code: { type: 'string', pattern: '^[A-Z]{3}$' },
    level: { enum: ['low', 'medium', 'high'] },
    ratio: { type: 'number', minimum: 0, maximum: 1 },
    tags: { type: 'array', items: { type: 'string', maxLength: 4 }, maxItems: 8 },
  },
  required: ['id', 'ok', 'code', 'level', 'ratio', 'tags'],
};

const SCHEMAS = { person: PERSON_SCHEMA, 'short fields': SHORT_FIELDS_SCHEMA } as const;

function compileTimes(): { median: number; max: number; count: number } {
  const corpus = JSON.parse(
    readFileSync(new URL('../test/data/json-schema-corpus.json', import.meta.url), 'utf8'),
  ) as { name: string; schema: unknown }[];
  const times = corpus.map(({ schema }) => {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      compileGrammar(jsonSchemaGrammar(schema));
      best = Math.min(best, performance.now() - start);
    }
    return best;
  });
  return { median: median(times), max: Math.max(...times), count: times.length };
}

async function tpot(
  baseUrl: string,
  model: string,
  extraBody: Readonly<Record<string, unknown>>,
  seed: number,
) {
  const outcome = await runBenchmark({
    target: {
      baseUrl,
      endpoint: '/v1/completions',
      model,
      apiKey: null,
      temperature: 1,
      ignoreEos: true,
      extraBody,
    },
    requests: letterRequests(burst, 0, 32, seed),
    requestRate: Infinity,
    burstiness: 1,
    seed: 0,
    maxConcurrency: 1,
    numWarmups: 0,
    maxDurationS: null,
    percentiles: [50],
  });
  const metrics = outcome.metrics;
  if (metrics.failed > 0)
    throw new Error(`${metrics.failed} requests failed: ${[...metrics.errors.keys()].join('; ')}`);
  return metrics.tpot.median;
}

/**
 * In this process, on the 130M model's vocabulary: building the vocabulary trie; a mask the first
 * time its configuration is met (median over the new configurations of a walk through a member of
 * the person schema); the same masks again, from the cache.
 */
async function maskTimes(): Promise<{
  vocabularyMs: number;
  firstMs: number;
  firstMaxMs: number;
  cachedMs: number;
}> {
  const { backend } = await loadBenchBackend({ sequences: 1, cellsPerSequence: 256, threads: '1' });
  try {
    const matchers = new GrammarMatchers(backend.info, backend.tokenizer);
    let start = performance.now();
    void matchers.vocabulary;
    const vocabularyMs = performance.now() - start;
    const text =
      '{"name": "Ada", "age": 36, "skills": ["math", "code", "chess"], "grade": "A", ' +
      '"email": "ada@example.com", "work_history": [{"company": "X", "position": "Y"}]}';
    const tokens = backend.tokenizer.tokenize(text, { addSpecial: false, parseSpecial: false });
    const grammar = compileGrammar(jsonSchemaGrammar(PERSON_SCHEMA));
    const matcher = matchers.matcher(grammar);
    const walk = (samples: number[], onlyNew: boolean): void => {
      const cursor = matchers.cursor(grammar);
      for (const token of tokens) {
        const known = matcher.cacheSizes.masks;
        start = performance.now();
        cursor.mask();
        const ms = performance.now() - start;
        if (!onlyNew || matcher.cacheSizes.masks > known) samples.push(ms);
        cursor.advance(token);
      }
    };
    const first: number[] = [];
    const cached: number[] = [];
    walk(first, true);
    walk(cached, false);
    return {
      vocabularyMs,
      firstMs: median(first),
      firstMaxMs: Math.max(...first),
      cachedMs: median(cached),
    };
  } finally {
    await backend.dispose();
  }
}

const compile = compileTimes();
const masks = await maskTimes();
console.log(
  `masks: vocabulary ${masks.vocabularyMs.toFixed(1)} ms, new ${masks.firstMs.toFixed(2)} ms (max ${masks.firstMaxMs.toFixed(2)}), cached ${masks.cachedMs.toFixed(4)} ms`,
);
console.log(
  `compile: median ${compile.median.toFixed(2)} ms, max ${compile.max.toFixed(2)} ms over ${compile.count} schemas`,
);
const modelPath = await ensureModel({ preset: 'random-130m-f16' });
const server = await startServerProcess('servellm', {
  modelPath,
  port: Number(values.port),
  threads: Number(values.threads),
  parallel: 16,
  contextPerSequence: 256,
});
const rows: string[] = [];
try {
  const model = (await servedModelName(server.baseUrl)) ?? 'model';
  const bodies = Object.entries(SCHEMAS).map(([name, schema]) => ({
    name,
    body: { structured_outputs: { json: schema } },
  }));
  for (const { body } of bodies) await tpot(server.baseUrl, model, body, 999);
  const ratios = new Map<string, number[]>(bodies.map(({ name }) => [name, []]));
  const free: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order =
      round % 2 === 0
        ? ['free', ...bodies.map((b) => b.name)]
        : [...bodies.map((b) => b.name), 'free'];
    const tpots = new Map<string, number>();
    for (const name of order) {
      const body = bodies.find((b) => b.name === name)?.body ?? {};
      tpots.set(name, await tpot(server.baseUrl, model, body, 1000 + round));
    }
    free.push(tpots.get('free')!);
    for (const { name } of bodies) ratios.get(name)!.push(tpots.get(name)! / tpots.get('free')!);
    console.log(
      `round ${round}: ${[...tpots].map(([n, t]) => `${n} ${t.toFixed(2)} ms`).join(', ')}`,
    );
  }
  rows.push(`| unconstrained | ${median(free).toFixed(2)} ms | 1 |`);
  for (const { name } of bodies) {
    const list = ratios.get(name)!;
    rows.push(
      `| JSON schema: ${name} | ${(median(free) * median(list)).toFixed(2)} ms | **${median(list).toFixed(3)}** |`,
    );
  }
} finally {
  await server.stop();
}
const body = [
  `\`npx tsx bench/structured-output.ts --rounds ${rounds} --burst ${burst} --threads ${values.threads}\`, ${new Date().toISOString()}: random-130m-f16 (32,000 tokens), one servellm process, streaming completions one at a time; 32-token prompts, 64 output tokens, temperature 1, ignore_eos. Per round ${burst} requests per row, the order alternating; the constrained rows are warmed once before the rounds (vocabulary and first masks built then).`,
  '',
  '| stream | TPOT p50 | ratio to unconstrained (median of rounds) |',
  '|---|---:|---:|',
  ...rows,
  '',
  `Compiling a JSON schema (front end and byte automaton), over the ${compile.count} schemas of test/data/json-schema-corpus.json, best of 5 each: median ${compile.median.toFixed(2)} ms, max ${compile.max.toFixed(2)} ms.`,
  '',
  `Token masks on the 32,000-token vocabulary (in this process): building the vocabulary trie ${masks.vocabularyMs.toFixed(1)} ms, once per model; a mask for a configuration met the first time ${masks.firstMs.toFixed(2)} ms median, ${masks.firstMaxMs.toFixed(2)} ms at most (over the new configurations of a walk through a member of the person schema; the most expensive are inside strings, where almost every token is allowed); the same masks from the cache ${(masks.cachedMs * 1000).toFixed(1)} µs.`,
].join('\n');
console.log(body);
writeResultsSection('Structured outputs', body);
