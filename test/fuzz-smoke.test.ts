/**
 * A few hundred cases of the endpoint fuzzer (test/long/fuzz-endpoints.long.ts, `npm run
 * test:fuzz`) so `npm test` exercises the harness: in process (the real engine over the
 * FakeBackend; the fake embedding runner) and over HTTP against the successor model. Same
 * property: a correct 200 or a 4xx with vLLM's error body, no request or KV cell left behind.
 * A fixed seed (FUZZ_SEED overrides it) keeps CI reproducible.
 */
import { describe, it } from 'node:test';
import {
  inProcessEmbeddingTarget,
  inProcessGenerationTarget,
  realGenerationTarget,
} from './support/fuzz/fuzz-targets.ts';
import { formatReport, runFuzzPhase, type FuzzPhase } from './support/fuzz/run-fuzz.ts';

const seed = Number(process.env['FUZZ_SEED'] ?? 20_260_901);

const PHASES: readonly (FuzzPhase & { readonly name: string })[] = [
  { name: 'in process, generation', target: () => inProcessGenerationTarget(), runs: 400 },
  { name: 'in process, embeddings', target: () => inProcessEmbeddingTarget(), runs: 100 },
  { name: 'real server, generation', target: () => realGenerationTarget(), runs: 150 },
];

describe(`endpoint fuzzing, smoke (FUZZ_SEED=${seed})`, () => {
  PHASES.forEach((phase, index) => {
    it(phase.name, async () => {
      console.log(formatReport(await runFuzzPhase(phase, seed + index)));
    });
  });
});
