/**
 * The unified KV pool under pressure, through the real server and the `openai` client: a pool
 * sized for 4 full contexts serves 32 concurrent long requests. Requests are admitted by their
 * first chunk, so the pool runs out while they decode; the engine preempts (and later resumes)
 * requests instead of failing any. Every answer is checked against the successor formula (after
 * a letter, greedy decoding continues the alphabet), and nothing is left in the KV cache after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';

const MODEL = 'successor';
const MAX_MODEL_LEN = 256;
const BLOCK_SIZE = 16;
const POOL_BLOCKS = (4 * MAX_MODEL_LEN) / BLOCK_SIZE;
const REQUESTS = 32;
const PROMPT_LENGTH = 100;
const MAX_TOKENS = 140;

/** Request i's prompt: letters from a different starting letter each. */
function promptOf(i: number): string {
  return Array.from({ length: PROMPT_LENGTH }, (_, k) =>
    String.fromCharCode(97 + ((i * 7 + k * 3) % 26)),
  ).join('');
}

/** The greedy successor text after `prompt`'s last letter, `count` letters long. */
function lettersAfter(prompt: string, count: number): string {
  const start = prompt.charCodeAt(prompt.length - 1) - 97;
  return Array.from({ length: count }, (_, i) =>
    String.fromCharCode(97 + ((start + 1 + i) % 26)),
  ).join('');
}

describe('a unified KV pool of 4 contexts under 32 concurrent long requests', () => {
  let server: RunningServer;
  let client: OpenAI;

  before(async () => {
    server = await startServer(
      await testServeOptions({
        servedModelNames: [MODEL],
        maxModelLen: MAX_MODEL_LEN,
        maxNumSeqs: 16,
        maxNumBatchedTokens: 256,
        kvCacheLayout: 'unified',
        blockSize: BLOCK_SIZE,
        numGpuBlocksOverride: POOL_BLOCKS,
      }),
    );
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => server.close());

  it('completes every request right, preempting instead of failing', async () => {
    assert.equal(server.backend.kvLayout.totalCells, POOL_BLOCKS * BLOCK_SIZE);
    const answers = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        client.completions.create({
          model: MODEL,
          prompt: promptOf(i),
          max_tokens: MAX_TOKENS,
          temperature: 0,
        }),
      ),
    );
    answers.forEach((answer, i) => {
      const choice = answer.choices[0]!;
      assert.equal(choice.text, lettersAfter(promptOf(i), MAX_TOKENS), `request ${i}`);
      assert.equal(choice.finish_reason, 'length');
      assert.equal(answer.usage?.completion_tokens, MAX_TOKENS);
    });
    const stats = server.engine.stats();
    assert.ok(stats.preemptions > 0, `preemptions counted: ${stats.preemptions}`);
    assert.equal(stats.running, 0);
    assert.equal(stats.waiting, 0);
    assert.equal(stats.kvUsage, 0);
    await server.engine.whenIdle();
    server.engine.resetPrefixCache();
    for (let sequence = 0; sequence < server.backend.kvLayout.maxSequences; sequence++) {
      assert.equal(server.backend.kv.positions(sequence), null, `sequence ${sequence} holds cells`);
    }
  });
});
