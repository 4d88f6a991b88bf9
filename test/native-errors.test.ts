/**
 * Bad arguments to the addon give JS errors and the process lives: every check below calls the
 * addon directly (bypassing the backend's own validation), then proves the context still works.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAddon, libraryDirectory } from '../src/backend/llama/load-addon.ts';
import type {
  NativeBatch,
  NativeContext,
  NativeContextOptions,
  NativeModel,
  NativeSamplingSpec,
} from '../src/backend/llama/native-addon.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';

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

function batch(
  tokens: number[],
  positions: number[],
  sequenceIds: number[],
  outputs?: number[],
): NativeBatch {
  return {
    tokens: Int32Array.from(tokens),
    positions: Int32Array.from(positions),
    sequenceIds: Int32Array.from(sequenceIds),
    outputs: Uint8Array.from(outputs ?? tokens.map(() => 0)),
  };
}

function sampling(rows: number, fields: Partial<NativeSamplingSpec> = {}): NativeSamplingSpec {
  return {
    sample: new Uint8Array(rows).fill(1),
    temperature: new Float32Array(rows).fill(1),
    topK: new Int32Array(rows),
    topP: new Float32Array(rows).fill(1),
    minP: new Float32Array(rows),
    seeds: new BigUint64Array(rows),
    topLogprobs: new Int32Array(rows),
    targetTokens: new Int32Array(rows).fill(-1),
    returnLogits: new Uint8Array(rows),
    ...fields,
  };
}

describe('addon argument validation', () => {
  const { addon } = loadAddon('cpu');
  let model: NativeModel;
  let context: NativeContext;
  let vocab: number;

  before(async () => {
    model = await addon.loadModel(await ensureModel({ preset: 'successor', weightType: 'f32' }), {
      gpuLayers: 0,
      useMmap: true,
      vocabOnly: false,
    });
    vocab = model.info.vocabSize;
    context = await model.createContext(CONTEXT);
  });
  after(() => {
    context.dispose();
    model.dispose();
  });

  /** The context still decodes and samples after every rejected call. */
  async function assertAlive(): Promise<void> {
    context.kvClear();
    const result = await context.decode(
      batch([97], [0], [0], [1]),
      sampling(1, { temperature: Float32Array.of(0) }),
    );
    assert.equal(result.tokens[0], 98);
    context.kvClear();
  }

  it('rejects bad batches', async () => {
    const cases: [string, NativeBatch][] = [
      ['token out of vocabulary', batch([vocab], [0], [0])],
      ['negative token', batch([-1], [0], [0])],
      ['sequence id too large', batch([1], [0], [4])],
      ['negative sequence id', batch([1], [0], [-1])],
      ['negative position', batch([1], [-1], [0])],
      ['length mismatch', { ...batch([1, 2], [0, 1], [0, 0]), positions: Int32Array.of(0) }],
      ['empty batch', batch([], [], [])],
      [
        'more tokens than the batch size',
        batch(new Array<number>(65).fill(1), [...Array(65).keys()], new Array<number>(65).fill(0)),
      ],
    ];
    for (const [name, bad] of cases) {
      await assert.rejects(async () => context.decode(bad), Error, name);
      assert.throws(() => context.decodeSync(bad), Error, name);
    }
    await assertAlive();
  });

  it('rejects positions that do not continue a sequence', async () => {
    await context.decode(batch([1, 2], [0, 1], [0, 0]));
    await assert.rejects(async () => context.decode(batch([3], [7], [0])), Error);
    await assertAlive();
  });

  it('rejects bad sampling specs', async () => {
    const one = batch([97], [0], [0], [1]);
    const cases: [string, NativeSamplingSpec][] = [
      ['rows mismatch', sampling(2)],
      ['top logprobs above vocab', sampling(1, { topLogprobs: Int32Array.of(vocab + 1) })],
      ['negative top logprobs', sampling(1, { topLogprobs: Int32Array.of(-1) })],
      ['target out of vocabulary', sampling(1, { targetTokens: Int32Array.of(vocab) })],
      [
        'mask too short',
        sampling(1, { allowedMasks: new Uint32Array(1), maskIndex: Int32Array.of(0) }),
      ],
      [
        'mask index out of range',
        sampling(1, {
          allowedMasks: new Uint32Array(Math.ceil(vocab / 32)),
          maskIndex: Int32Array.of(1),
        }),
      ],
      [
        'mask allows nothing',
        sampling(1, {
          allowedMasks: new Uint32Array(Math.ceil(vocab / 32)),
          maskIndex: Int32Array.of(0),
        }),
      ],
      ['top-p out of range', sampling(1, { topP: Float32Array.of(0) })],
    ];
    for (const [name, bad] of cases) {
      context.kvClear();
      await assert.rejects(async () => context.decode(one, bad), Error, name);
      assert.equal(context.kvMaxPosition(0), -1, `${name}: nothing was decoded`);
    }
    assert.throws(() => addon.sampleLogits(new Float32Array(vocab - 1), vocab, sampling(1)), Error);
    await assertAlive();
  });

  it('rejects bad KV operations', async () => {
    await context.decode(batch([1, 2, 3], [0, 1, 2], [0, 0, 0]));
    assert.throws(() => context.kvCopy(0, 4, -1, -1), Error);
    assert.throws(() => context.kvCopy(-1, 1, -1, -1), Error);
    assert.throws(() => context.kvCopy(0, 1, 0, 2), /full|whole|partial/i);
    assert.throws(() => context.kvRemove(9, -1, -1), Error);
    assert.throws(() => context.kvKeep(4), Error);
    assert.throws(() => context.kvMaxPosition(4), Error);
    context.kvCopy(0, 1, -1, -1);
    assert.equal(context.kvMaxPosition(1), 2);
    await assertAlive();
  });

  it('rejects a second decode and KV operations while a decode is in flight', async () => {
    const first = context.decode(batch([1], [0], [0]));
    await assert.rejects(async () => context.decode(batch([1], [0], [1])), Error);
    assert.throws(() => context.kvClear(), /busy/);
    assert.throws(() => context.dispose(), /busy|flight/);
    await first;
    await assertAlive();
  });

  it('refuses to dispose a model with live contexts; disposed objects throw', async () => {
    assert.throws(() => model.dispose(), /context/);
    const extra = await model.createContext({ ...CONTEXT, unifiedKv: true });
    extra.dispose();
    extra.dispose();
    await assert.rejects(async () => extra.decode(batch([1], [0], [0])), Error);
    assert.throws(() => extra.kvClear(), Error);
    await assertAlive();
  });

  it('rejects bad model and context options', async () => {
    await assert.rejects(
      addon.loadModel('/nonexistent/model.gguf', { gpuLayers: 0, useMmap: true, vocabOnly: false }),
      Error,
    );
    const garbage = join(tmpdir(), `servellm-garbage-${process.pid}.gguf`);
    writeFileSync(garbage, 'this is not a gguf file at all');
    try {
      await assert.rejects(
        addon.loadModel(garbage, { gpuLayers: 0, useMmap: true, vocabOnly: false }),
        Error,
      );
    } finally {
      rmSync(garbage);
    }
    await assert.rejects(async () => model.createContext({ ...CONTEXT, maxSequences: 0 }), Error);
    await assert.rejects(
      async () => model.createContext({ ...CONTEXT, maxSequences: 100_000 }),
      Error,
    );
    await assert.rejects(
      async () => model.createContext({ ...CONTEXT, microBatchSize: 128 }),
      Error,
    );
    await assert.rejects(async () => model.createContext({ ...CONTEXT, threads: 0 }), Error);
    assert.throws(() => addon.init('/tmp'), Error);
    assert.equal(addon.init(libraryDirectory('cpu')!).llamaVersion.startsWith('0.4.0'), true);
    await assertAlive();
  });

  it('tokenizes and detokenizes, rejecting out-of-range ids', () => {
    assert.deepEqual([...model.tokenize('abc', false, false)], [97, 98, 99]);
    assert.throws(() => model.detokenize(Int32Array.of(vocab), false, false), Error);
    assert.equal(model.detokenize(Int32Array.of(104, 105), false, false), 'hi');
  });

  it('loads one kernel variant per process', () => {
    assert.throws(() => loadAddon('vulkan'), /cpu is already loaded/);
    assert.throws(() => loadAddon('cuda'), /cpu is already loaded/);
    if (!existsSync('/proc/driver/nvidia/version')) assert.equal(loadAddon('auto').variant, 'cpu');
  });
});
