import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScriptedLogits } from '../backend/fake-backend.ts';
import { drawFromDistribution, samplingDistribution } from '../backend/reference-sampler.ts';
import type { SamplingParams } from './engine-types.ts';
import { collect, params, StrictBackend, VOCAB } from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';
import { deriveRowSeed, toLogitBias } from './row-sampling.ts';

/** Logits over 'a'..'z' that depend on the last two tokens: sampling has real choices. */
const spreadLogits: ScriptedLogits = (tokens) => {
  const logits = new Float32Array(VOCAB).fill(-20);
  const a = tokens[tokens.length - 1]!;
  const b = tokens[tokens.length - 2] ?? 0;
  for (let j = 0; j < 26; j++) logits[97 + j] = ((j * 7 + a * 3 + b) % 11) / 3;
  return logits;
};

const sampled = params({ temperature: 0.9, topK: 12, topP: 0.95, minP: 0.02, maxTokens: 24 });

/** The tokens the formula gives: reference distribution, row seed = deriveRowSeed(seed, i). */
function expectedTokens(
  promptTokens: readonly number[],
  p: SamplingParams,
  seed: bigint,
): number[] {
  const history = [...promptTokens];
  const out: number[] = [];
  for (let i = 0; i < p.maxTokens; i++) {
    const probs = samplingDistribution(spreadLogits(history), {
      ...p,
      allowedTokens: null,
      logitBias: toLogitBias(p.logitBias),
    });
    const token = drawFromDistribution(probs, deriveRowSeed(seed, i));
    out.push(token);
    history.push(token);
  }
  return out;
}

function engine(maxNumBatchedTokens = 64, backend = new StrictBackend({ logits: spreadLogits })) {
  return new LlmEngine(backend, { maxModelLen: 128, maxNumSeqs: 8, maxNumBatchedTokens });
}

describe('LlmEngine sampling', { timeout: 10_000 }, () => {
  const prompt = [104, 105, 106];

  it('a seeded request gives the formula tokens alone', async () => {
    const alone = await collect(
      engine().add({ id: 's', promptTokens: prompt, params: { ...sampled, seed: 1234n } }),
    );
    assert.deepEqual(alone.tokenIds, expectedTokens(prompt, sampled, 1234n));
    assert.ok(new Set(alone.tokenIds).size > 3, 'the distribution is not degenerate');
  });

  it('the same seed gives the same text in a crowded batch, whatever its position', async () => {
    const alone = await collect(
      engine().add({ id: 's', promptTokens: prompt, params: { ...sampled, seed: 1234n } }),
    );
    const backend = new StrictBackend({ logits: spreadLogits });
    const crowded = engine(9, backend);
    const others = Array.from({ length: 10 }, (_, i) =>
      collect(
        crowded.add({
          id: `o${i}`,
          promptTokens: [100 + i, 101, 102, 103, 104],
          params: { ...sampled, seed: BigInt(i) },
        }),
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const late = collect(
      crowded.add({ id: 's', promptTokens: prompt, params: { ...sampled, seed: 1234n } }),
    );
    const [result] = await Promise.all([late, ...others]);
    assert.deepEqual(result.tokenIds, alone.tokenIds);
    assert.equal(result.text, alone.text);
    const start = backend.decodeLog.findIndex((step) =>
      step.chunks.some((c) => c.startPosition === 0 && c.tokens[1] === prompt[1]),
    );
    assert.ok(start > 0, 'it joined a running batch');
    assert.ok(backend.decodeLog[start]!.chunks.length > 1, 'it shares its steps');
  });

  it('different seeds give different texts; no seed draws a random one', async () => {
    const e = engine();
    const run = (id: string, seed: bigint | null) =>
      collect(e.add({ id, promptTokens: prompt, params: { ...sampled, seed } }));
    const [a, b, c, d] = await Promise.all([
      run('a', 1n),
      run('b', 2n),
      run('c', null),
      run('d', null),
    ]);
    assert.notDeepEqual(a.tokenIds, b.tokenIds);
    assert.deepEqual(b.tokenIds, expectedTokens(prompt, sampled, 2n));
    assert.notDeepEqual(c.tokenIds, d.tokenIds);
  });

  it('an engine seed replays the seeds of unseeded requests (vLLM --seed)', async () => {
    const run = async (engineSeed: bigint) => {
      const e = new LlmEngine(new StrictBackend({ logits: spreadLogits }), {
        maxModelLen: 128,
        maxNumSeqs: 8,
        maxNumBatchedTokens: 64,
        seed: engineSeed,
      });
      const first = await collect(
        e.add({ id: 'x', promptTokens: prompt, params: { ...sampled, seed: null } }),
      );
      const second = await collect(
        e.add({ id: 'y', promptTokens: prompt, params: { ...sampled, seed: null } }),
      );
      return [first.tokenIds, second.tokenIds];
    };
    const [a1, a2] = await run(7n);
    const [b1, b2] = await run(7n);
    const [c1] = await run(8n);
    assert.deepEqual([a1, a2], [b1, b2]);
    assert.deepEqual(a1, expectedTokens(prompt, sampled, deriveRowSeed(7n, 0)));
    assert.deepEqual(a2, expectedTokens(prompt, sampled, deriveRowSeed(7n, 1)));
    assert.notDeepEqual(a1, c1);
  });

  it('greedy picks the argmax whatever the seed', async () => {
    const greedy = params({ maxTokens: 6 });
    const result = await collect(
      engine().add({ id: 'g', promptTokens: prompt, params: { ...greedy, seed: 99n } }),
    );
    assert.deepEqual(result.tokenIds, expectedTokens(prompt, greedy, 0n));
  });
});
