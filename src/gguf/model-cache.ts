/**
 * The on-disk cache of generated test models. Owns `ensureModel`: it maps a model spec to a file
 * in `.cache/models/` at the repository root (or `$SERVELLM_MODEL_CACHE`), named by the preset and
 * a hash of the spec and GENERATOR_VERSION, and writes the file only if it is missing: to a
 * unique temporary name first, then renamed into place, so concurrent processes never see a
 * partial file (the last rename wins; all candidates are byte-identical).
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  RANDOM_PRESETS,
  isRandomPresetName,
  writeRandomModel,
  type RandomModelOptions,
  type RandomPresetName,
} from './random-model.ts';
import {
  SUCCESSOR_DEFAULTS,
  writeSuccessorModel,
  type SuccessorDefaultedOptions,
  type SuccessorModelOptions,
} from './successor-model.ts';

/**
 * Version of the generators. Bump it whenever a change alters the bytes a spec produces, so
 * stale cached files are not reused.
 */
export const GENERATOR_VERSION = 1;

/** A model to generate: the successor model or a random preset, with optional overrides. */
export type ModelSpec =
  | ({ readonly preset: 'successor' } & SuccessorModelOptions)
  | ({ readonly preset: RandomPresetName } & Partial<RandomModelOptions>);

/** The cache folder: `$SERVELLM_MODEL_CACHE` if set, else `<repository root>/.cache/models`. */
export function modelCacheDirectory(): string {
  const fromEnv = process.env['SERVELLM_MODEL_CACHE'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return fileURLToPath(new URL('../../.cache/models', import.meta.url));
}

/** JSON with object keys sorted, so equal specs hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A spec with every default filled in: what actually determines the file's bytes. A successor
 * spec without `sampling` hashes as it did before that option existed (no key is written).
 */
export type ResolvedModelSpec =
  | {
      readonly preset: 'successor';
      readonly options: SuccessorDefaultedOptions & Pick<SuccessorModelOptions, 'sampling'>;
    }
  | { readonly preset: RandomPresetName; readonly options: RandomModelOptions };

/** Fills in the defaults of a spec (so equivalent specs share one cached file). */
export function resolveModelSpec(spec: ModelSpec): ResolvedModelSpec {
  const { preset, ...overrides } = spec;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  if (preset === 'successor') {
    return { preset, options: { ...SUCCESSOR_DEFAULTS, ...defined } };
  }
  if (!isRandomPresetName(preset)) throw new Error(`unknown model preset: ${String(preset)}`);
  return { preset, options: { ...RANDOM_PRESETS[preset], ...defined } };
}

/** The file name a spec is cached under, e.g. `random-130m-f16-1a2b3c4d5e6f.gguf`. */
export function modelFileName(spec: ModelSpec): string {
  const resolved = resolveModelSpec(spec);
  const hash = createHash('sha256')
    .update(`${GENERATOR_VERSION}\n${canonicalJson(resolved)}`)
    .digest('hex')
    .slice(0, 12);
  const label =
    resolved.preset === 'successor'
      ? `successor-${resolved.options.weightType}`
      : resolved.options.weightType === RANDOM_PRESETS[resolved.preset].weightType
        ? resolved.preset
        : `${resolved.preset}-as-${resolved.options.weightType}`;
  return `${label}-${hash}.gguf`;
}

/** Writes the model a spec describes to `path` (no caching). */
export async function writeModel(path: string, spec: ModelSpec): Promise<void> {
  const resolved = resolveModelSpec(spec);
  if (resolved.preset === 'successor') await writeSuccessorModel(path, resolved.options);
  else await writeRandomModel(path, resolved.options);
}

const inFlight = new Map<string, Promise<string>>();

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Returns the path of the model described by `spec`, generating it into the cache first if it is
 * not there. Concurrent calls for the same spec in one process share one generation.
 */
export async function ensureModel(spec: ModelSpec): Promise<string> {
  const directory = modelCacheDirectory();
  const path = join(directory, modelFileName(spec));
  const running = inFlight.get(path);
  if (running !== undefined) return running;
  const job = (async () => {
    if (await exists(path)) return path;
    await mkdir(directory, { recursive: true });
    const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeModel(temporary, spec);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return path;
  })();
  inFlight.set(path, job);
  try {
    return await job;
  } finally {
    inFlight.delete(path);
  }
}
