/**
 * The engine's logprobs against an independent computation: a scripted model with many tied
 * logits, prompts long enough to be prefilled in several chunks, and expected values computed
 * here from the scripted logits (float64 log-softmax, vLLM's rank = how many tokens are at least
 * as likely, top-k by descending logprob with ties by lower id).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScriptedLogits } from '../backend/fake-backend.ts';
import type { PositionLogprobs } from './engine-types.ts';
import { bytesOf, collect, params, StrictBackend, VOCAB } from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';

/** Logits in quarter steps that depend on the last token and the length: many ties. */
const tiedLogits: ScriptedLogits = (tokens) => {
  const last = tokens[tokens.length - 1]!;
  const logits = new Float32Array(VOCAB);
  for (let t = 0; t < VOCAB; t++) logits[t] = ((last * 7 + t * 13 + tokens.length) % 17) / 4;
  return logits;
};

/** The logprobs the engine must report at a position whose history is `history`. */
function expectedAt(history: readonly number[], token: number, topCount: number): PositionLogprobs {
  const logits = tiedLogits(history);
  let sum = 0;
  for (const logit of logits) sum += Math.exp(logit);
  const logZ = Math.log(sum);
  const ids = Array.from({ length: VOCAB }, (_, i) => i);
  const top = [...ids]
    .sort((a, b) => logits[b]! - logits[a]! || a - b)
    .slice(0, topCount)
    .map((id) => ({ token: id, logprob: logits[id]! - logZ }));
  const rank = ids.filter((id) => logits[id]! >= logits[token]!).length;
  return { token, logprob: logits[token]! - logZ, rank, top };
}

function assertPosition(actual: PositionLogprobs | null, expected: PositionLogprobs, at: string) {
  assert.ok(actual !== null, `${at}: no logprobs`);
  assert.equal(actual.token, expected.token, `${at}: token`);
  assert.equal(actual.rank, expected.rank, `${at}: rank`);
  assert.ok(Math.abs(actual.logprob - expected.logprob) < 1e-9, `${at}: logprob`);
  assert.deepEqual(
    actual.top.map((entry) => entry.token),
    expected.top.map((entry) => entry.token),
    `${at}: top tokens`,
  );
  actual.top.forEach((entry, i) =>
    assert.ok(Math.abs(entry.logprob - expected.top[i]!.logprob) < 1e-9, `${at}: top ${i}`),
  );
}

/** A 2-sequence engine over the tied-logits model, 16 tokens per step. */
function setup() {
  const backend = new StrictBackend({ logits: tiedLogits });
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs: 2,
    maxNumBatchedTokens: 16,
  });
  return { backend, engine };
}

describe('LlmEngine logprobs', { timeout: 10_000 }, () => {
  it('reports prompt logprobs across prefill chunks and each sampled token, as computed here', async () => {
    const backend = new StrictBackend({ logits: tiedLogits });
    // 40 prompt tokens, 16 per step: the prompt is prefilled in three chunks.
    const engine = new LlmEngine(backend, {
      maxModelLen: 64,
      maxNumSeqs: 2,
      maxNumBatchedTokens: 16,
    });
    const prompt = bytesOf('the quick brown fox jumps over a lazy dog');
    const result = await collect(
      engine.add({
        id: 'r',
        promptTokens: prompt,
        params: params({ maxTokens: 4, logprobs: 2, promptLogprobs: 3 }),
      }),
    );
    await engine.whenIdle();
    assert.equal(backend.fake.decodeLog.length, 3 + 3, '3 prefill steps, then 3 decode steps');

    const promptLogprobs = result.outputs[0]!.promptLogprobs;
    assert.ok(promptLogprobs !== null);
    assert.equal(promptLogprobs.length, prompt.length);
    assert.equal(promptLogprobs[0], null);
    for (let i = 1; i < prompt.length; i++) {
      assertPosition(
        promptLogprobs[i]!,
        expectedAt(prompt.slice(0, i), prompt[i]!, 3),
        `prompt ${i}`,
      );
    }
    assert.ok(result.outputs.slice(1).every((output) => output.promptLogprobs === null));

    const history = [...prompt];
    for (const output of result.outputs) {
      assert.equal(output.logprobs?.length, 1);
      const token = output.tokenIds[0]!;
      assertPosition(
        output.logprobs[0]!,
        expectedAt(history, token, 2),
        `output ${history.length}`,
      );
      history.push(token);
    }
  });

  it('reports nothing it was not asked for, and scores no drawn token then', async () => {
    const { backend, engine } = setup();
    const result = await collect(
      engine.add({ id: 'r', promptTokens: bytesOf('abc'), params: params({ maxTokens: 3 }) }),
    );
    assert.ok(result.outputs.every((o) => o.logprobs === null && o.promptLogprobs === null));
    const rows = backend.fake.decodeLog.flatMap((request) => request.chunks.flatMap((c) => c.rows));
    assert.equal(rows.length, 3, 'one sampling row per step, no scoring rows');
    assert.ok(rows.every((row) => row.scoreSample === false && row.topLogprobs === 0));
  });

  it('gives a one-token prompt an only-null prompt_logprobs, and logprobs 0 the token alone', async () => {
    const { engine } = setup();
    const result = await collect(
      engine.add({
        id: 'r',
        promptTokens: [0x61],
        params: params({ maxTokens: 1, logprobs: 0, promptLogprobs: 5 }),
      }),
    );
    assert.deepEqual(result.outputs[0]!.promptLogprobs, [null]);
    const token = result.tokenIds[0]!;
    assertPosition(result.outputs[0]!.logprobs![0]!, expectedAt([0x61], token, 0), 'output');
  });
});
