/**
 * A short run of the addon argument fuzzer (test/long/fuzz-addon.long.ts, `npm run test:fuzz`)
 * so `npm test` exercises it: 1,000 calls of every addon function and 100 loads of damaged
 * model files, in a child process that must exit 0 (an abort or a segfault fails the test).
 * A fixed seed (FUZZ_SEED overrides it) keeps CI reproducible.
 */
import { describe, it } from 'node:test';
import { runAddonFuzz } from './support/native-fuzz/run-addon-fuzz.ts';

const seed = Number(process.env['FUZZ_SEED'] ?? 20_260_901);

describe(`addon argument fuzzing, smoke (FUZZ_SEED=${seed})`, () => {
  it('1,000 calls of every function: each returns or throws an Error, the process lives', async () => {
    await runAddonFuzz(seed, 1000);
  });

  it('100 loads of truncated and corrupted model files', async () => {
    await runAddonFuzz(seed + 1, 100, 'model-files');
  });
});
