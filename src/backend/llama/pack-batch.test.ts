import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RowSampling } from '../model-backend.ts';
import type { NativeDecodeResult } from './native-addon.ts';
import { packStep, unpackRows } from './pack-batch.ts';

const sampling: RowSampling = {
  temperature: 0.5,
  topK: 7,
  topP: 0.9,
  minP: 0.1,
  seed: 99n,
  allowedTokens: null,
  logitBias: null,
};

describe('packStep', () => {
  it('flattens chunks in order and lists output rows in batch order', () => {
    const mask = new Uint32Array(2).fill(0xffffffff);
    const packed = packStep(
      {
        chunks: [
          {
            sequenceId: 3,
            startPosition: 10,
            tokens: [5, 6, 7],
            rows: [
              { offset: 0, sampling: null, topLogprobs: 2, targetToken: 6, returnLogits: false },
              { offset: 2, sampling, topLogprobs: 0, targetToken: null, returnLogits: true },
            ],
          },
          {
            sequenceId: 1,
            startPosition: 0,
            tokens: [8],
            rows: [
              {
                offset: 0,
                sampling: { ...sampling, allowedTokens: mask },
                topLogprobs: 1,
                targetToken: null,
                returnLogits: false,
              },
            ],
          },
        ],
      },
      40,
      4,
    );
    assert.deepEqual([...packed.batch.tokens], [5, 6, 7, 8]);
    assert.deepEqual([...packed.batch.positions], [10, 11, 12, 0]);
    assert.deepEqual([...packed.batch.sequenceIds], [3, 3, 3, 1]);
    assert.deepEqual([...packed.batch.outputs], [1, 0, 1, 1]);
    const s = packed.sampling!;
    assert.equal(packed.rowCount, 3);
    assert.deepEqual([...s.sample], [0, 1, 1]);
    assert.deepEqual([...s.topK], [0, 7, 7]);
    assert.deepEqual([...s.topP], [1, Math.fround(0.9), Math.fround(0.9)]);
    assert.deepEqual([...s.seeds], [0n, 99n, 99n]);
    assert.deepEqual([...s.topLogprobs], [2, 0, 1]);
    assert.deepEqual([...s.targetTokens], [6, -1, -1]);
    assert.deepEqual([...s.returnLogits], [0, 1, 0]);
    assert.deepEqual([...s.maskIndex!], [-1, -1, 0]);
    assert.deepEqual([...s.allowedMasks!], [0xffffffff, 0xffffffff]);
    assert.equal(s.biasOffsets, undefined);
    assert.equal(s.biasTokens, undefined);
    assert.equal(s.biasValues, undefined);
  });

  it('packs logit biases as CSR arrays over the output rows', () => {
    const bias = (tokens: number[], values: number[]) => ({
      ...sampling,
      logitBias: { tokens: Int32Array.from(tokens), values: Float32Array.from(values) },
    });
    const row = (offset: number, s: RowSampling | null) => ({
      offset,
      sampling: s,
      topLogprobs: 0,
      targetToken: null,
      returnLogits: false,
    });
    const packed = packStep(
      {
        chunks: [
          {
            sequenceId: 0,
            startPosition: 0,
            tokens: [1, 2, 3],
            rows: [row(0, bias([4, 9], [100, -0.5])), row(1, null), row(2, sampling)],
          },
          { sequenceId: 1, startPosition: 0, tokens: [4], rows: [row(0, bias([39], [-100]))] },
          { sequenceId: 2, startPosition: 0, tokens: [5], rows: [row(0, bias([], []))] },
        ],
      },
      40,
      5,
    );
    const s = packed.sampling!;
    assert.deepEqual([...s.biasOffsets!], [0, 2, 2, 2, 3, 3]);
    assert.deepEqual([...s.biasTokens!], [4, 9, 39]);
    assert.deepEqual([...s.biasValues!], [100, -0.5, -100]);
  });

  it('omits the bias arrays when every bias is empty', () => {
    const empty = {
      ...sampling,
      logitBias: { tokens: new Int32Array(0), values: new Float32Array(0) },
    };
    const packed = packStep(
      {
        chunks: [
          {
            sequenceId: 0,
            startPosition: 0,
            tokens: [1],
            rows: [
              {
                offset: 0,
                sampling: empty,
                topLogprobs: 0,
                targetToken: null,
                returnLogits: false,
              },
            ],
          },
        ],
      },
      40,
      1,
    );
    assert.equal(packed.sampling!.biasOffsets, undefined);
    assert.equal(packed.sampling!.biasTokens, undefined);
    assert.equal(packed.sampling!.biasValues, undefined);
  });

  it('packs penalties as CSR arrays with per-row parameters, neutral for other rows', () => {
    const penalized = (
      tokens: number[],
      outputCounts: number[],
      repetition: number,
      frequency: number,
      presence: number,
    ): RowSampling => ({
      ...sampling,
      penalties: {
        tokens: Int32Array.from(tokens),
        outputCounts: Int32Array.from(outputCounts),
        repetition,
        frequency,
        presence,
      },
    });
    const row = (offset: number, s: RowSampling | null) => ({
      offset,
      sampling: s,
      topLogprobs: 0,
      targetToken: null,
      returnLogits: false,
    });
    const packed = packStep(
      {
        chunks: [
          {
            sequenceId: 0,
            startPosition: 0,
            tokens: [1, 2, 3],
            rows: [
              row(0, penalized([4, 9, 1], [0, 2, 1], 1.1, 0.5, -0.25)),
              row(1, null),
              row(2, { ...sampling, penalties: null }),
            ],
          },
          {
            sequenceId: 1,
            startPosition: 0,
            tokens: [4],
            rows: [row(0, penalized([39], [3], 2, 0, 0))],
          },
          { sequenceId: 2, startPosition: 0, tokens: [5], rows: [row(0, sampling)] },
          {
            sequenceId: 3,
            startPosition: 0,
            tokens: [6],
            rows: [row(0, penalized([], [], 3, 1, 1))],
          },
        ],
      },
      40,
      6,
    );
    const s = packed.sampling!;
    assert.deepEqual([...s.penaltyOffsets!], [0, 3, 3, 3, 4, 4, 4]);
    assert.deepEqual([...s.penaltyTokens!], [4, 9, 1, 39]);
    assert.deepEqual([...s.penaltyCounts!], [0, 2, 1, 3]);
    assert.deepEqual([...s.repetitionPenalties!], [Math.fround(1.1), 1, 1, 2, 1, 1]);
    assert.deepEqual([...s.frequencyPenalties!], [0.5, 0, 0, 0, 0, 0]);
    assert.deepEqual([...s.presencePenalties!], [-0.25, 0, 0, 0, 0, 0]);
    assert.equal(s.biasOffsets, undefined, 'penalties pack no biases');
  });

  it('omits the penalty arrays when no row of the step has a penalized token', () => {
    const rows = [
      { ...sampling },
      { ...sampling, penalties: null },
      {
        ...sampling,
        penalties: {
          tokens: new Int32Array(0),
          outputCounts: new Int32Array(0),
          repetition: 2,
          frequency: 1,
          presence: 1,
        },
      },
    ].map((s) => ({
      offset: 0,
      sampling: s,
      topLogprobs: 0,
      targetToken: null,
      returnLogits: false,
    }));
    const packed = packStep(
      {
        chunks: rows.map((row, i) => ({
          sequenceId: i,
          startPosition: 0,
          tokens: [1],
          rows: [row],
        })),
      },
      40,
      3,
    );
    const s = packed.sampling!;
    for (const key of [
      'penaltyOffsets',
      'penaltyTokens',
      'penaltyCounts',
      'repetitionPenalties',
      'frequencyPenalties',
      'presencePenalties',
    ] as const) {
      assert.equal(s[key], undefined, key);
    }
  });

  it('omits the sampling spec when no row wants output', () => {
    const packed = packStep(
      { chunks: [{ sequenceId: 0, startPosition: 0, tokens: [1, 2], rows: [] }] },
      40,
      2,
    );
    assert.equal(packed.sampling, undefined);
    assert.deepEqual([...packed.batch.outputs], [0, 0]);
  });
});

describe('unpackRows', () => {
  it('splits top arrays, targets and logits per row', () => {
    const result: NativeDecodeResult = {
      tokens: Int32Array.of(4, -1),
      logprobs: Float32Array.of(-0.5, NaN),
      ranks: Int32Array.of(1, 0),
      topCount: 2,
      topTokens: Int32Array.of(4, 2, 9, -1),
      topLogprobs: Float32Array.of(-0.5, -1, -0.25, NaN),
      targetLogprobs: Float32Array.of(NaN, -3),
      targetRanks: Int32Array.of(0, 5),
      logits: Float32Array.of(1, 2, 3),
      embeddings: new Float32Array(0),
      embeddingSequenceIds: new Int32Array(0),
      decodeMs: 1,
      sampleMs: 0.1,
    };
    const rows = unpackRows(result, 3, Uint8Array.of(0, 1));
    assert.equal(rows[0]!.token, 4);
    assert.deepEqual(rows[0]!.top, [
      { token: 4, logprob: -0.5 },
      { token: 2, logprob: -1 },
    ]);
    assert.equal(rows[0]!.target, null);
    assert.equal(rows[0]!.logits, null);
    assert.equal(rows[1]!.token, null);
    assert.deepEqual(rows[1]!.top, [{ token: 9, logprob: -0.25 }]);
    assert.deepEqual(rows[1]!.target, { logprob: -3, rank: 5 });
    assert.deepEqual([...rows[1]!.logits!], [1, 2, 3]);
  });
});
