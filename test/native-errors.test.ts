/**
 * Bad arguments to the addon give JS errors and the process lives: every check below calls the
 * addon directly (bypassing the backend's own validation), then proves the context still works.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { TEST_KERNEL_VARIANT } from './support/models.ts';

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
  const { addon } = loadAddon(TEST_KERNEL_VARIANT);
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
      ['score flags of the wrong length', sampling(1, { scoreSampled: new Uint8Array(2) })],
      [
        'score flags of the wrong type',
        sampling(1, { scoreSampled: new Int32Array(1) as unknown as Uint8Array }),
      ],
    ];
    for (const [name, bad] of cases) {
      context.kvClear();
      await assert.rejects(async () => context.decode(one, bad), Error, name);
      assert.equal(context.kvMaxPosition(0), -1, `${name}: nothing was decoded`);
    }
    assert.throws(() => addon.sampleLogits(new Float32Array(vocab - 1), vocab, sampling(1)), Error);
    await assertAlive();
  });

  it('rejects bad logit-bias arrays naming the field, and applies good ones', async () => {
    const one = batch([97], [0], [0], [1]);
    const bias = (offsets: number[], tokens: number[], values: number[]) => ({
      biasOffsets: Int32Array.from(offsets),
      biasTokens: Int32Array.from(tokens),
      biasValues: Float32Array.from(values),
    });
    const cases: [string, Partial<NativeSamplingSpec>, RegExp][] = [
      ['only tokens', { biasTokens: Int32Array.of(1) }, /biasOffsets.*must be given together/],
      [
        'offsets of the wrong type',
        { ...bias([0, 1], [1], [1]), biasOffsets: Uint32Array.of(0, 1) as unknown as Int32Array },
        /biasOffsets must be a Int32Array/,
      ],
      [
        'values of the wrong type',
        { ...bias([0, 1], [1], [1]), biasValues: Float64Array.of(1) as unknown as Float32Array },
        /biasValues must be a Float32Array/,
      ],
      ['offsets not rows + 1', bias([0], [], []), /biasOffsets must have 2 elements/],
      ['first offset not 0', bias([1, 1], [1], [1]), /biasOffsets\[0\] must be 0, got 1/],
      ['decreasing offsets', bias([0, -1], [], []), /biasOffsets must be non-decreasing/],
      ['last offset short', bias([0, 1], [1, 2], [1, 1]), /biasOffsets\[1\] must equal .*2/],
      ['values length', bias([0, 1], [1], [1, 2]), /biasValues must have 1 elements/],
      ['token out of vocabulary', bias([0, 1], [vocab], [1]), /biasTokens\[0\] must be in/],
      ['negative token', bias([0, 1], [-1], [1]), /biasTokens\[0\] must be in/],
      ['duplicate token', bias([0, 2], [5, 5], [1, 2]), /biasTokens\[1\]: token 5 appears twice/],
      ['NaN value', bias([0, 1], [1], [NaN]), /biasValues\[0\] must be finite, got nan/i],
      ['infinite value', bias([0, 1], [1], [-Infinity]), /biasValues\[0\] must be finite/],
    ];
    for (const [name, fields, message] of cases) {
      context.kvClear();
      const bad = sampling(1, fields);
      await assert.rejects(async () => context.decode(one, bad), message, name);
      assert.equal(context.kvMaxPosition(0), -1, `${name}: nothing was decoded`);
      assert.throws(() => addon.sampleLogits(new Float32Array(vocab), vocab, bad), message, name);
    }
    const wrongType = sampling(1, { biasTokens: Int32Array.of(1) });
    assert.throws(() => addon.sampleLogits(new Float32Array(vocab), vocab, wrongType), TypeError);
    const badRange = sampling(1, bias([0, 1], [vocab], [1]));
    assert.throws(() => addon.sampleLogits(new Float32Array(vocab), vocab, badRange), RangeError);
    // The same token may be biased in different rows.
    const twoRows = sampling(2, bias([0, 1, 2], [5, 5], [1, 2]));
    assert.equal(addon.sampleLogits(new Float32Array(2 * vocab), vocab, twoRows).tokens.length, 2);
    // A biased logit that overflows to +Infinity fails its row (the process lives).
    assert.throws(
      () => addon.sampleLogits(Float32Array.of(3e38, 0), 2, sampling(1, bias([0, 1], [0], [3e38]))),
      /overflows to \+Infinity/,
    );

    // Greedy after 97 is 98 on the successor model; a ban moves it, +100 forces another token.
    context.kvClear();
    const greedyWith = (fields: Partial<NativeSamplingSpec>) =>
      sampling(1, { temperature: Float32Array.of(0), ...fields });
    const banned = await context.decode(one, greedyWith(bias([0, 1], [98], [-100])));
    assert.notEqual(banned.tokens[0], 98);
    context.kvClear();
    const forced = await context.decode(
      one,
      greedyWith({ ...bias([0, 1], [5], [100]), targetTokens: Int32Array.of(5) }),
    );
    assert.equal(forced.tokens[0], 5);
    assert.equal(forced.logprobs[0], forced.targetLogprobs[0], 'the raw logprob of token 5');
    assert.ok(forced.ranks[0]! > 1, 'the raw rank of token 5');
    await assertAlive();
  });

  it('rejects bad penalty arrays naming the field, and applies good ones', async () => {
    const one = batch([97], [0], [0], [1]);
    const penalties = (
      offsets: number[],
      tokens: number[],
      counts: number[],
      repetition = [1],
      frequency = [0],
      presence = [0],
    ): Partial<NativeSamplingSpec> => ({
      penaltyOffsets: Int32Array.from(offsets),
      penaltyTokens: Int32Array.from(tokens),
      penaltyCounts: Int32Array.from(counts),
      repetitionPenalties: Float32Array.from(repetition),
      frequencyPenalties: Float32Array.from(frequency),
      presencePenalties: Float32Array.from(presence),
    });
    const good = penalties([0, 1], [5], [1]);
    const cases: [string, Partial<NativeSamplingSpec>, RegExp][] = [
      [
        'only tokens',
        { penaltyTokens: Int32Array.of(1) },
        /penaltyOffsets, .*presencePenalties must be given together/,
      ],
      [
        'parameters missing',
        { ...good, frequencyPenalties: undefined },
        /must be given together \(or all omitted\)/,
      ],
      [
        'offsets of the wrong type',
        { ...good, penaltyOffsets: Uint32Array.of(0, 1) as unknown as Int32Array },
        /penaltyOffsets must be a Int32Array/,
      ],
      [
        'counts of the wrong type',
        { ...good, penaltyCounts: Float32Array.of(1) as unknown as Int32Array },
        /penaltyCounts must be a Int32Array/,
      ],
      [
        'repetition of the wrong type',
        { ...good, repetitionPenalties: Float64Array.of(1) as unknown as Float32Array },
        /repetitionPenalties must be a Float32Array/,
      ],
      ['offsets not rows + 1', penalties([0], [], []), /penaltyOffsets must have 2 elements/],
      ['first offset not 0', penalties([1, 1], [1], [0]), /penaltyOffsets\[0\] must be 0, got 1/],
      ['decreasing offsets', penalties([0, -1], [], []), /penaltyOffsets must be non-decreasing/],
      [
        'last offset short',
        penalties([0, 1], [1, 2], [0, 0]),
        /penaltyOffsets\[1\] must equal .*penaltyTokens\.length \(2\)/,
      ],
      ['counts length', penalties([0, 1], [1], [0, 1]), /penaltyCounts must have 1 elements/],
      [
        'parameters not one per row',
        penalties([0, 1], [1], [0], [1, 1]),
        /repetitionPenalties must have 1 elements/,
      ],
      ['token out of vocabulary', penalties([0, 1], [vocab], [0]), /penaltyTokens\[0\] must be in/],
      ['negative token', penalties([0, 1], [-1], [0]), /penaltyTokens\[0\] must be in/],
      [
        'duplicate token',
        penalties([0, 3], [5, 6, 5], [0, 0, 1]),
        /penaltyTokens\[2\]: token 5 appears twice in row 0/,
      ],
      ['negative count', penalties([0, 1], [1], [-1]), /penaltyCounts\[0\] must be >= 0, got -1/],
      [
        'zero repetition',
        penalties([0, 1], [1], [0], [0]),
        /repetitionPenalties\[0\] must be finite and > 0, got 0/,
      ],
      [
        'negative repetition',
        penalties([0, 1], [1], [0], [-1]),
        /repetitionPenalties\[0\] must be finite and > 0/,
      ],
      [
        'infinite repetition',
        penalties([0, 1], [1], [0], [Infinity]),
        /repetitionPenalties\[0\] must be finite/,
      ],
      [
        'NaN frequency',
        penalties([0, 1], [1], [0], [1], [NaN]),
        /frequencyPenalties\[0\] must be finite, got nan/i,
      ],
      [
        'infinite presence',
        penalties([0, 1], [1], [0], [1], [0], [-Infinity]),
        /presencePenalties\[0\] must be finite/,
      ],
    ];
    for (const [name, fields, message] of cases) {
      context.kvClear();
      const bad = sampling(1, fields);
      await assert.rejects(async () => context.decode(one, bad), message, name);
      assert.throws(() => context.decodeSync(one, bad), message, name);
      assert.equal(context.kvMaxPosition(0), -1, `${name}: nothing was decoded`);
      assert.throws(() => addon.sampleLogits(new Float32Array(vocab), vocab, bad), message, name);
    }
    const wrongType = sampling(1, { penaltyTokens: Int32Array.of(1) });
    assert.throws(() => addon.sampleLogits(new Float32Array(vocab), vocab, wrongType), TypeError);
    const badRange = sampling(1, penalties([0, 1], [1], [-1]));
    assert.throws(() => addon.sampleLogits(new Float32Array(vocab), vocab, badRange), RangeError);
    // The same token may be penalized in different rows; rows without penalties are neutral.
    const twoRows = sampling(2, penalties([0, 1, 2], [5, 5], [0, 1], [2, 1], [0, 1], [0, 1]));
    assert.equal(addon.sampleLogits(new Float32Array(2 * vocab), vocab, twoRows).tokens.length, 2);
    // A penalized logit that overflows to +Infinity fails its row (the process lives).
    assert.throws(
      () =>
        addon.sampleLogits(
          Float32Array.of(1e30, 0),
          2,
          sampling(1, penalties([0, 1], [0], [0], [1e-10])),
        ),
      /logits\[0\] with its penalties is \+Infinity/,
    );

    // Greedy after 97 is 98 on the successor model; a presence penalty on 98 moves it, and the
    // reported logprob and rank stay those of the raw logits.
    context.kvClear();
    const penalized = await context.decode(
      one,
      sampling(1, {
        temperature: Float32Array.of(0),
        targetTokens: Int32Array.of(98),
        ...penalties([0, 2], [98, 3], [1, 0], [1], [0], [100]),
      }),
    );
    assert.notEqual(penalized.tokens[0], 98);
    assert.equal(penalized.targetRanks[0], 1, 'the raw rank of token 98');
    assert.ok(penalized.ranks[0]! > 1, 'the raw rank of the drawn token');
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
    assert.throws(() => context.pauseThreads(), /busy/);
    assert.throws(() => context.dispose(), /busy|flight/);
    await first;
    context.pauseThreads();
    await assertAlive();
  });

  it('refuses to dispose a model with live contexts; disposed objects throw', async () => {
    assert.throws(() => model.dispose(), /context/);
    const extra = await model.createContext({ ...CONTEXT, unifiedKv: true });
    extra.dispose();
    extra.dispose();
    await assert.rejects(async () => extra.decode(batch([1], [0], [0])), Error);
    assert.throws(() => extra.kvClear(), Error);
    assert.throws(() => extra.pauseThreads(), /disposed/);
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
    // Two tokens with one text: llama.cpp asserted while loading the vocabulary and aborted the
    // process (found by the addon fuzzer with a corrupted copy of a model).
    const modelPath = await ensureModel({ preset: 'successor', weightType: 'f32' });
    const bytes = readFileSync(modelPath);
    const length1 = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
    const tokensAB = Buffer.concat([length1, Buffer.from('a'), length1, Buffer.from('b')]);
    const at = bytes.indexOf(tokensAB);
    assert.ok(at > 0, 'the tokens "a" and "b" are stored one after the other');
    bytes[at + tokensAB.length - 1] = 'a'.charCodeAt(0);
    const duplicated = join(tmpdir(), `servellm-duplicate-token-${process.pid}.gguf`);
    writeFileSync(duplicated, bytes);
    try {
      for (const vocabOnly of [false, true]) {
        await assert.rejects(
          addon.loadModel(duplicated, { gpuLayers: 0, useMmap: true, vocabOnly }),
          /tokenizer\.ggml\.tokens\[\d+\] repeats the text of token \d+ \('a'\)/,
        );
      }
    } finally {
      rmSync(duplicated);
    }
    // Corrupted hyperparameters: llama.cpp asserted on a block count of 0 while loading, and on
    // a negative norm epsilon in the first decode's thread pool; both aborted the process.
    const corrupted: [string, (view: DataView, at: number) => void, RegExp][] = [
      ['llama.block_count', (view, at) => view.setUint32(at, 0, true), /assertion failed/],
      [
        'llama.attention.layer_norm_rms_epsilon',
        (view, at) => view.setFloat32(at, -1, true),
        /layer_norm_rms_epsilon must be a finite number >= 0/,
      ],
    ];
    for (const [key, write, message] of corrupted) {
      const copy = readFileSync(modelPath);
      const keyAt = copy.indexOf(Buffer.from(key));
      assert.ok(keyAt > 0, `${key} is in the file`);
      // The key, then its uint32 type, then the value.
      write(new DataView(copy.buffer, copy.byteOffset), keyAt + key.length + 4);
      const path = join(tmpdir(), `servellm-corrupted-${process.pid}.gguf`);
      writeFileSync(path, copy);
      try {
        await assert.rejects(
          addon.loadModel(path, { gpuLayers: 0, useMmap: true, vocabOnly: false }),
          message,
          key,
        );
      } finally {
        rmSync(path);
      }
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
    // More sequences than output rows in a batch: llama.cpp asserted in output_reserve and
    // aborted the process (found by the addon fuzzer); the batch is min(contextSize, batchSize).
    for (const options of [
      { ...CONTEXT, unifiedKv: true, contextSize: 100, maxSequences: 200, batchSize: 256 },
      { ...CONTEXT, unifiedKv: true, contextSize: 1, maxSequences: 2 },
      { ...CONTEXT, contextSize: 512, maxSequences: 128, batchSize: 64, microBatchSize: 64 },
    ]) {
      await assert.rejects(
        async () => model.createContext(options),
        /maxSequences must not exceed min\(contextSize, batchSize\)/,
      );
    }
    assert.throws(() => addon.init('/tmp'), Error);
    assert.equal(
      addon.init(libraryDirectory(TEST_KERNEL_VARIANT)!).llamaVersion.startsWith('0.4.0'),
      true,
    );
    await assertAlive();
  });

  it('tokenizes and detokenizes, rejecting out-of-range ids', () => {
    assert.deepEqual([...model.tokenize('abc', false, false)], [97, 98, 99]);
    assert.throws(() => model.detokenize(Int32Array.of(vocab), false, false), Error);
    assert.equal(model.detokenize(Int32Array.of(104, 105), false, false), 'hi');
  });

  it('loads one kernel variant per process', () => {
    for (const other of ['cpu', 'cuda', 'vulkan'] as const) {
      if (other === TEST_KERNEL_VARIANT) continue;
      assert.throws(() => loadAddon(other), new RegExp(`${TEST_KERNEL_VARIANT} is already loaded`));
    }
    const autoPicks = existsSync('/proc/driver/nvidia/version') ? 'cuda' : 'cpu';
    if (autoPicks === TEST_KERNEL_VARIANT) assert.equal(loadAddon('auto').variant, autoPicks);
  });
});
