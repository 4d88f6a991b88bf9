/**
 * Sampling parameters through the whole server on the successor F16 model (after token t the
 * logits are 8 on succ(t), 4 on succ(succ(t)), 0 elsewhere), with the `openai` client:
 *   - seeds: a seeded request gives the same text alone and among 15 other concurrent requests;
 *   - `n`: each choice equals the request with seed + j alone, and the prompt is computed once;
 *   - greedy choices under min_tokens, allowed_token_ids, bad_words and repetition_penalty,
 *     worked out by hand from the formula.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';

const MODEL = 'successor';

describe('sampling parameters end to end (successor F16)', () => {
  let server: RunningServer;
  let client: OpenAI;

  before(async () => {
    server = await startServer(await testServeOptions({ maxNumSeqs: 16 }));
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => server.close());

  const seeded = { model: MODEL, prompt: 'abc', max_tokens: 40, temperature: 1, seed: 1234 };

  it('gives a seeded request the same text alone and among 15 concurrent requests', async () => {
    const alone = (await client.completions.create(seeded)).choices[0]!.text;
    const others = Array.from({ length: 15 }, (_, i) =>
      client.completions.create({
        model: MODEL,
        prompt: 'xyz0123'.slice(0, 1 + (i % 7)),
        max_tokens: 10 + i,
        temperature: i % 3 === 0 ? 0 : 0.5 + i / 10,
        ...(i % 2 === 0 ? { seed: i } : {}),
      }),
    );
    const [together] = await Promise.all([client.completions.create(seeded), ...others]);
    assert.equal(together.choices[0]!.text, alone);
    assert.notEqual(alone, 'defghijklmnopqrstuvwxyzabcdefghijklmnopq', 'the draw is random');
  });

  it('answers n choices, each the request with seed + j, computing the prompt once', async () => {
    const prompt = 'hello world '.repeat(40); // 480 tokens
    const before = server.engine.stats();
    const completion = await client.completions.create({ ...seeded, prompt, n: 8, max_tokens: 12 });
    const after = server.engine.stats();
    assert.deepEqual(
      completion.choices.map((c) => c.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(completion.usage?.prompt_tokens, 480, 'the prompt counted once');
    assert.equal(
      after.promptTokens - before.promptTokens,
      479 + 8,
      'computed once, last token per sample',
    );
    assert.equal(after.forkedPromptTokens - before.forkedPromptTokens, 7 * 479);
    for (const j of [0, 3, 7]) {
      const alone = await client.completions.create({
        ...seeded,
        prompt,
        max_tokens: 12,
        seed: seeded.seed + j,
      });
      assert.equal(completion.choices[j]!.text, alone.choices[0]!.text, `choice ${j}`);
    }
    assert.ok(new Set(completion.choices.map((c) => c.text)).size > 1, 'the samples differ');
  });

  it('best_of: answers the n samples with the highest cumulative logprob, in that order', async () => {
    const body = { model: MODEL, prompt: 'abc', max_tokens: 12, temperature: 1.5, seed: 99 };
    const samples = await Promise.all(
      [0, 1, 2, 3].map(async (j) => {
        const alone = await client.completions.create({ ...body, seed: 99 + j, logprobs: 0 });
        const choice = alone.choices[0]!;
        const total = choice.logprobs!.token_logprobs!.reduce((sum: number, lp) => sum + lp, 0);
        return { text: choice.text, total, j };
      }),
    );
    const expected = [...samples].sort((a, b) => b.total - a.total || a.j - b.j).slice(0, 2);
    assert.ok(new Set(samples.map((s) => s.text)).size > 1, 'the samples differ');
    const best = await client.completions.create({
      ...body,
      n: 2,
      best_of: 4,
    });
    assert.deepEqual(
      best.choices.map((c) => [c.index, c.text]),
      expected.map((e, k) => [k, e.text]),
    );
    assert.equal(best.choices[0]!.logprobs, null, 'logprobs only when asked');
    assert.equal(best.usage?.completion_tokens, 24, 'the answered choices, as vLLM counted');
  });

  it('beam search: the two best continuations with their exact logprobs', async () => {
    // After 'c': 'd' (logit 8) then 'e' (4). Width 2 keeps "de" (8 + 8) and, of the two beams
    // tied at 8 + 4 ("df" and "ef"), the one from the better beam: "df" -> then "def" and "deg".
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 3,
      temperature: 0,
      n: 2,
      logprobs: 1,
      // @ts-expect-error vLLM's extra parameter
      use_beam_search: true,
    });
    assert.deepEqual(
      completion.choices.map((c) => [c.index, c.text, c.finish_reason]),
      [
        [0, 'def', 'length'],
        [1, 'deg', 'length'],
      ],
    );
    const logZ = Math.log(Math.exp(8) + Math.exp(4) + 257);
    const expected = [
      [8 - logZ, 8 - logZ, 8 - logZ],
      [8 - logZ, 8 - logZ, 4 - logZ],
    ];
    completion.choices.forEach((choice, j) =>
      choice.logprobs!.token_logprobs!.forEach((lp, i) =>
        assert.ok(Math.abs(lp - expected[j]![i]!) < 1e-4, `choice ${j} token ${i}: ${lp}`),
      ),
    );
    assert.equal(completion.usage?.prompt_tokens, 3);
    assert.equal(completion.usage?.completion_tokens, 6);
  });

  it('min_tokens: EOS waits, so greedy takes the second successor of "."', async () => {
    const plain = await client.completions.create({
      model: MODEL,
      prompt: '8',
      max_tokens: 6,
      temperature: 0,
    });
    assert.equal(plain.choices[0]!.text, '9.');
    const held = await client.completions.create({
      model: MODEL,
      prompt: '8',
      max_tokens: 6,
      temperature: 0,
      // @ts-expect-error vLLM's extra parameter
      min_tokens: 5,
    });
    // '9', '.', then EOS is masked: succ(EOS) = '0' has logit 4; then '1', '2', '3'.
    assert.equal(held.choices[0]!.text, '9.0123');
    assert.equal(held.choices[0]!.finish_reason, 'length');
  });

  it('allowed_token_ids: greedy among them only', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 3,
      temperature: 0,
      // @ts-expect-error vLLM's extra parameter
      allowed_token_ids: [0x71, 0x65, 0x72],
    });
    // 'd' is not allowed, 'e' has logit 4; after 'e' every allowed logit is 0: the lowest id, 'e'.
    assert.equal(completion.choices[0]!.text, 'eee');
  });

  it('bad_words (chat): the banned token gives way to the second successor', async () => {
    const chat = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0,
      // @ts-expect-error vLLM's extra parameter
      bad_words: ['1'],
    });
    assert.equal(chat.choices[0]!.message.content, '023456789.');
  });

  it("refuses a priority under the fcfs policy with vLLM's message", async () => {
    try {
      await client.completions.create({
        model: MODEL,
        prompt: 'ab',
        max_tokens: 1,
        // @ts-expect-error vLLM's extra parameter
        priority: 3,
      });
      assert.fail('the request succeeded');
    } catch (error) {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.param, 'priority');
      assert.match(error.message, /Got priority 3 but Priority scheduling is not enabled\./);
    }
  });

  it('repetition_penalty divides the logit of a prompt token', async () => {
    const body = { model: MODEL, prompt: 'aba', max_tokens: 1, temperature: 0 };
    assert.equal((await client.completions.create(body)).choices[0]!.text, 'b');
    // 'b' is in the prompt: 8 / 3 < 4, the logit of 'c'.
    const penalized = await client.completions.create({
      ...body,
      // @ts-expect-error vLLM's extra parameter
      repetition_penalty: 3,
    });
    assert.equal(penalized.choices[0]!.text, 'c');
  });
});
