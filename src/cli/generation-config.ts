/**
 * `--generation-config` and `--override-generation-config`: the server's default sampling
 * parameters, resolved once at start-up as vLLM's `ModelConfig.get_diff_sampling_param` and its
 * serving classes' `override_max_tokens` resolve them.
 *
 * Owns: where the defaults come from (`auto`: the model's own, for a GGUF its
 * `general.sampling.*` keys; `vllm`: none; any other value: a folder whose HF
 * `generation_config.json` is read before the model loads, a missing or bad file being a
 * start-up error), the override merged over them (a null value unsets a key), the six keys that
 * count (temperature, top_p, top_k, min_p, repetition_penalty, max_new_tokens; others are
 * ignored, as in vLLM), the max-tokens ceiling, and the start-up lines that report a change.
 * Values are type-checked here; their ranges are checked per request, with vLLM's messages.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerationDefaults } from '../http/params/generation-defaults.ts';

/** The generation-config keys vLLM takes as sampling defaults (HF names), in vLLM's order. */
export const GENERATION_CONFIG_KEYS = [
  'repetition_penalty',
  'temperature',
  'top_k',
  'top_p',
  'min_p',
  'max_new_tokens',
] as const;

export type GenerationConfigKey = (typeof GENERATION_CONFIG_KEYS)[number];

/** The sampling keys of a generation config; a missing key is unset. */
export type GenerationConfigValues = Partial<Record<GenerationConfigKey, number>>;

/** Keys whose values must be integers. */
const INTEGER_KEYS: ReadonlySet<GenerationConfigKey> = new Set(['top_k', 'max_new_tokens']);

/** The GGUF keys llama.cpp records a model's recommended sampling under, and their HF names. */
export const GGUF_SAMPLING_KEYS: Readonly<Record<string, GenerationConfigKey>> = {
  'general.sampling.temp': 'temperature',
  'general.sampling.top_p': 'top_p',
  'general.sampling.top_k': 'top_k',
  'general.sampling.min_p': 'min_p',
  'general.sampling.penalty_repeat': 'repetition_penalty',
};

/** The file a `--generation-config` folder must hold. */
export const GENERATION_CONFIG_FILE = 'generation_config.json';

/** What `--generation-config` names, read as far as it can be before the model loads. */
export type GenerationConfigSource =
  | { readonly kind: 'auto' }
  | { readonly kind: 'vllm' }
  | { readonly kind: 'folder'; readonly file: string; readonly values: GenerationConfigValues };

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * The sampling keys of a parsed generation config (an object), type-checked: each must be a
 * finite number (top_k and max_new_tokens integers) or null (unset). Other keys are ignored.
 * Throws a one-line Error naming `origin`.
 */
export function generationConfigValues(parsed: unknown, origin: string): GenerationConfigValues {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${origin} must be a JSON object, got ${describe(parsed)}`);
  }
  const record = parsed as Readonly<Record<string, unknown>>;
  const values: GenerationConfigValues = {};
  for (const key of GENERATION_CONFIG_KEYS) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    const integer = INTEGER_KEYS.has(key);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`${origin}: ${key} must be a number, got ${describe(value)}`);
    }
    if (integer && !Number.isInteger(value)) {
      throw new Error(`${origin}: ${key} must be an integer, got ${describe(value)}`);
    }
    values[key] = value;
  }
  return values;
}

/**
 * The keys `--override-generation-config` sets, with null kept as "unset this default" (vLLM
 * merges the override with dict.update, so a null there removes the model's value).
 */
export interface GenerationConfigOverride {
  readonly values: GenerationConfigValues;
  /** Keys the override sets to null. */
  readonly unset: readonly GenerationConfigKey[];
}

/** Parses `--override-generation-config`'s JSON; a one-line Error when it is not an object of numbers. */
export function parseGenerationConfigOverride(json: string): GenerationConfigOverride {
  const origin = '--override-generation-config';
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`${origin} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const values = generationConfigValues(parsed, origin);
  const record = parsed as Readonly<Record<string, unknown>>;
  return { values, unset: GENERATION_CONFIG_KEYS.filter((key) => record[key] === null) };
}

/** No override (`{}`, the flag's default). */
export const NO_GENERATION_CONFIG_OVERRIDE: GenerationConfigOverride = { values: {}, unset: [] };

/**
 * Reads `--generation-config`: `auto` and `vllm` as such; anything else is a folder whose
 * `generation_config.json` is read and checked now. A one-line Error when the folder or file is
 * missing or the JSON is bad.
 */
export function readGenerationConfigSource(flag: string): GenerationConfigSource {
  if (flag === 'auto' || flag === 'vllm') return { kind: flag };
  const origin = `--generation-config ${flag}`;
  let isFolder: boolean;
  try {
    isFolder = statSync(flag).isDirectory();
  } catch {
    throw new Error(
      `${origin}: no such folder (give auto, vllm or a folder holding ${GENERATION_CONFIG_FILE})`,
    );
  }
  if (!isFolder) {
    throw new Error(
      `${origin}: not a folder (give auto, vllm or a folder holding ${GENERATION_CONFIG_FILE})`,
    );
  }
  const file = join(flag, GENERATION_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${origin}: ${file} not found`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${origin}: ${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { kind: 'folder', file, values: generationConfigValues(parsed, file) };
}

/**
 * A GGUF model's recommended sampling (`general.sampling.temp`, `.top_p`, `.top_k`, `.min_p`,
 * `.penalty_repeat`), from its metadata as strings, under the HF names. A value that is not a
 * number is a start-up Error naming the key.
 */
export function ggufGenerationConfig(
  metadata: Readonly<Record<string, string>>,
): GenerationConfigValues {
  const values: GenerationConfigValues = {};
  for (const [ggufKey, key] of Object.entries(GGUF_SAMPLING_KEYS)) {
    const text = metadata[ggufKey];
    if (text === undefined) continue;
    const value = text.trim() === '' ? NaN : Number(text);
    const integer = INTEGER_KEYS.has(key);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new Error(
        `GGUF metadata ${ggufKey} must be ${integer ? 'an integer' : 'a number'}, got ${describe(text)}`,
      );
    }
    values[key] = value;
  }
  return values;
}

/** The defaults to serve with, and what start-up should print about them. */
export interface ResolvedGenerationConfig {
  readonly defaults: GenerationDefaults;
  /** The non-default sampling parameters under vLLM's names (max_new_tokens as max_tokens). */
  readonly params: Readonly<Record<string, number>>;
  /** Start-up log lines (none when nothing differs from vLLM's defaults). */
  readonly notices: readonly string[];
}

const TO_VLLM_NAME: Readonly<Record<GenerationConfigKey, string>> = {
  repetition_penalty: 'repetition_penalty',
  temperature: 'temperature',
  top_k: 'top_k',
  top_p: 'top_p',
  min_p: 'min_p',
  max_new_tokens: 'max_tokens',
};

/**
 * vLLM's resolution: the source's values (none for `vllm`; the model's for `auto`, given here
 * as `modelValues`), the override merged over them, max_new_tokens renamed max_tokens. The
 * ceiling on max_tokens is the merged max_new_tokens for a folder source, else the override's
 * own max_new_tokens; a max_new_tokens from the model is only a default.
 */
export function resolveGenerationConfig(
  source: GenerationConfigSource,
  modelValues: GenerationConfigValues,
  override: GenerationConfigOverride = NO_GENERATION_CONFIG_OVERRIDE,
): ResolvedGenerationConfig {
  const base = source.kind === 'vllm' ? {} : source.kind === 'auto' ? modelValues : source.values;
  const merged: GenerationConfigValues = { ...base, ...override.values };
  for (const key of override.unset) delete merged[key];
  const ceiling = source.kind === 'folder' ? merged.max_new_tokens : override.values.max_new_tokens;
  const defaults: GenerationDefaults = {
    ...(merged.temperature !== undefined ? { temperature: merged.temperature } : {}),
    ...(merged.top_p !== undefined ? { topP: merged.top_p } : {}),
    ...(merged.top_k !== undefined ? { topK: merged.top_k } : {}),
    ...(merged.min_p !== undefined ? { minP: merged.min_p } : {}),
    ...(merged.repetition_penalty !== undefined
      ? { repetitionPenalty: merged.repetition_penalty }
      : {}),
    ...(merged.max_new_tokens !== undefined ? { maxTokens: merged.max_new_tokens } : {}),
    ...(ceiling !== undefined ? { maxTokensCeiling: ceiling } : {}),
  };
  const params: Record<string, number> = {};
  for (const key of GENERATION_CONFIG_KEYS) {
    const value = merged[key];
    if (value !== undefined) params[TO_VLLM_NAME[key]] = value;
  }
  return {
    defaults,
    params,
    notices: generationConfigNotices(source, Object.keys(base).length, override, params),
  };
}

/** vLLM's two start-up lines (its warning, then the serving classes' info line), or none. */
function generationConfigNotices(
  source: GenerationConfigSource,
  baseKeys: number,
  override: GenerationConfigOverride,
  params: Readonly<Record<string, number>>,
): string[] {
  if (Object.keys(params).length === 0) return [];
  const from =
    source.kind === 'auto'
      ? "the model's generation config (its GGUF general.sampling.* keys)"
      : source.kind === 'folder'
        ? `the generation config ${source.file}`
        : null;
  const overridden = Object.keys(override.values).length > 0;
  const by = [baseKeys > 0 ? from : null, overridden ? '--override-generation-config' : null]
    .filter((part) => part !== null)
    .join(' and ');
  const label = source.kind === 'auto' ? 'model' : source.kind === 'vllm' ? 'vllm' : source.file;
  const list = Object.entries(params)
    .map(([key, value]) => `'${key}': ${value}`)
    .join(', ');
  return [
    `Default sampling parameters have been overridden by ${by}. If this is not intended, ` +
      'please relaunch servellm with `--generation-config vllm`.',
    `Using default sampling params from ${label}: {${list}}`,
  ];
}
