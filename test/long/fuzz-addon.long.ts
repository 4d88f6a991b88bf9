/**
 * Long fuzz run of the addon's arguments (issue 9, "the native layer never aborts the
 * process"): FUZZ_ADDON_RUNS (default 20,000) calls of every addon function with mostly valid
 * arguments broken in one or more places, then FUZZ_ADDON_FILE_RUNS (default 3,000) loads of
 * truncated and corrupted copies of the random-tiny model, each in a child process whose exit
 * code and signal the test checks. Every bad call must throw an Error; the child must exit 0.
 *
 * Not part of `npm test`: `npm run test:fuzz`. The seed is printed; FUZZ_SEED replays a run.
 */
import { describe, it } from 'node:test';
import { fuzzSeed } from '../support/fuzz/run-fuzz.ts';
import { runAddonFuzz } from '../support/native-fuzz/run-addon-fuzz.ts';

const seed = fuzzSeed();
const runs = Number(process.env['FUZZ_ADDON_RUNS'] ?? 20_000);
const fileRuns = Number(process.env['FUZZ_ADDON_FILE_RUNS'] ?? 3_000);

describe(`fuzzing the addon's arguments in a child process (FUZZ_SEED=${seed})`, () => {
  it(`${runs} calls of every function`, async () => {
    const { output } = await runAddonFuzz(seed, runs);
    console.log(
      output
        .split('\n')
        .filter((line) => !line.startsWith('llama_') && !line.startsWith('gguf_'))
        .join('\n'),
    );
  });

  it(`${fileRuns} loads of damaged model files`, async () => {
    const { output } = await runAddonFuzz(seed + 1, fileRuns, 'model-files');
    console.log(
      output
        .split('\n')
        .filter((line) => line.startsWith('addon fuzz') || line.startsWith('  '))
        .join('\n'),
    );
  });
});
