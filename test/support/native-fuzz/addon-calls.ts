/**
 * Arbitraries of addon calls: each a printable description (which function, which arguments)
 * that `addon-executor.ts` runs against the fuzz fixture.
 *
 * Owns: the mix of calls (decodes and sampling specs, standalone sampling, KV operations, the
 * tokenizer, context and model creation, calls on disposed objects and on a context busy with a
 * decode, init and the logger) and their arguments: mostly valid ones with one or more parts
 * broken (wrong types and lengths, out-of-range ids and positions, NaN and infinities, hostile
 * objects), so the calls reach every check in `native/src/`.
 */
import fc from 'fast-check';
import {
  arrayValues,
  Hostile,
  junkArgument,
  junkNumber,
  junkScalar,
  typedArray,
} from './hostile-values.ts';

/** The fixture's shape, as far as the arbitraries need it. */
export interface AddonFuzzShape {
  readonly vocab: number;
  /** Sequences and batch tokens of the fixture's context. */
  readonly maxSequences: number;
  readonly batchSize: number;
  /** Bytes of the model file (for truncated and corrupted copies). */
  readonly modelBytes: number;
}

/** One call to make. Arguments may hold Hostile markers (built just before the call). */
export type AddonCall =
  | {
      readonly kind: 'decode';
      readonly sync: boolean;
      /** Clear the KV first, so a valid batch starting at position 0 decodes. */
      readonly fresh: boolean;
      readonly args: readonly unknown[];
    }
  | { readonly kind: 'sampleLogits'; readonly args: readonly unknown[] }
  | { readonly kind: 'context'; readonly method: string; readonly args: readonly unknown[] }
  | { readonly kind: 'model'; readonly method: string; readonly args: readonly unknown[] }
  | { readonly kind: 'createContext'; readonly options: unknown }
  | { readonly kind: 'loadModel'; readonly file: ModelFile; readonly options: unknown }
  | {
      readonly kind: 'disposed';
      readonly target: 'model' | 'context';
      readonly method: string;
      readonly args: readonly unknown[];
    }
  | { readonly kind: 'busy'; readonly method: string; readonly args: readonly unknown[] }
  | { readonly kind: 'addon'; readonly method: string; readonly args: readonly unknown[] };

/** The file a loadModel call reads. */
export type ModelFile =
  | { readonly kind: 'valid' | 'missing' | 'directory' | 'empty' | 'garbage' | 'dev-null' }
  | { readonly kind: 'truncated'; readonly length: number }
  | { readonly kind: 'corrupted'; readonly edits: readonly [offset: number, byte: number][] };

/** `value`, or (once in `1 / (odds + 1)`) something wrong in its place. */
function sometimesJunk<T>(value: fc.Arbitrary<T>, odds = 6): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: value, weight: odds }, { arbitrary: junkArgument, weight: 1 });
}

const bool = sometimesJunk(fc.boolean());

/** `value` one time in five, else undefined (a rare defect). */
function rarely<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    { arbitrary: value, weight: 1 },
  );
}

/** The arguments, cut short or with junk ones appended (extras must be ignored or refused). */
function withExtraArguments(args: readonly unknown[]): fc.Arbitrary<readonly unknown[]> {
  return fc.oneof(
    { arbitrary: fc.constant([...args]), weight: 14 },
    { arbitrary: fc.nat(args.length).map((n) => args.slice(0, n)), weight: 1 },
    { arbitrary: fc.array(junkArgument, { maxLength: 2 }).map((x) => [...args, ...x]), weight: 1 },
  );
}

/** `base`, or with up to `maxChanges` fields replaced by junk or deleted, or junk itself. */
function mutateFields(
  base: fc.Arbitrary<Record<string, unknown>>,
  fields: readonly string[],
  maxChanges = 2,
): fc.Arbitrary<unknown> {
  const change = fc.tuple(
    fc.constantFrom(...fields),
    fc.oneof(
      { arbitrary: junkArgument, weight: 4 },
      { arbitrary: fc.constant(undefined), weight: 1 },
    ),
  );
  return fc.oneof(
    { arbitrary: base, weight: 6 },
    {
      arbitrary: fc
        .tuple(base, fc.array(change, { minLength: 1, maxLength: maxChanges }))
        .map(([object, changes]) => {
          const result = { ...object };
          for (const [field, value] of changes) {
            if (value === undefined) delete result[field];
            else result[field] = value;
          }
          return result;
        }),
      weight: 3,
    },
    { arbitrary: junkArgument, weight: 1 },
  );
}

/** A batch: n tokens (sometimes 0 or more than a batch), positions from 0, outputs. */
function batchArbitrary(shape: AddonFuzzShape): fc.Arbitrary<Record<string, unknown>> {
  const length = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 8 }), weight: 8 },
    { arbitrary: fc.constantFrom(0, shape.batchSize, shape.batchSize + 1, 1000), weight: 1 },
  );
  return length.chain((n) =>
    fc.record({
      tokens: fc
        .array(fc.oneof({ arbitrary: fc.nat(shape.vocab - 1), weight: 20 }, junkNumber), {
          minLength: n,
          maxLength: n,
        })
        .map((values) => typedArray('Int32Array', values)),
      positions: fc
        .oneof(
          { arbitrary: fc.constant(Array.from({ length: n }, (_, i) => i)), weight: 8 },
          fc.array(junkNumber, { minLength: n, maxLength: n }),
        )
        .map((values) => typedArray('Int32Array', values)),
      sequenceIds: fc
        .oneof(
          {
            arbitrary: fc.nat(shape.maxSequences - 1).map((s) => Array<number>(n).fill(s)),
            weight: 8,
          },
          fc.array(junkNumber, { minLength: n, maxLength: n }),
        )
        .map((values) => typedArray('Int32Array', values)),
      outputs: fc
        .array(fc.oneof({ arbitrary: fc.constantFrom(0, 1), weight: 8 }, junkNumber), {
          minLength: n,
          maxLength: n,
        })
        .map((values) =>
          typedArray(
            'Uint8Array',
            values.map((v) => (v === 0 ? 0 : v === 1 ? 1 : v)),
          ),
        ),
    }),
  );
}

const SAMPLING_FIELDS = [
  'sample',
  'temperature',
  'topK',
  'topP',
  'minP',
  'seeds',
  'topLogprobs',
  'targetTokens',
  'returnLogits',
  'scoreSampled',
  'allowedMasks',
  'maskIndex',
  'biasOffsets',
  'biasTokens',
  'biasValues',
  'penaltyOffsets',
  'penaltyTokens',
  'penaltyCounts',
  'repetitionPenalties',
  'frequencyPenalties',
  'presencePenalties',
];

/** Edge values of a per-row float (temperature, top-p, min-p, penalties). */
const rowFloat = fc.oneof(
  { arbitrary: fc.constantFrom(0, 0.5, 1), weight: 12 },
  fc.constantFrom(NaN, Infinity, -Infinity, -1, 2, 1e-45, 3.4e38, -0),
);

/** A sampling spec for `rows` output rows: valid, with optional masks, biases and penalties. */
function samplingArbitrary(
  shape: AddonFuzzShape,
  rows: number,
): fc.Arbitrary<Record<string, unknown>> {
  const perRow = <T>(value: fc.Arbitrary<T>) =>
    fc.array(value, { minLength: rows, maxLength: rows });
  const words = Math.ceil(shape.vocab / 32);
  const token = fc.oneof({ arbitrary: fc.nat(shape.vocab - 1), weight: 8 }, junkNumber);
  return fc
    .record({
      sample: perRow(fc.constantFrom(0, 1)).map((v) => typedArray('Uint8Array', v)),
      temperature: perRow(rowFloat).map((v) => typedArray('Float32Array', v)),
      topK: perRow(
        fc.oneof({ arbitrary: fc.integer({ min: 0, max: 10 }), weight: 9 }, junkNumber),
      ).map((v) => typedArray('Int32Array', v)),
      topP: perRow(fc.oneof({ arbitrary: fc.constant(1), weight: 4 }, rowFloat)).map((v) =>
        typedArray('Float32Array', v),
      ),
      minP: perRow(fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, rowFloat)).map((v) =>
        typedArray('Float32Array', v),
      ),
      seeds: perRow(fc.nat()).map((v) => typedArray('BigUint64Array', v)),
      topLogprobs: perRow(
        fc.oneof({ arbitrary: fc.integer({ min: 0, max: 5 }), weight: 6 }, junkNumber),
      ).map((v) => typedArray('Int32Array', v)),
      targetTokens: perRow(fc.oneof({ arbitrary: fc.constant(-1), weight: 3 }, token)).map((v) =>
        typedArray('Int32Array', v),
      ),
      returnLogits: perRow(fc.constantFrom(0, 1)).map((v) => typedArray('Uint8Array', v)),
      masks: fc.option(
        fc.tuple(
          fc
            .tuple(
              fc.integer({ min: 1, max: 2 }),
              fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, fc.constantFrom(-1, 1)),
            )
            .chain(([count, skew]) => {
              const length = Math.max(0, count * words + skew);
              return fc.array(fc.nat(), { minLength: length, maxLength: length });
            }),
          perRow(fc.oneof({ arbitrary: fc.constantFrom(-1, 0, 1), weight: 6 }, junkNumber)),
        ),
        { nil: undefined, freq: 1 },
      ),
      bias: fc.option(csr(rows, token, rowFloat), { nil: undefined, freq: 1 }),
      penalties: fc.option(
        fc.tuple(
          csr(rows, token, fc.oneof(fc.integer({ min: 0, max: 3 }), junkNumber)),
          perRow(rowFloat),
          perRow(rowFloat),
          perRow(rowFloat),
        ),
        { nil: undefined, freq: 1 },
      ),
    })
    .map(({ masks, bias, penalties, ...fields }) => ({
      ...fields,
      ...(masks !== undefined
        ? {
            allowedMasks: typedArray('Uint32Array', masks[0]),
            maskIndex: typedArray('Int32Array', masks[1]),
          }
        : {}),
      ...(bias !== undefined
        ? {
            biasOffsets: typedArray('Int32Array', bias.offsets),
            biasTokens: typedArray('Int32Array', bias.tokens),
            biasValues: typedArray('Float32Array', bias.values),
          }
        : {}),
      ...(penalties !== undefined
        ? {
            penaltyOffsets: typedArray('Int32Array', penalties[0].offsets),
            penaltyTokens: typedArray('Int32Array', penalties[0].tokens),
            penaltyCounts: typedArray('Int32Array', penalties[0].values),
            repetitionPenalties: typedArray('Float32Array', penalties[1]),
            frequencyPenalties: typedArray('Float32Array', penalties[2]),
            presencePenalties: typedArray('Float32Array', penalties[3]),
          }
        : {}),
    }));
}

/** CSR rows (offsets from 0, then per-row tokens and values), sometimes with broken offsets. */
function csr(
  rows: number,
  token: fc.Arbitrary<number>,
  value: fc.Arbitrary<number>,
): fc.Arbitrary<{ offsets: number[]; tokens: number[]; values: number[] }> {
  return fc
    .tuple(
      fc.array(fc.array(fc.tuple(token, value), { maxLength: 4 }), {
        minLength: rows,
        maxLength: rows,
      }),
      rarely(fc.tuple(fc.nat(rows), junkNumber)),
    )
    .map(([perRow, broken]) => {
      const offsets = [0];
      const tokens: number[] = [];
      const values: number[] = [];
      for (const entries of perRow) {
        for (const [t, v] of entries) {
          tokens.push(t);
          values.push(v);
        }
        offsets.push(tokens.length);
      }
      if (broken !== undefined) offsets[broken[0]] = broken[1];
      return { offsets, tokens, values };
    });
}

/** decode / decodeSync: a batch and, most of the time, a sampling spec for its output rows. */
function decodeCall(shape: AddonFuzzShape): fc.Arbitrary<AddonCall> {
  return batchArbitrary(shape).chain((batch) => {
    const outputs = batch['outputs'] as Uint8Array;
    const rows = outputs.filter((v) => v === 1).length;
    const rowsDrawn = fc.oneof(
      { arbitrary: fc.constant(rows), weight: 8 },
      fc.constantFrom(0, rows + 1, Math.max(0, rows - 1)),
    );
    const sampling = rowsDrawn.chain((r) =>
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 1 },
        { arbitrary: mutateFields(samplingArbitrary(shape, r), SAMPLING_FIELDS, 2), weight: 5 },
      ),
    );
    return fc
      .tuple(
        mutateFields(fc.constant(batch), ['tokens', 'positions', 'sequenceIds', 'outputs'], 1),
        sampling,
        fc.boolean(),
        fc.boolean(),
      )
      .chain(([b, s, sync, fresh]) =>
        withExtraArguments(s === undefined ? [b] : [b, s]).map((args): AddonCall => ({
          kind: 'decode',
          sync,
          fresh,
          args,
        })),
      );
  });
}

/** sampleLogits(logits, vocab, spec) with rows of logits, some non-finite. */
function sampleLogitsCall(shape: AddonFuzzShape): fc.Arbitrary<AddonCall> {
  return fc
    .tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.oneof({ arbitrary: fc.constant(shape.vocab), weight: 6 }, junkNumber),
      rarely(fc.tuple(fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity, 3.4e38))),
    )
    .chain(([rows, vocab, poison]) => {
      const logits = new Float32Array(rows * shape.vocab).map((_, i) => Math.sin(i) * 4);
      if (poison !== undefined) logits[poison[0] % logits.length] = poison[1];
      return fc
        .tuple(
          sometimesJunk(fc.constant(logits)),
          mutateFields(samplingArbitrary(shape, rows), SAMPLING_FIELDS, 2),
        )
        .chain(([l, spec]) => withExtraArguments([l, vocab, spec]))
        .map((args): AddonCall => ({ kind: 'sampleLogits', args }));
    });
}

/** A sequence id or position argument: small valid values or junk. */
const intArgument = fc.oneof(
  { arbitrary: fc.integer({ min: -1, max: 6 }), weight: 6 },
  { arbitrary: junkScalar, weight: 2 },
);

/** The context's synchronous methods with 0-4 arguments. */
const contextCall: fc.Arbitrary<AddonCall> = fc
  .tuple(
    fc.constantFrom(
      'kvRemove',
      'kvCopy',
      'kvKeep',
      'kvShift',
      'kvMinPosition',
      'kvMaxPosition',
      'kvClear',
      'pauseThreads',
    ),
    fc.array(intArgument, { maxLength: 4 }),
  )
  .map(([method, args]): AddonCall => ({ kind: 'context', method, args }));

/** Text a tokenizer meets: special-token text, lone surrogates, NULs, long text. */
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', '\ud800', '\udc00a', '\u0000\u0000', '<|endoftext|>', '<s></s>', '\uffff'),
  fc.integer({ min: 1000, max: 300_000 }).map((n) => 'ab\u00e9'.repeat(n)),
);

/** The model's tokenizer and metadata methods. */
function modelCall(shape: AddonFuzzShape): fc.Arbitrary<AddonCall> {
  const tokenList = fc.oneof(
    { arbitrary: arrayValues(20).map((v) => typedArray('Int32Array', v)), weight: 3 },
    {
      arbitrary: fc
        .array(fc.nat(shape.vocab - 1), { maxLength: 20 })
        .map((v) => typedArray('Int32Array', v)),
      weight: 3,
    },
    {
      arbitrary: fc.integer({ min: 1e4, max: 1e6 }).map((n) => new Int32Array(n).fill(97)),
      weight: 1,
    },
    { arbitrary: junkArgument, weight: 2 },
  );
  const tokenId = fc.oneof(fc.nat(shape.vocab - 1), junkScalar);
  return fc.oneof(
    fc
      .tuple(sometimesJunk(text), bool, bool)
      .chain((args) => withExtraArguments(args))
      .map((args): AddonCall => ({ kind: 'model', method: 'tokenize', args })),
    fc
      .tuple(tokenList, bool, bool)
      .chain((args) => withExtraArguments(args))
      .map((args): AddonCall => ({ kind: 'model', method: 'detokenize', args })),
    fc
      .tuple(tokenId)
      .chain((args) => withExtraArguments(args))
      .map((args): AddonCall => ({ kind: 'model', method: 'tokenText', args })),
    fc
      .array(fc.oneof(text, junkScalar), { maxLength: 2 })
      .map((args): AddonCall => ({ kind: 'model', method: 'chatTemplate', args })),
    fc
      .tuple(fc.constantFrom('metadata', 'vocabTable'), fc.array(junkArgument, { maxLength: 2 }))
      .map(([method, args]): AddonCall => ({ kind: 'model', method, args })),
  );
}

/** createContext options: small valid ones with fields broken, some at allocation limits. */
const contextOptions = mutateFields(
  fc.record({
    contextSize: fc.constantFrom(1, 16, 64, 256, 512, 4096),
    batchSize: fc.constantFrom(1, 8, 64, 256),
    microBatchSize: fc.constantFrom(1, 8, 64),
    maxSequences: fc.constantFrom(1, 2, 4, 64, 256, 257),
    unifiedKv: fc.boolean(),
    threads: fc.constantFrom(1, 2),
    flashAttention: fc.constantFrom('auto', 'on', 'off', 'bogus'),
    embeddings: fc.boolean(),
  }),
  [
    'contextSize',
    'batchSize',
    'microBatchSize',
    'maxSequences',
    'unifiedKv',
    'threads',
    'flashAttention',
    'embeddings',
  ],
);

/** The files loadModel is given: the model, missing and odd files, truncated and corrupted copies. */
function modelFile(shape: AddonFuzzShape): fc.Arbitrary<ModelFile> {
  const offset = fc.oneof(
    { arbitrary: fc.nat(64), weight: 2 },
    { arbitrary: fc.nat(8192), weight: 3 },
    { arbitrary: fc.nat(shape.modelBytes - 1), weight: 1 },
  );
  return fc.oneof(
    fc.constantFrom<ModelFile>(
      { kind: 'valid' },
      { kind: 'missing' },
      { kind: 'directory' },
      { kind: 'empty' },
      { kind: 'garbage' },
      { kind: 'dev-null' },
    ),
    fc
      .oneof(fc.nat(64), fc.nat(8192), fc.nat(shape.modelBytes - 1))
      .map((length): ModelFile => ({ kind: 'truncated', length })),
    fc
      .array(fc.tuple(offset, fc.nat(255)), { minLength: 1, maxLength: 4 })
      .map((edits): ModelFile => ({ kind: 'corrupted', edits })),
  );
}

function loadModelCall(shape: AddonFuzzShape): fc.Arbitrary<AddonCall> {
  const options = mutateFields(
    fc.record({
      gpuLayers: fc.constantFrom(0, -1, 99),
      useMmap: fc.boolean(),
      vocabOnly: fc.boolean(),
    }),
    ['gpuLayers', 'useMmap', 'vocabOnly'],
    1,
  );
  return fc
    .tuple(modelFile(shape), options)
    .map(([file, o]): AddonCall => ({ kind: 'loadModel', file, options: o }));
}

/** Any method of a disposed model or context. */
const disposedCall: fc.Arbitrary<AddonCall> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        'kvRemove',
        'kvClear',
        'kvMaxPosition',
        'pauseThreads',
        'dispose',
        'decodePacked',
        'decodeSyncPacked',
      ),
      fc.array(intArgument, { maxLength: 3 }),
    )
    .map(([method, args]): AddonCall => ({ kind: 'disposed', target: 'context', method, args })),
  fc
    .tuple(
      fc.constantFrom(
        'tokenize',
        'detokenize',
        'tokenText',
        'metadata',
        'vocabTable',
        'chatTemplate',
        'createContext',
        'dispose',
      ),
      fc.array(fc.oneof(intArgument, text, fc.boolean()), { maxLength: 3 }),
    )
    .map(([method, args]): AddonCall => ({ kind: 'disposed', target: 'model', method, args })),
);

/** A method called while a decode is in flight on the context. */
const busyCall: fc.Arbitrary<AddonCall> = fc
  .tuple(
    fc.constantFrom(
      'kvClear',
      'kvRemove',
      'kvCopy',
      'kvMaxPosition',
      'pauseThreads',
      'dispose',
      'decodeSyncPacked',
      'decodePacked',
      'tokenize',
    ),
    fc.array(intArgument, { maxLength: 3 }),
  )
  .map(([method, args]): AddonCall => ({ kind: 'busy', method, args }));

/** init, setLogger (levels and callbacks, no throwing callback) and physicalCores. */
const addonCall: fc.Arbitrary<AddonCall> = fc.oneof(
  fc
    .array(fc.oneof(junkArgument, fc.constantFrom('/tmp', '', '/nonexistent')), { maxLength: 2 })
    .map((args): AddonCall => ({ kind: 'addon', method: 'init', args })),
  fc
    .tuple(
      sometimesJunk(fc.integer({ min: 0, max: 4 }), 2),
      fc.oneof(
        fc.constant(null),
        fc.constant(undefined),
        fc.constant(new Hostile('function')),
        junkScalar,
      ),
    )
    .map((args): AddonCall => ({ kind: 'addon', method: 'setLogger', args })),
  fc
    .array(junkArgument, { maxLength: 2 })
    .map((args): AddonCall => ({ kind: 'addon', method: 'physicalCores', args })),
);

/** loadModel only: truncated and corrupted copies of the model most of the time. */
export function modelFileCalls(shape: AddonFuzzShape): fc.Arbitrary<AddonCall> {
  return loadModelCall(shape).filter(
    (call) => call.kind === 'loadModel' && call.file.kind !== 'valid',
  );
}

/** Every kind of call, weighted towards decodes (the largest argument surface). */
export function addonCalls(shape: AddonFuzzShape): fc.Arbitrary<AddonCall> {
  return fc.oneof(
    { arbitrary: decodeCall(shape), weight: 40 },
    { arbitrary: sampleLogitsCall(shape), weight: 15 },
    { arbitrary: contextCall, weight: 10 },
    { arbitrary: modelCall(shape), weight: 12 },
    {
      arbitrary: contextOptions.map((options): AddonCall => ({ kind: 'createContext', options })),
      weight: 5,
    },
    { arbitrary: loadModelCall(shape), weight: 6 },
    { arbitrary: disposedCall, weight: 4 },
    { arbitrary: busyCall, weight: 4 },
    { arbitrary: addonCall, weight: 4 },
  );
}
