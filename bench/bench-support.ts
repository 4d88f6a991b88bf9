/**
 * Helpers shared by the benchmarks: medians and the results file.
 *
 * Owns: bench/RESULTS.md's layout (one "## <name>" section per benchmark, replaced in place).
 */
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
