/**
 * Command line front end of the test-model generators. Owns argument parsing only:
 *
 *   npx tsx src/gguf/generate-cli.ts --model successor|random-130m-f16|random-370m-q8_0|random-tiny-f32
 *     [--type f32|f16|q8_0] [--seed N] [--out PATH]
 *
 * Without --out the model goes to the model cache (see model-cache.ts). Prints the path, the
 * size in bytes and the time taken.
 */

import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import type { WeightType } from './llama-model-writer.ts';
import { ensureModel, writeModel, type ModelSpec } from './model-cache.ts';
import { isRandomPresetName } from './random-model.ts';

const USAGE =
  'usage: generate-cli --model successor|random-130m-f16|random-370m-q8_0|random-tiny-f32 ' +
  '[--type f32|f16|q8_0] [--seed N] [--out PATH]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseWeightType(value: string | undefined): WeightType | undefined {
  if (value === undefined) return undefined;
  if (value === 'f32' || value === 'f16' || value === 'q8_0') return value;
  return fail(`--type must be f32, f16 or q8_0, got ${value}`);
}

/** Parses argv into a model spec and an optional output path. */
function parseGenerateArgs(argv: readonly string[]): { spec: ModelSpec; out?: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      type: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const model = values.model ?? fail('--model is required');
  const weightType = parseWeightType(values.type);
  const typePart = weightType === undefined ? {} : { weightType };
  let spec: ModelSpec;
  if (model === 'successor') {
    if (values.seed !== undefined) fail('--seed does not apply to the successor model');
    spec = { preset: 'successor', ...typePart };
  } else if (isRandomPresetName(model)) {
    const seed = values.seed === undefined ? undefined : Number(values.seed);
    if (seed !== undefined && !Number.isSafeInteger(seed)) fail(`--seed must be an integer`);
    spec = { preset: model, ...typePart, ...(seed === undefined ? {} : { seed }) };
  } else {
    return fail(`unknown --model ${model}`);
  }
  return values.out === undefined ? { spec } : { spec, out: values.out };
}

async function main(): Promise<void> {
  const { spec, out } = parseGenerateArgs(process.argv.slice(2));
  const started = performance.now();
  let path: string;
  if (out === undefined) {
    path = await ensureModel(spec);
  } else {
    await writeModel(out, spec);
    path = out;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const { size } = await stat(path);
  process.stdout.write(
    `${path}\n${size} bytes (${(size / 2 ** 20).toFixed(1)} MiB) in ${seconds} s\n`,
  );
}

await main();
