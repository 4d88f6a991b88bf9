/**
 * Beam search through the engine against a from-scratch computation: the test runs vLLM's
 * algorithm itself over the scripted logits (log-softmax of the whole history, the 2 x width
 * most likely tokens per beam, cumulative logprobs, score = cum / length^penalty, stable sorts),
 * while the engine runs every beam as a sequence of the batch, forking beams by copying KV
 * cells. The logits depend on the whole history, so a wrong copy changes the answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScriptedLogits } from '../backend/fake-backend.ts';
import { bytesOf, collect, EOS, params, StrictBackend, VOCAB } from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';

const historyLogits: ScriptedLogits = (tokens) => {
  let h = 7;
  for (const token of tokens) h = (h * 131 + token) % 65521;
  const logits = new Float32Array(VOCAB);
  for (let t = 0; t < VOCAB; t++) logits[t] = ((h * 97 + t * 53) % 211) / 30;
  return logits;
};

interface RefBeam {
  tokens: number[];
  cum: number;
}

/** vLLM's beam search, computed here from the logits. */
function referenceBeamSearch(
  prompt: number[],
  width: number,
  maxTokens: number,
  lengthPenalty: number,
  earlyStopping = false,
  logitsOf: ScriptedLogits = historyLogits,
): RefBeam[] {
  const score = (b: RefBeam) =>
    b.cum / (prompt.length + b.tokens.length - (b.tokens.at(-1) === EOS ? 1 : 0)) ** lengthPenalty;
  const sorted = (beams: RefBeam[]) =>
    beams
      .map((beam, order) => ({ beam, order }))
      .sort((a, b) => score(b.beam) - score(a.beam) || a.order - b.order)
      .map(({ beam }) => beam);
  let live: RefBeam[] = [{ tokens: [], cum: 0 }];
  const ended: RefBeam[] = [];
  for (let step = 0; step < maxTokens && live.length > 0; step++) {
    const next: RefBeam[] = [];
    for (const beam of live) {
      const logits = logitsOf([...prompt, ...beam.tokens]);
      let sum = 0;
      for (const logit of logits) sum += Math.exp(logit);
      const ids = Array.from({ length: VOCAB }, (_, t) => t).sort(
        (a, b) => logits[b]! - logits[a]! || a - b,
      );
      // Greedy: the drawn token is the most likely, already first of the top 2 x width.
      for (const token of ids.slice(0, 2 * width)) {
        const extended = {
          tokens: [...beam.tokens, token],
          cum: beam.cum + logits[token]! - Math.log(sum),
        };
        (token === EOS ? ended : next).push(extended);
      }
    }
    live = sorted(next).slice(0, width);
    // Early stopping: as soon as `width` beams have ended, the answer is among them.
    if (earlyStopping && ended.length >= width) return sorted(ended).slice(0, width);
  }
  return sorted([...ended, ...live]).slice(0, width);
}

/** A 4-sequence engine over the history-dependent model, in the given KV layout. */
function setup(unified: boolean) {
  const backend = new StrictBackend({ logits: historyLogits, kvLayout: { unified } });
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs: 4,
    maxNumBatchedTokens: 16,
  });
  return { backend, engine };
}

for (const unified of [true, false]) {
  describe(`beam search (${unified ? 'unified' : 'per-sequence'} KV)`, () => {
    it('answers what the algorithm computed from scratch gives, computing the prompt once', async () => {
      const { backend, engine } = setup(unified);
      const prompt = bytesOf('beam me up, scotty: 24 tokens');
      for (const [width, maxTokens, lengthPenalty] of [
        [3, 6, 1],
        [2, 9, 0.5],
        [4, 4, 2],
      ] as const) {
        const before = engine.stats();
        const streams = engine.addBeamSearch(
          { id: `b${width}`, promptTokens: prompt, params: params({ maxTokens }) },
          { width, lengthPenalty, earlyStopping: false },
        );
        const answers = await Promise.all(streams.map((stream) => collect(stream)));
        await engine.whenIdle();
        const expected = referenceBeamSearch(prompt, width, maxTokens, lengthPenalty);
        assert.deepEqual(
          answers.map((a) => a.tokenIds),
          expected.map((b) => b.tokens),
          `width ${width}`,
        );
        answers.forEach((a, j) => {
          assert.equal(a.outputs.length, 1, 'one output per answer, at the end');
          assert.equal(
            a.final.finishReason,
            expected[j]!.tokens.at(-1) === EOS ? 'stop' : 'length',
          );
        });
        assert.equal(
          engine.stats().promptTokens - before.promptTokens,
          prompt.length,
          'the prompt once',
        );
        engine.resetPrefixCache();
        assert.equal(backend.fake.kv.usedCells(), 0);
      }
      assert.deepEqual(backend.violations, []);
    });

    it('stops early once width beams ended, when asked, as computed from scratch', async () => {
      // EOS is likely at every step, so beams end early and often.
      const eosLikely: ScriptedLogits = (tokens) => {
        const logits = historyLogits(tokens);
        logits[EOS] = 6.9;
        return logits;
      };
      const backend = new StrictBackend({ logits: eosLikely, kvLayout: { unified } });
      const engine = new LlmEngine(backend, {
        maxModelLen: 64,
        maxNumSeqs: 4,
        maxNumBatchedTokens: 16,
      });
      const prompt = bytesOf('stop early');
      for (const earlyStopping of [true, false]) {
        const streams = engine.addBeamSearch(
          { id: `e${earlyStopping}`, promptTokens: prompt, params: params({ maxTokens: 12 }) },
          { width: 3, lengthPenalty: 1, earlyStopping },
        );
        const answers = await Promise.all(streams.map((stream) => collect(stream)));
        await engine.whenIdle();
        const expected = referenceBeamSearch(prompt, 3, 12, 1, earlyStopping, eosLikely);
        assert.deepEqual(
          answers.map((a) => a.tokenIds),
          expected.map((b) => b.tokens),
        );
        if (earlyStopping) assert.ok(answers.every((a) => a.final.finishReason === 'stop'));
      }
      engine.resetPrefixCache();
      assert.equal(backend.fake.kv.usedCells(), 0);
    });

    it('ends every answer with an abort and leaves no cell behind when aborted', async () => {
      const { backend, engine } = setup(unified);
      const streams = engine.addBeamSearch(
        { id: 'b', promptTokens: bytesOf('abc'), params: params({ maxTokens: 20 }) },
        { width: 3, lengthPenalty: 1, earlyStopping: false },
      );
      backend.onDecode = (n) => {
        if (n === 4) engine.abort('b');
      };
      const answers = await Promise.all(streams.map((stream) => collect(stream)));
      await engine.whenIdle();
      assert.ok(answers.every((a) => a.final.finishReason === 'abort'));
      engine.resetPrefixCache();
      assert.equal(backend.fake.kv.usedCells(), 0);
      assert.deepEqual(backend.violations, []);
      // The engine serves on: a plain request after the aborted search.
      const after = await collect(
        engine.add({ id: 'r', promptTokens: bytesOf('x'), params: params({ maxTokens: 2 }) }),
      );
      assert.equal(after.tokenIds.length, 2);
    });

    it('refuses a width the engine cannot hold', () => {
      const { engine } = setup(unified);
      assert.throws(
        () =>
          engine.addBeamSearch(
            { id: 'b', promptTokens: [1], params: params() },
            { width: 5, lengthPenalty: 1, earlyStopping: false },
          ),
        /The beam width \(n=5\) must be between 1 and max_num_seqs=4\./,
      );
    });
  });
}

describe('beam search in a small unified KV pool', () => {
  it('refuses up front a search whose beams could not all fit (beams are never preempted)', () => {
    const backend = new StrictBackend({
      logits: historyLogits,
      kvLayout: { unified: true, totalCells: 128 },
    });
    const engine = new LlmEngine(backend, {
      maxModelLen: 64,
      maxNumSeqs: 4,
      maxNumBatchedTokens: 16,
    });
    const request = (maxTokens: number) => ({
      id: `b${maxTokens}`,
      promptTokens: [1, 2, 3, 4],
      params: params({ maxTokens }),
    });
    const options = { width: 4, lengthPenalty: 1, earlyStopping: false };
    // 4 beams of 4 + 60 tokens: 16 blocks of 16; the pool has 8.
    assert.throws(
      () => engine.addBeamSearch(request(60), options),
      (error: Error & { parameter?: string }) =>
        /needs 16 KV blocks; the KV cache has 8/.test(error.message) && error.parameter === 'n',
    );
    // 4 beams of 4 + 28 tokens: 8 blocks: fine.
    assert.equal(engine.addBeamSearch(request(28), options).length, 4);
  });
});
