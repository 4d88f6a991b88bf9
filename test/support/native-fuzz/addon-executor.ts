/**
 * Runs fuzzed addon calls against one fixture: the addon, the random-tiny model, a small context
 * that every call may use, and a model and context disposed at the start.
 *
 * Owns: the fixture, building each call's arguments (`materialize`), making the call, and the
 * per-call property: it returns (or resolves), or throws (or rejects) an `Error`; anything else
 * (a thrown non-Error, a promise that never settles) fails. The process surviving is checked
 * by the parent (see run-addon-fuzz.ts). After each call the context must still decode.
 * Objects a call creates (contexts, models, model files) are disposed or removed after it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libraryDirectory, loadAddon } from '../../../src/backend/llama/load-addon.ts';
import type {
  NativeAddon,
  NativeBatch,
  NativeContext,
  NativeContextOptions,
  NativeModel,
  NativeSamplingSpec,
} from '../../../src/backend/llama/native-addon.ts';
import { ensureModel } from '../../../src/gguf/model-cache.ts';
import { TEST_KERNEL_VARIANT } from '../models.ts';
import type { AddonCall, AddonFuzzShape, ModelFile } from './addon-calls.ts';
import { materialize } from './hostile-values.ts';

/** The fixture's context: 4 sequences of 128 cells, batches of 64 tokens, one thread. */
const CONTEXT: NativeContextOptions = {
  contextSize: 512,
  batchSize: 64,
  microBatchSize: 64,
  maxSequences: 4,
  unifiedKv: false,
  threads: 1,
  flashAttention: 'auto',
  embeddings: false,
};

/** How a call ended. */
export type Outcome = 'returned' | `threw ${string}`;

/** What the calls run against. */
export interface AddonFixture {
  readonly shape: AddonFuzzShape;
  readonly addon: NativeAddon;
  readonly libraries: string;
  readonly model: NativeModel;
  readonly context: NativeContext;
  readonly disposedModel: NativeModel;
  readonly disposedContext: NativeContext;
  readonly modelPath: string;
  /** A scratch folder for model files (removed by `close`). */
  readonly scratch: string;
  close(): void;
}

/** Loads the addon and the model, creates the contexts, disposes the spare ones. */
export async function createFixture(): Promise<AddonFixture> {
  const { addon } = loadAddon(TEST_KERNEL_VARIANT);
  const modelPath = await ensureModel({ preset: 'random-tiny-f32' });
  const options = { gpuLayers: 0, useMmap: true, vocabOnly: false };
  const model = await addon.loadModel(modelPath, options);
  const context = await model.createContext(CONTEXT);
  const disposedModel = await addon.loadModel(modelPath, options);
  const disposedContext = await model.createContext({ ...CONTEXT, maxSequences: 1 });
  disposedContext.dispose();
  disposedModel.dispose();
  const scratch = join(tmpdir(), `servellm-addon-fuzz-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  return {
    shape: {
      vocab: model.info.vocabSize,
      maxSequences: CONTEXT.maxSequences,
      batchSize: CONTEXT.batchSize,
      modelBytes: readFileSync(modelPath).length,
    },
    addon,
    libraries: libraryDirectory(TEST_KERNEL_VARIANT)!,
    model,
    context,
    disposedModel,
    disposedContext,
    modelPath,
    scratch,
    close() {
      context.dispose();
      model.dispose();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Longest wait for a promise-returning call. */
const SETTLE_MS = 30_000;

/** The outcome of `run`: returned, or threw an Error (anything else thrown fails). */
async function outcomeOf(what: string, run: () => unknown): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = run();
    if (result instanceof Promise) {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: never settled`)), SETTLE_MS);
      });
      const value: unknown = await Promise.race([result, timeout]);
      await disposeCreated(value);
    }
    return 'returned';
  } catch (error) {
    if (error instanceof Error && error.message.endsWith('never settled')) throw error;
    assert.ok(error instanceof Error, `${what} threw a non-Error: ${String(error)}`);
    return `threw ${error.name}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Disposes a context or model a call created (contexts before their model). */
async function disposeCreated(value: unknown): Promise<void> {
  if (typeof value !== 'object' || value === null || !('dispose' in value)) return;
  const created = value as NativeContext | NativeModel;
  if ('createContext' in created) {
    // A model loaded by the call (perhaps from a corrupted file): a context and one decode on
    // it must work or throw an Error too.
    try {
      const context = await created.createContext({ ...CONTEXT, maxSequences: 1 });
      try {
        await context.decode(ONE_TOKEN, GREEDY_ROW);
      } catch (error) {
        assert.ok(error instanceof Error, `a decode threw a non-Error: ${String(error)}`);
      } finally {
        context.dispose();
      }
    } catch (error) {
      // vocabOnly models and some corrupted files refuse a context.
      assert.ok(error instanceof Error, `createContext threw a non-Error: ${String(error)}`);
    }
  }
  created.dispose();
}

/** Writes the file a loadModel call reads; returns its path. */
function modelFilePath(file: ModelFile, fixture: AddonFixture): string {
  const path = join(fixture.scratch, `model-${file.kind}.gguf`);
  switch (file.kind) {
    case 'valid':
      return fixture.modelPath;
    case 'missing':
      return join(fixture.scratch, 'missing.gguf');
    case 'directory':
      return fixture.scratch;
    case 'dev-null':
      return '/dev/null';
    case 'empty':
      writeFileSync(path, '');
      return path;
    case 'garbage':
      writeFileSync(path, 'GGUF this is not a model\n'.repeat(40));
      return path;
    case 'truncated':
      writeFileSync(path, readFileSync(fixture.modelPath).subarray(0, file.length));
      return path;
    case 'corrupted': {
      const bytes = readFileSync(fixture.modelPath);
      for (const [offset, byte] of file.edits) bytes[offset % bytes.length] = byte;
      writeFileSync(path, bytes);
      return path;
    }
  }
}

/** Calls method `name` of `target` with `args`, as JS code would. */
function callMethod(target: object, name: string, args: readonly unknown[]): unknown {
  const method = (target as Record<string, unknown>)[name];
  assert.equal(typeof method, 'function', `no method ${name}`);
  return (method as (...a: unknown[]) => unknown).apply(target, args as unknown[]);
}

/** Token 1 at position 0 of sequence 0, with an output row. */
const ONE_TOKEN: NativeBatch = {
  tokens: Int32Array.of(1),
  positions: Int32Array.of(0),
  sequenceIds: Int32Array.of(0),
  outputs: Uint8Array.of(1),
};

/** One greedy row. */
const GREEDY_ROW: NativeSamplingSpec = {
  sample: Uint8Array.of(1),
  temperature: Float32Array.of(0),
  topK: Int32Array.of(0),
  topP: Float32Array.of(1),
  minP: Float32Array.of(0),
  seeds: new BigUint64Array(1),
  topLogprobs: Int32Array.of(0),
  targetTokens: Int32Array.of(-1),
  returnLogits: Uint8Array.of(0),
};

/** A one-token decode on the fixture's context: the call left it usable. */
async function assertContextAlive(fixture: AddonFixture): Promise<void> {
  const { context } = fixture;
  context.kvClear();
  const result = await context.decode(ONE_TOKEN, GREEDY_ROW);
  assert.ok(result.tokens[0]! >= 0 && result.tokens[0]! < fixture.shape.vocab, 'a drawn token');
  context.kvClear();
}

/** Runs `call`; returns how it ended. Throws when the property is violated. */
export async function executeCall(call: AddonCall, fixture: AddonFixture): Promise<Outcome> {
  const { addon, context, model } = fixture;
  let outcome: Outcome;
  switch (call.kind) {
    case 'decode': {
      if (call.fresh) context.kvClear();
      const args = materialize(call.args) as unknown[];
      const name = call.sync ? 'decodeSync' : 'decode';
      outcome = await outcomeOf(name, () => callMethod(context, name, args));
      break;
    }
    case 'sampleLogits':
      outcome = await outcomeOf('sampleLogits', () =>
        callMethod(addon, 'sampleLogits', materialize(call.args) as unknown[]),
      );
      break;
    case 'context':
    case 'model': {
      const target = call.kind === 'context' ? context : model;
      outcome = await outcomeOf(call.method, () =>
        callMethod(target, call.method, materialize(call.args) as unknown[]),
      );
      break;
    }
    case 'createContext':
      outcome = await outcomeOf('createContext', () =>
        model.createContext(materialize(call.options) as NativeContextOptions),
      );
      break;
    case 'loadModel': {
      const path = modelFilePath(call.file, fixture);
      outcome = await outcomeOf('loadModel', () =>
        addon.loadModel(path, materialize(call.options) as never),
      );
      break;
    }
    case 'disposed': {
      const target = call.target === 'model' ? fixture.disposedModel : fixture.disposedContext;
      outcome = await outcomeOf(call.method, () =>
        callMethod(target, call.method, materialize(call.args) as unknown[]),
      );
      // dispose() is idempotent; everything else on a disposed object must throw.
      if (call.method !== 'dispose')
        assert.notEqual(outcome, 'returned', `${call.method} after dispose`);
      break;
    }
    case 'busy': {
      context.kvClear();
      const inFlight = context.decode({
        tokens: Int32Array.of(1, 2, 3),
        positions: Int32Array.of(0, 1, 2),
        sequenceIds: Int32Array.of(0, 0, 0),
        outputs: Uint8Array.of(0, 0, 1),
      });
      const target = call.method === 'tokenize' ? model : context;
      outcome = await outcomeOf(call.method, () =>
        callMethod(target, call.method, materialize(call.args) as unknown[]),
      );
      await inFlight;
      // Only the model's tokenizer may be used while a context decodes.
      if (target === context) assert.notEqual(outcome, 'returned', `${call.method} while busy`);
      break;
    }
    case 'addon': {
      const args = materialize(call.args) as unknown[];
      outcome = await outcomeOf(call.method, () => callMethod(addon, call.method, args));
      if (call.method === 'setLogger') addon.setLogger(1, null);
      break;
    }
  }
  await assertContextAlive(fixture);
  return outcome;
}

/** The call's kind and method, for the tally. */
export function callName(call: AddonCall): string {
  if ('method' in call) return `${call.kind}.${call.method}`;
  if (call.kind === 'decode') return call.sync ? 'decodeSync' : 'decode';
  if (call.kind === 'loadModel') return `loadModel(${call.file.kind})`;
  return call.kind;
}
