import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeBackend } from './fake-backend.ts';
import { GREEDY_SAMPLING, type OutputRow, type RowSampling } from './model-backend.ts';

const VOCAB = 259;
/** Next token is always the previous token + 1 (mod 256), with margin 5 over the rest. */
function successorLogits(tokens: readonly number[]): Float32Array {
  const logits = new Float32Array(VOCAB);
  logits[(tokens[tokens.length - 1]! + 1) % 256] = 5;
  return logits;
}

const greedy: RowSampling = GREEDY_SAMPLING;
const lastRow = (offset: number, sampling: RowSampling | null = greedy): OutputRow => ({
  offset,
  sampling,
  topLogprobs: 0,
  targetToken: null,
  returnLogits: false,
});

describe('FakeBackend', () => {
  it('decodes scripted logits and samples each row', async () => {
    const backend = new FakeBackend({ logits: successorLogits });
    const result = await backend.decode({
      chunks: [
        { sequenceId: 0, startPosition: 0, tokens: [97, 98], rows: [lastRow(0), lastRow(1)] },
        { sequenceId: 3, startPosition: 0, tokens: [10], rows: [lastRow(0)] },
      ],
    });
    assert.deepEqual(
      result.rows.map((r) => r.token),
      [98, 99, 11],
    );
    assert.equal(backend.kv.usedCells(), 3);
    assert.deepEqual(backend.kv.tokensOf(0), [97, 98]);
  });

  it('has fill-in-the-middle tokens only when its specials name all three', () => {
    assert.equal(new FakeBackend({ logits: successorLogits }).info.fillInTheMiddle, null);
    const specials = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>'];
    assert.deepEqual(new FakeBackend({ logits: successorLogits, specials }).info.fillInTheMiddle, {
      prefix: 257,
      suffix: 259,
      middle: 258,
    });
    const partial = { logits: successorLogits, specials: specials.slice(0, 3) };
    assert.equal(new FakeBackend(partial).info.fillInTheMiddle, null);
  });

  it('requires positions to continue each sequence', async () => {
    const backend = new FakeBackend({ logits: successorLogits });
    await backend.decode({ chunks: [{ sequenceId: 0, startPosition: 0, tokens: [1], rows: [] }] });
    await assert.rejects(
      backend.decode({ chunks: [{ sequenceId: 0, startPosition: 5, tokens: [1], rows: [] }] }),
      /must continue at position 1/,
    );
  });

  it('rejects invalid requests naming the field', async () => {
    const backend = new FakeBackend({ logits: successorLogits });
    const bad = [
      { sequenceId: 16, startPosition: 0, tokens: [1], rows: [] },
      { sequenceId: 0, startPosition: 0, tokens: [VOCAB], rows: [] },
      { sequenceId: 0, startPosition: 0, tokens: [], rows: [] },
      { sequenceId: 0, startPosition: 0, tokens: [1], rows: [lastRow(1)] },
      { sequenceId: 0, startPosition: 0, tokens: [1], rows: [{ ...lastRow(0), topLogprobs: -1 }] },
    ];
    const messages = [/sequenceId/, /tokens\[0\]/, /tokens is empty/, /offset/, /topLogprobs/];
    for (const [i, chunk] of bad.entries()) {
      await assert.rejects(backend.decode({ chunks: [chunk] }), messages[i]!);
    }
    assert.equal(backend.kv.usedCells(), 0);
  });

  it('rejects invalid logit biases naming the field', async () => {
    const backend = new FakeBackend({ logits: successorLogits });
    const withBias = (tokens: number[], values: number[]) => ({
      sequenceId: 0,
      startPosition: 0,
      tokens: [1],
      rows: [
        lastRow(0, {
          ...greedy,
          logitBias: { tokens: Int32Array.from(tokens), values: Float32Array.from(values) },
        }),
      ],
    });
    const cases: [ReturnType<typeof withBias>, RegExp][] = [
      [
        withBias([1, 2], [1]),
        /rows\[0\]\.logitBias\.values must have one entry per token \(2\), got 1/,
      ],
      [withBias([VOCAB], [1]), /rows\[0\]\.logitBias\.tokens\[0\] must be in \[0, 259\), got 259/],
      [withBias([-1], [1]), /logitBias\.tokens\[0\] must be in/],
      [withBias([3, 4, 3], [1, 1, 1]), /logitBias\.tokens\[2\]: token 3 appears twice/],
      [withBias([3], [NaN]), /logitBias\.values\[0\] must be finite, got NaN/],
      [withBias([3], [Infinity]), /logitBias\.values\[0\] must be finite, got Infinity/],
    ];
    for (const [chunk, message] of cases) {
      await assert.rejects(backend.decode({ chunks: [chunk] }), message);
    }
    assert.equal(backend.kv.usedCells(), 0);
    // A valid bias reaches the sampler: -100 on the successor moves greedy off it.
    const result = await backend.decode({ chunks: [withBias([2], [-100])] });
    assert.notEqual(result.rows[0]!.token, 2);
  });

  it('rejects invalid penalties naming the field', async () => {
    const backend = new FakeBackend({ logits: successorLogits });
    const withPenalties = (
      tokens: number[],
      outputCounts: number[],
      repetition = 1.5,
      frequency = 0.5,
      presence = 0.5,
    ) => ({
      sequenceId: 0,
      startPosition: 0,
      tokens: [1],
      rows: [
        lastRow(0, {
          ...greedy,
          penalties: {
            tokens: Int32Array.from(tokens),
            outputCounts: Int32Array.from(outputCounts),
            repetition,
            frequency,
            presence,
          },
        }),
      ],
    });
    const cases: [ReturnType<typeof withPenalties>, RegExp][] = [
      [withPenalties([1, 2], [1]), /rows\[0\]\.penalties\.outputCounts/],
      [withPenalties([VOCAB], [0]), /penalties\.tokens\[0\] must be in \[0, 259\)/],
      [withPenalties([3, 4, 3], [0, 0, 0]), /penalties\.tokens\[2\]: token 3 appears twice/],
      [withPenalties([3], [-1]), /penalties\.outputCounts\[0\]/],
      [withPenalties([3], [0], 0), /penalties\.repetition must be finite and > 0/],
      [withPenalties([3], [0], NaN), /penalties\.repetition must be finite and > 0/],
      [withPenalties([3], [0], 1, Infinity), /penalties\.frequency must be finite/],
      [withPenalties([3], [0], 1, 1e39), /penalties\.frequency must be finite as a float32/],
      [withPenalties([3], [0], 1, 0, NaN), /penalties\.presence must be finite/],
    ];
    for (const [chunk, message] of cases) {
      await assert.rejects(backend.decode({ chunks: [chunk] }), message);
    }
    assert.equal(backend.kv.usedCells(), 0);
    // Valid penalties reach the sampler: frequency 2 x 3 occurrences takes the successor's
    // logit below 0, so greedy moves off it (a repetition penalty only shrinks a positive logit).
    const moved = await backend.decode({ chunks: [withPenalties([2], [3], 100, 2, 0)] });
    assert.notEqual(moved.rows[0]!.token, 2);
  });

  it('rejects a second decode while one is in flight', async () => {
    const backend = new FakeBackend({ logits: successorLogits });
    const chunk = { sequenceId: 0, startPosition: 0, tokens: [1], rows: [] };
    const first = backend.decode({ chunks: [chunk] });
    await assert.rejects(backend.decode({ chunks: [{ ...chunk, sequenceId: 1 }] }), /in flight/);
    await first;
  });

  it('shares cells on copy under unified KV and frees them when the last holder goes', async () => {
    const backend = new FakeBackend({ logits: successorLogits });
    await backend.decode({
      chunks: [{ sequenceId: 0, startPosition: 0, tokens: [1, 2, 3], rows: [] }],
    });
    backend.kv.copy(0, 1, 0, null);
    assert.equal(backend.kv.usedCells(), 3);
    backend.kv.remove(0, 0, null);
    assert.equal(backend.kv.usedCells(), 3);
    assert.deepEqual(backend.kv.tokensOf(1), [1, 2, 3]);
    backend.kv.remove(1, 1, null);
    assert.equal(backend.kv.usedCells(), 1);
    assert.deepEqual(backend.kv.positions(1), { min: 0, max: 0 });
  });

  it('copies whole sequences only under per-sequence KV', async () => {
    const backend = new FakeBackend({
      logits: successorLogits,
      kvLayout: { unified: false, cellsPerSequence: 4 },
    });
    await backend.decode({
      chunks: [{ sequenceId: 0, startPosition: 0, tokens: [1, 2, 3], rows: [] }],
    });
    assert.throws(() => backend.kv.copy(0, 1, 0, 2), /whole-sequence/);
    backend.kv.copy(0, 1, 0, null);
    assert.equal(backend.kv.usedCells(), 6);
    await assert.rejects(
      backend.decode({ chunks: [{ sequenceId: 1, startPosition: 3, tokens: [4, 5], rows: [] }] }),
      /no KV slot/,
    );
  });

  it('fails a step that does not fit the unified pool', async () => {
    const backend = new FakeBackend({ logits: successorLogits, kvLayout: { totalCells: 4 } });
    await assert.rejects(
      backend.decode({
        chunks: [
          { sequenceId: 0, startPosition: 0, tokens: [1, 2, 3], rows: [] },
          { sequenceId: 1, startPosition: 0, tokens: [1, 2], rows: [] },
        ],
      }),
      /no KV slot/,
    );
    assert.equal(backend.kv.usedCells(), 0);
  });
});
