/**
 * Runs the addon fuzzer in a child process, so that an abort or a segfault in native code is a
 * test failure rather than the end of the test runner.
 *
 * Owns: spawning addon-fuzz-child.ts with its seed, run count and trace file, and turning the
 * child's exit into a verdict: exit code 0 and no signal, else an Error carrying the code or
 * signal, the child's output and the call it was making (the trace's last line).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./addon-fuzz-child.ts', import.meta.url));

/** How the child ended and what it printed. */
export interface AddonFuzzResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Which calls: every kind, or only loads of damaged model files. */
export type AddonFuzzCalls = 'all' | 'model-files';

/** Runs `runs` fuzzed calls with `seed` in a child; rejects unless it exited 0. */
export async function runAddonFuzz(
  seed: number,
  runs: number,
  calls: AddonFuzzCalls = 'all',
): Promise<AddonFuzzResult> {
  const traceFile = join(tmpdir(), `servellm-addon-fuzz-${process.pid}-${seed}.trace`);
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      FUZZ_SEED: String(seed),
      FUZZ_RUNS: String(runs),
      FUZZ_TRACE_FILE: traceFile,
      FUZZ_CALLS: calls,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  const lastCall = existsSync(traceFile)
    ? (readFileSync(traceFile, 'utf8').trimEnd().split('\n').pop() ?? '')
    : '';
  rmSync(traceFile, { force: true });
  const result = { code, signal, output };
  if (code !== 0 || signal !== null) {
    const tail = output.length > 6000 ? `...${output.slice(-6000)}` : output;
    throw new Error(
      `the addon fuzz child (FUZZ_SEED=${seed}) ended with ${signal ?? `exit code ${code}`}\n` +
        `last call: ${lastCall}\n${tail}`,
    );
  }
  return result;
}
