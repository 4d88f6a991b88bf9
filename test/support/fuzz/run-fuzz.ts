/**
 * Runs a fuzz phase: fast-check's property over one target's cases, seeded and reproducible.
 *
 * Owns: the property (send, `checkAnswer`, then `assertSettled`), running cases one at a time
 * or in concurrent groups, the phase's seed (printed; FUZZ_SEED replays a run, FUZZ_RUNS sizes
 * it), the health check after the run, and the phase's report (cases, statuses, case kinds,
 * the slowest cases). A failure throws fast-check's report: the shrunk counterexample, its seed
 * and path.
 */
import fc from 'fast-check';
import { checkAnswer } from './answer-checks.ts';
import { fuzzCases } from './fuzz-cases.ts';
import type { FuzzCase } from './fuzz-case.ts';
import type { FuzzTarget } from './fuzz-targets.ts';

/** One phase of a run. */
export interface FuzzPhase {
  /** Starts the target (and owns it until the phase ends). */
  readonly target: () => FuzzTarget | Promise<FuzzTarget>;
  /** Property runs. */
  readonly runs: number;
  /** Each run sends 1-4 cases at once instead of one. */
  readonly concurrent?: boolean;
}

/** What a phase did. */
export interface FuzzReport {
  readonly target: string;
  readonly seed: number;
  readonly cases: number;
  readonly milliseconds: number;
  readonly statuses: ReadonlyMap<number, number>;
  readonly kinds: ReadonlyMap<string, number>;
  readonly slowest: readonly { readonly ms: number; readonly description: string }[];
}

/** The run's seed: FUZZ_SEED, else a fresh one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env['FUZZ_SEED'];
  if (given === undefined || given === '') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${given}`);
  return seed;
}

/** The run's size: FUZZ_RUNS, else `fallback`. */
export function fuzzRuns(fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const given = env['FUZZ_RUNS'];
  if (given === undefined || given === '') return fallback;
  const runs = Number(given);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new Error(`FUZZ_RUNS must be a positive integer, got ${given}`);
  }
  return runs;
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Runs `phase` with `seed`; throws fast-check's failure report when the property fails. */
export async function runFuzzPhase(phase: FuzzPhase, seed: number): Promise<FuzzReport> {
  const target = await phase.target();
  const statuses = new Map<number, number>();
  const kinds = new Map<string, number>();
  const slowest: { ms: number; description: string }[] = [];
  let cases = 0;
  const started = Date.now();

  const sendOne = async (fuzzCase: FuzzCase): Promise<void> => {
    const before = performance.now();
    const answer = await target.send(fuzzCase);
    const ms = performance.now() - before;
    cases += 1;
    bump(statuses, answer.status);
    bump(kinds, fuzzCase.kind);
    if (slowest.length < 5 || ms > slowest[slowest.length - 1]!.ms) {
      slowest.push({ ms, description: fuzzCase.describe().slice(0, 300) });
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = Math.min(slowest.length, 5);
    }
    checkAnswer(fuzzCase, answer);
  };

  const arbitrary = fuzzCases(target.mix);
  try {
    const groups = fc.array(arbitrary, {
      minLength: 1,
      maxLength: phase.concurrent === true ? 4 : 1,
    });
    const property = fc.asyncProperty(groups, async (group) => {
      await Promise.all(group.map(sendOne));
      await target.assertSettled();
    });
    await fc.assert(property, { seed, numRuns: phase.runs, includeErrorInReport: true });
    await target.assertHealthy();
  } finally {
    await target.close();
  }
  return {
    target: target.name,
    seed,
    cases,
    milliseconds: Date.now() - started,
    statuses,
    kinds,
    slowest,
  };
}

/** A report as a few printable lines. */
export function formatReport(report: FuzzReport): string {
  const statuses = [...report.statuses].sort(([a], [b]) => a - b);
  const kinds = [...report.kinds].sort(([, a], [, b]) => b - a);
  return [
    `${report.target}: ${report.cases} cases in ${(report.milliseconds / 1000).toFixed(1)} s (seed ${report.seed})`,
    `  statuses: ${statuses.map(([status, count]) => `${status} x${count}`).join(', ')}`,
    `  kinds: ${kinds.map(([kind, count]) => `${kind} x${count}`).join(', ')}`,
    ...report.slowest.map((entry) => `  slow: ${entry.ms.toFixed(0)} ms ${entry.description}`),
  ].join('\n');
}
