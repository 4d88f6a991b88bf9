/**
 * Helpers shared by the benchmarks: medians, the results file, and the llama.cpp peer tools.
 *
 * Owns: bench/RESULTS.md's layout (one "## <name>" section per benchmark, replaced in place) and
 * how a peer binary built under bench/peer is found and its output parsed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** The llama-batched-bench binary built by bench/peer, or null. */
export function batchedBenchPath(): string | null {
  const path = join(benchDir, 'peer', 'build', 'bin', 'llama-batched-bench');
  return existsSync(path) ? path : null;
}

/**
 * Run llama-batched-bench (prompt `promptLength`, `steps` generated tokens, each parallel count)
 * and return its text-generation rate (S_TG t/s) per parallel count, or null if it is not built.
 */
export function runBatchedBench(
  modelPath: string,
  parallel: readonly number[],
  promptLength: number,
  steps: number,
  threads: number,
  unifiedKv: boolean,
): Map<number, number> | null {
  const binary = batchedBenchPath();
  if (binary === null) return null;
  const maxParallel = Math.max(...parallel);
  const run = spawnSync(
    binary,
    [
      '-m',
      modelPath,
      '-c',
      String(maxParallel * (promptLength + steps + 8)),
      '-b',
      '512',
      '-ub',
      '512',
      '-npp',
      String(promptLength),
      '-ntg',
      String(steps),
      '-npl',
      parallel.join(','),
      '-t',
      String(threads),
      '-tb',
      String(threads),
      unifiedKv ? '-kvu' : '-no-kvu',
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (run.status !== 0) throw new Error(`llama-batched-bench failed: ${run.stderr}`);
  const rates = new Map<number, number>();
  // Table rows: |  PP |  TG |  B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
  for (const line of run.stdout.split('\n')) {
    const cells = line
      .split('|')
      .map((c) => c.trim())
      .filter((c) => c.length > 0);
    if (cells.length >= 8 && /^\d+$/.test(cells[2]!)) rates.set(Number(cells[2]), Number(cells[7]));
  }
  return rates;
}
