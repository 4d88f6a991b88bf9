/**
 * Helpers shared by the benchmarks: medians and the results file.
 *
 * Owns: bench/RESULTS.md's layout (one "## <name>" section per benchmark, replaced in place),
 * and how the in-process benchmarks load the random ~130M model.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LlamaBackend } from '../src/backend/llama/llama-backend.ts';
import { loadAddon } from '../src/backend/llama/load-addon.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsPath = join(benchDir, 'RESULTS.md');

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Replace (or append) the section "## name" of bench/RESULTS.md. */
export function writeResultsSection(name: string, body: string): void {
  const header = '# Benchmark results\n\nWritten by the scripts in bench/; see bench/README.md.\n';
  const current = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : header;
  const sections = current.split(/\n(?=## )/);
  const section = `## ${name}\n\n${body.trim()}\n`;
  const index = sections.findIndex((s) => s.startsWith(`## ${name}\n`));
  if (index >= 0) sections[index] = section;
  else sections.push(section);
  writeFileSync(resultsPath, sections.map((s) => s.trimEnd()).join('\n\n') + '\n');
}

/** How `loadBenchBackend` loads the random ~130M F16 model. */
export interface BenchBackendOptions {
  /** KV sequences, each `cellsPerSequence` cells (one stream each unless `unifiedKv`). */
  readonly sequences: number;
  readonly cellsPerSequence: number;
  /** The `--threads` flag's text; absent: the physical cores. */
  readonly threads?: string | undefined;
  readonly unifiedKv?: boolean;
}

/**
 * The random ~130M F16 model on the cpu kernels, its context as `servellm serve` builds one
 * (batch 2048, micro-batch 512), and the thread count it runs with.
 */
export async function loadBenchBackend(
  options: BenchBackendOptions,
): Promise<{ backend: LlamaBackend; threads: number }> {
  const modelPath = await ensureModel({ preset: 'random-130m-f16' });
  const threads =
    options.threads !== undefined
      ? Number(options.threads)
      : loadAddon('cpu').addon.physicalCores();
  const backend = await LlamaBackend.load({
    modelPath,
    variant: 'cpu',
    unifiedKv: options.unifiedKv ?? false,
    maxSequences: options.sequences,
    contextSize: options.cellsPerSequence * options.sequences,
    batchSize: 2048,
    microBatchSize: 512,
    threads,
  });
  return { backend, threads };
}
