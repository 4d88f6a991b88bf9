/**
 * Long fuzz run of every endpoint (issue 9, "Bad input"): at least 10,000 cases (FUZZ_RUNS) of
 * fuzzed bodies, raw bytes, wrong content types, oversized bodies and junk query strings, most
 * in process (the real engine over the FakeBackend; a fake embedding runner), a share over HTTP
 * against real servers on real models, one at a time and in concurrent groups. Every answer is
 * a correct 200 or a 4xx with vLLM's error body; afterwards each server still answers a normal
 * request and holds no request and no KV cell.
 *
 * Not part of `npm test`: `npm run test:fuzz` (node --import tsx --test on this file). The seed
 * is printed; FUZZ_SEED=<seed> replays a run, FUZZ_RUNS=<n> sizes it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  inProcessEmbeddingTarget,
  inProcessGenerationTarget,
  realEmbeddingTarget,
  realGenerationTarget,
} from '../support/fuzz/fuzz-targets.ts';
import {
  formatReport,
  fuzzRuns,
  fuzzSeed,
  runFuzzPhase,
  type FuzzPhase,
} from '../support/fuzz/run-fuzz.ts';

const seed = fuzzSeed();
const total = fuzzRuns(10_000);
const share = (fraction: number): number => Math.max(1, Math.ceil(total * fraction));

/**
 * Shares of FUZZ_RUNS: 60% in process, 40% over HTTP on real models; the concurrent phase's runs
 * send 1-4 cases each, so a run executes at least FUZZ_RUNS cases.
 */
const PHASES: readonly (FuzzPhase & { readonly name: string })[] = [
  { name: 'in-process generation', target: () => inProcessGenerationTarget(), runs: share(0.5) },
  { name: 'in-process embeddings', target: () => inProcessEmbeddingTarget(), runs: share(0.1) },
  { name: 'real generation server', target: () => realGenerationTarget(), runs: share(0.2) },
  {
    name: 'real generation server (unified KV, preemption), concurrent groups of 1-4',
    target: () => realGenerationTarget(1024 * 1024, true),
    runs: share(0.1),
    concurrent: true,
  },
  { name: 'real embedding server', target: () => realEmbeddingTarget(), runs: share(0.1) },
];

describe(`fuzzing every endpoint (FUZZ_SEED=${seed} FUZZ_RUNS=${total})`, () => {
  let executed = 0;
  PHASES.forEach((phase, index) => {
    it(phase.name, async () => {
      const report = await runFuzzPhase(phase, seed + index);
      executed += report.cases;
      console.log(formatReport(report));
    });
  });
  it(`ran at least ${total} cases`, () => {
    console.log(`fuzz: ${executed} cases, seed ${seed}`);
    assert.ok(executed >= total, `${executed} cases`);
  });
});
