/**
 * `n` samples of one prompt: what sharing the prompt's KV saves. On the random ~130M F16 model,
 * in-process (LlamaBackend + LlmEngine, as `servellm serve` builds them: per-sequence KV, 8
 * sequences), per round and in this order:
 *   - single: one request with a 512-token prompt;
 *   - n = 8 shared: 8 samples of one prompt, the 7 siblings copying the first one's prompt KV
 *     (what the API does for `n: 8`);
 *   - n = 8 independent: the same 8 requests without sharing (each computes the prompt).
 * Each measures the time from adding the requests to the first token of every request (TTFT of
 * the last sample) and the prompt tokens the engine evaluated. Fresh prompts every time (random
 * letters), temperature 1, 4 output tokens. Medians over rounds; ratios to `single`.
 *
 * Usage: npx tsx bench/n-samples.ts [--rounds 5] [--prompt 512] [--threads N]
 * Writes the "n samples of one prompt" section of bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import type { EngineRequest } from '../src/engine/engine-types.ts';
import { LlmEngine } from '../src/engine/llm-engine.ts';
import { Xoshiro128 } from '../src/gguf/prng.ts';
import { params } from '../src/engine/engine-test-fixtures.ts';
import { loadBenchBackend, median, writeResultsSection } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    prompt: { type: 'string', default: '512' },
    threads: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const promptLength = Number(values.prompt);
const N = 8;
const MAX_MODEL_LEN = 640;

const { backend, threads } = await loadBenchBackend({
  sequences: N,
  cellsPerSequence: MAX_MODEL_LEN,
  threads: values.threads,
});
const engine = new LlmEngine(backend, {
  maxModelLen: MAX_MODEL_LEN,
  maxNumSeqs: N,
  maxNumBatchedTokens: 2048,
});
const random = new Xoshiro128(2026);
let nextId = 0;

/** A prompt of random lowercase letters (one token each in the byte vocabulary). */
function freshPrompt(): number[] {
  return Array.from({ length: promptLength }, () => 97 + (random.nextUint32() % 26));
}

/** Adds `requests`, waits for all to finish; ms until every one had its first output. */
async function run(requests: EngineRequest[]): Promise<{ ttftMs: number; promptTokens: number }> {
  const before = engine.stats().promptTokens;
  const start = performance.now();
  let firstAll = 0;
  const firsts = requests.map(async (request) => {
    let first: number | null = null;
    const outputs = engine.add(request)[Symbol.asyncIterator]();
    while ((await outputs.next()).done !== true) first ??= performance.now() - start;
    return first!;
  });
  for (const first of await Promise.all(firsts)) firstAll = Math.max(firstAll, first);
  await engine.whenIdle();
  return { ttftMs: firstAll, promptTokens: engine.stats().promptTokens - before };
}

function samples(shared: boolean): EngineRequest[] {
  const prompt = freshPrompt();
  const leader = `n${nextId++}`;
  return Array.from({ length: N }, (_, j) => ({
    id: j === 0 ? leader : `n${nextId++}`,
    promptTokens: prompt,
    params: params({ temperature: 1, seed: BigInt(j), maxTokens: 4 }),
    sharesPromptWith: shared && j > 0 ? leader : undefined,
  }));
}

const results = { single: [] as number[], shared: [] as number[], independent: [] as number[] };
const tokens = { single: 0, shared: 0, independent: 0 };
await run(samples(true)); // warm-up
for (let round = 0; round < rounds; round++) {
  const single = await run(samples(false).slice(0, 1));
  const shared = await run(samples(true));
  const independent = await run(samples(false));
  results.single.push(single.ttftMs);
  results.shared.push(shared.ttftMs);
  results.independent.push(independent.ttftMs);
  tokens.single = single.promptTokens;
  tokens.shared = shared.promptTokens;
  tokens.independent = independent.promptTokens;
  console.log(
    `round ${round + 1}: single ${single.ttftMs.toFixed(0)} ms, n=${N} shared ${shared.ttftMs.toFixed(0)} ms, ` +
      `independent ${independent.ttftMs.toFixed(0)} ms`,
  );
}
await engine.shutdown();
await backend.dispose();

const base = median(results.single);
const row = (name: string, key: keyof typeof results) =>
  `| ${name} | ${tokens[key]} | ${median(results[key]).toFixed(0)} | ${(median(results[key]) / base).toFixed(2)} |`;
const body = [
  `\`npx tsx bench/n-samples.ts --rounds ${rounds} --prompt ${promptLength}\`, ${new Date().toISOString()}, ` +
    `random-130m-f16, ${threads} threads, per-sequence KV, ${N} sequences; medians of ${rounds} rounds.`,
  '',
  '| requests | prompt tokens evaluated | time to every first token, ms | ratio to single |',
  '|---|---:|---:|---:|',
  row(`single (${promptLength}-token prompt)`, 'single'),
  row(`n = ${N}, prompt shared`, 'shared'),
  row(`n = ${N}, independent`, 'independent'),
].join('\n');
console.log(body);
writeResultsSection('n samples of one prompt', body);
