/**
 * The workload the servellm / llama-server comparisons send (serve-compare.ts,
 * c1-interleaved.ts), so both measure the same thing.
 *
 * Owns: the prompts (letters as token ids, seeded, 64 output tokens), the request settings
 * (/v1/completions, greedy, ignore_eos, tokens 128-255 banned: bytes that are not UTF-8 alone,
 * on which llama-server aborts a stream), the served name lookup, and one run at a concurrency.
 */
import { randomDataset, type BenchRequest } from '../src/benchmark/dataset.ts';
import type { BenchmarkMetrics } from '../src/benchmark/metrics.ts';
import { runBenchmark } from '../src/benchmark/run-benchmark.ts';

/** Output tokens of every request. */
export const OUTPUT_LEN = 64;

/** logit_bias banning the byte tokens 128..255 (not valid UTF-8 alone). */
const BAN_NON_ASCII_BYTES: Record<string, number> = Object.fromEntries(
  Array.from({ length: 128 }, (_, i) => [String(128 + i), -100]),
);

/** `count` prompts of `prefixLen` shared then `inputLen` distinct letter tokens, seeded. */
export function letterRequests(
  count: number,
  prefixLen: number,
  inputLen: number,
  seed: number,
): BenchRequest[] {
  return randomDataset({
    numPrompts: count,
    inputLen,
    outputLen: OUTPUT_LEN,
    rangeRatio: 0,
    prefixLen,
    seed,
    promptKind: 'tokens',
    tokenIdRange: [97, 122],
  });
}

/**
 * The served model's name. Tried up to three times: llama-server closes idle keep-alive
 * connections, and a request that lands on one fails with "other side closed".
 */
export async function servedModelName(baseUrl: string): Promise<string | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`${baseUrl}/v1/models`);
      const body = (await response.json()) as { data?: { id: string }[] };
      return body.data?.[0]?.id ?? null;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** Sends `requests` to `model` at `baseUrl`, at most `concurrency` at once, all at once. */
export async function runWorkload(
  baseUrl: string,
  model: string,
  requests: BenchRequest[],
  concurrency: number,
): Promise<BenchmarkMetrics> {
  const result = await runBenchmark({
    target: {
      baseUrl,
      endpoint: '/v1/completions',
      model,
      apiKey: null,
      temperature: 0,
      ignoreEos: true,
      extraBody: { logit_bias: BAN_NON_ASCII_BYTES },
    },
    requests,
    requestRate: Infinity,
    burstiness: 1,
    seed: 0,
    maxConcurrency: concurrency,
    numWarmups: 0,
    maxDurationS: null,
    percentiles: [50, 99],
  });
  return result.metrics;
}
