/**
 * The child process of the addon fuzzer (run by run-addon-fuzz.ts, never imported): calls the
 * addon FUZZ_RUNS times with fast-check's seed FUZZ_SEED (every kind of call, or with
 * FUZZ_CALLS=model-files only loads of damaged model files) and exits 0 when every call
 * returned or threw an Error, 1 with fast-check's report otherwise. An abort or a segfault kills the
 * process: the parent sees the signal, and the last line of FUZZ_TRACE_FILE names the call.
 *
 * Owns: the property run and the trace (each call's description written synchronously before
 * it is made, so it survives a crash).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import fc from 'fast-check';
import { addonCalls, modelFileCalls } from './addon-calls.ts';
import { callName, createFixture, executeCall } from './addon-executor.ts';

const seed = Number(process.env['FUZZ_SEED'] ?? 1);
const runs = Number(process.env['FUZZ_RUNS'] ?? 100);
const traceFile = process.env['FUZZ_TRACE_FILE'];
const modelFilesOnly = process.env['FUZZ_CALLS'] === 'model-files';

const trace = traceFile === undefined ? null : openSync(traceFile, 'w');
const fixture = await createFixture();
const arbitrary = () => (modelFilesOnly ? modelFileCalls : addonCalls)(fixture.shape);
const tally = new Map<string, number>();
let calls = 0;

try {
  await fc.assert(
    fc.asyncProperty(arbitrary(), async (call) => {
      if (trace !== null) writeSync(trace, `${fc.stringify(call).slice(0, 4000)}\n`);
      const outcome = await executeCall(call, fixture);
      calls += 1;
      const key = `${callName(call)}: ${outcome}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }),
    { seed, numRuns: runs, includeErrorInReport: true },
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
fixture.close();
if (trace !== null) closeSync(trace);
const lines = [...tally].sort(([a], [b]) => a.localeCompare(b));
console.log(`addon fuzz: ${calls} calls (seed ${seed})`);
for (const [key, count] of lines) console.log(`  ${key} x${count}`);
