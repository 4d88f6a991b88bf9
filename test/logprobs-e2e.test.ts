/**
 * Logprobs end to end on the successor models (F32 and F16), through the whole server and the
 * official `openai` client, against the closed formula: after token t the logits are margin1 on
 * succ(t), margin2 on succ(succ(t)) and 0 elsewhere, so every logprob, rank and top-k list is
 * known exactly (successorLogprobs, float64). Covers completions logprobs, echo (with and
 * without output), streaming, prompt_logprobs, chat logprobs, token ids as names, the whole
 * vocabulary under --max-logprobs -1, and vLLM's 400s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import {
  SUCCESSOR_VOCAB_SIZE,
  successorLogprobs,
  successorOf,
} from '../src/gguf/successor-model.ts';
import { testServeOptions } from './support/models.ts';

const MODEL = 'successor';
const TOLERANCE = 1e-4;
const CONTROL_NAMES: Record<number, string> = {
  256: '<|endoftext|>',
  257: '<|im_start|>',
  258: '<|im_end|>',
};

/** A token's name in logprobs: its text alone (a byte above 127 alone is not UTF-8). */
function nameOf(token: number): string {
  return CONTROL_NAMES[token] ?? (token < 128 ? String.fromCharCode(token) : '\ufffd');
}

const code = (ch: string) => ch.charCodeAt(0);

/** The formula's view of the position after `previous` where `token` stands. */
function formula(previous: number, token: number, topCount: number) {
  const logprobs = successorLogprobs(previous);
  const ids = Array.from({ length: SUCCESSOR_VOCAB_SIZE }, (_, i) => i);
  const top = [...ids]
    .sort((a, b) => logprobs[b]! - logprobs[a]! || a - b)
    .slice(0, topCount)
    .map((id) => ({ token: id, logprob: logprobs[id]! }));
  const rank = ids.filter((id) => logprobs[id]! >= logprobs[token]!).length;
  return { token, logprob: logprobs[token]!, rank, top };
}

/** vLLM's candidates: the token first, then the top tokens, each once (first place kept). */
function candidates(previous: number, token: number, topCount: number) {
  const { logprob, rank, top } = formula(previous, token, topCount);
  const byToken = new Map<number, { logprob: number; rank: number }>([[token, { logprob, rank }]]);
  top.forEach((entry, i) => byToken.set(entry.token, { logprob: entry.logprob, rank: i + 1 }));
  return [...byToken.entries()];
}

function close(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) < TOLERANCE,
    `${what}: ${actual} vs ${expected}`,
  );
}

/** Checks a completions top_logprobs map against the formula (k + 1 candidates by name). */
function checkTopMap(
  actual: Record<string, number> | null | undefined,
  previous: number,
  token: number,
  k: number,
  what: string,
): void {
  const expected = candidates(previous, token, k).slice(0, k + 1);
  assert.ok(actual, `${what}: no top_logprobs`);
  assert.deepEqual(Object.keys(actual).sort(), expected.map(([id]) => nameOf(id)).sort(), what);
  for (const [id, { logprob }] of expected) close(actual[nameOf(id)], logprob, `${what} ${id}`);
}

type BadRequest = InstanceType<typeof OpenAI.BadRequestError>;

/** The 400 a request is answered with (the client throws it). */
async function rejection(promise: Promise<unknown>): Promise<BadRequest> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    return error;
  }
  throw new Error('the request succeeded');
}

for (const weightType of ['f32', 'f16'] as const) {
  describe(`logprobs on the successor ${weightType} model`, () => {
    let server: RunningServer;
    let client: OpenAI;
    // F32 runs with --max-logprobs -1 (the whole vocabulary), F16 with vLLM's default 20.
    const maxLogprobs = weightType === 'f32' ? -1 : 20;

    before(async () => {
      const model = await ensureModel({ preset: 'successor', weightType });
      server = await startServer(await testServeOptions({ model, maxLogprobs }));
      client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    });
    after(() => server.close());

    it('completions: each token, its offsets and its top 3 equal the formula', async () => {
      const completion = await client.completions.create({
        model: MODEL,
        prompt: 'abc',
        max_tokens: 4,
        temperature: 0,
        logprobs: 3,
      });
      const choice = completion.choices[0]!;
      assert.equal(choice.text, 'defg');
      const lp = choice.logprobs!;
      assert.deepEqual(lp.tokens, ['d', 'e', 'f', 'g']);
      assert.deepEqual(lp.text_offset, [0, 1, 2, 3]);
      let previous = code('c');
      lp.tokens.forEach((name, i) => {
        const token = code(name);
        close(lp.token_logprobs![i], formula(previous, token, 3).logprob, `token ${i}`);
        checkTopMap(lp.top_logprobs![i], previous, token, 3, `top ${i}`);
        previous = token;
      });
      assert.equal((choice as { prompt_logprobs?: unknown }).prompt_logprobs, null);
    });

    it('echo: the prompt with its logprobs first (null for the first token), prompt_logprobs too', async () => {
      // 'x' after 'a' is neither successor: logprob -log Z and vLLM's rank 259 (every token ties or beats it).
      const completion = await client.completions.create({
        model: MODEL,
        prompt: 'axb',
        max_tokens: 2,
        temperature: 0,
        logprobs: 2,
        echo: true,
      });
      const choice = completion.choices[0]!;
      assert.equal(choice.text, 'axbcd');
      const lp = choice.logprobs!;
      assert.deepEqual(lp.tokens, ['a', 'x', 'b', 'c', 'd']);
      assert.equal(lp.token_logprobs![0], null);
      assert.equal(lp.top_logprobs![0], null);
      const tokens = [...'axbcd'].map(code);
      for (let i = 1; i < tokens.length; i++) {
        const expected = formula(tokens[i - 1]!, tokens[i]!, 2);
        close(lp.token_logprobs![i], expected.logprob, `token ${i}`);
        checkTopMap(lp.top_logprobs![i], tokens[i - 1]!, tokens[i]!, 2, `top ${i}`);
      }
      const prompt = (
        choice as {
          prompt_logprobs?: Record<
            string,
            { logprob: number; rank: number; decoded_token: string }
          >[];
        }
      ).prompt_logprobs!;
      assert.equal(prompt.length, 3);
      assert.equal(prompt[0], null);
      for (let i = 1; i < 3; i++) {
        const expected = candidates(tokens[i - 1]!, tokens[i]!, 2);
        assert.deepEqual(
          Object.keys(prompt[i]!)
            .map(Number)
            .sort((a, b) => a - b),
          expected.map(([id]) => id).sort((a, b) => a - b),
        );
        for (const [id, { logprob, rank }] of expected) {
          close(prompt[i]![String(id)]!.logprob, logprob, `prompt ${i} ${id}`);
          assert.equal(prompt[i]![String(id)]!.rank, rank, `prompt ${i} ${id} rank`);
          assert.equal(prompt[i]![String(id)]!.decoded_token, nameOf(id));
        }
      }
      assert.equal(prompt[1]!['120']!.rank, SUCCESSOR_VOCAB_SIZE, "vLLM's rank of a tied token");
    });

    it('echo with max_tokens 0 answers the prompt alone', async () => {
      const completion = await client.completions.create({
        model: MODEL,
        prompt: 'abc',
        max_tokens: 0,
        echo: true,
        logprobs: 0,
      });
      const choice = completion.choices[0]!;
      assert.equal(choice.text, 'abc');
      assert.deepEqual(choice.logprobs!.tokens, ['a', 'b', 'c']);
      close(choice.logprobs!.token_logprobs![2], formula(code('b'), code('c'), 0).logprob, 'c');
      assert.equal(completion.usage?.completion_tokens, 1, 'vLLM generates (and counts) one token');
    });

    it('streams the same logprobs as the whole response', async () => {
      const body = { model: MODEL, prompt: 'hello', max_tokens: 6, temperature: 0, logprobs: 1 };
      const whole = (await client.completions.create(body)).choices[0]!.logprobs!;
      const stream = await client.completions.create({ ...body, stream: true });
      const tokens: string[] = [];
      const values: (number | null)[] = [];
      let text = '';
      for await (const chunk of stream) {
        const choice = chunk.choices[0]!;
        assert.deepEqual(
          choice.logprobs!.text_offset![0],
          text.length,
          'offsets continue the text',
        );
        text += choice.text;
        tokens.push(...choice.logprobs!.tokens!);
        values.push(...choice.logprobs!.token_logprobs!);
      }
      assert.deepEqual(tokens, whole.tokens);
      assert.deepEqual(values, whole.token_logprobs);
    });

    it('chat: logprobs.content per token (EOS included) with top_logprobs, and prompt_logprobs', async () => {
      const chat = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0,
        logprobs: true,
        top_logprobs: 2,
        // @ts-expect-error vLLM's extra parameter
        prompt_logprobs: 1,
      });
      const choice = chat.choices[0]!;
      assert.equal(choice.message.content, '0123456789.');
      const content = choice.logprobs!.content!;
      const answer = [...'0123456789.'].map(code).concat(256);
      assert.deepEqual(
        content.map((entry) => entry.token),
        answer.map(nameOf),
      );
      let previous = code('\n');
      content.forEach((entry, i) => {
        const token = answer[i]!;
        close(entry.logprob, formula(previous, token, 2).logprob, `content ${i}`);
        assert.deepEqual(entry.bytes, [...Buffer.from(nameOf(token))]);
        const expectedTop = candidates(previous, token, 2).slice(0, 2);
        assert.deepEqual(
          entry.top_logprobs.map((t) => t.token),
          expectedTop.map(([id]) => nameOf(id)),
        );
        entry.top_logprobs.forEach((t, j) =>
          close(t.logprob, expectedTop[j]![1].logprob, `top ${i}.${j}`),
        );
        previous = token;
      });
      const prompt = (
        chat as unknown as { prompt_logprobs: (Record<string, { logprob: number }> | null)[] }
      ).prompt_logprobs;
      assert.equal(prompt.length, chat.usage!.prompt_tokens);
      assert.equal(prompt[0], null);
      // The prompt's last token is '\n' after 'assistant' ('t'): neither successor.
      const last = prompt.at(-1)!;
      close(
        last[String(code('\n'))]!.logprob,
        formula(code('t'), code('\n'), 1).logprob,
        'prompt end',
      );
    });

    it('names tokens by id when asked', async () => {
      const completion = await client.completions.create({
        model: MODEL,
        prompt: 'ab',
        max_tokens: 2,
        temperature: 0,
        logprobs: 1,
        // @ts-expect-error vLLM's extra parameter
        return_tokens_as_token_ids: true,
      });
      assert.deepEqual(completion.choices[0]!.logprobs!.tokens, ['token_id:99', 'token_id:100']);
    });

    if (maxLogprobs === -1) {
      it('gives the whole vocabulary for top_logprobs -1 under --max-logprobs -1', async () => {
        const chat = await client.chat.completions.create({
          model: MODEL,
          messages: [{ role: 'user', content: 'hi' }],
          max_completion_tokens: 1,
          logprobs: true,
          top_logprobs: -1,
        });
        const top = chat.choices[0]!.logprobs!.content![0]!.top_logprobs;
        assert.equal(top.length, SUCCESSOR_VOCAB_SIZE);
        let total = 0;
        for (const entry of top) total += Math.exp(entry.logprob);
        close(total, 1, 'the probabilities sum to 1');
      });
    } else {
      it("refuses counts above --max-logprobs with vLLM's 400, and the server goes on", async () => {
        const tooMany = await rejection(
          client.completions.create({ model: MODEL, prompt: 'ab', logprobs: 21 }),
        );
        assert.equal(tooMany.status, 400);
        assert.equal(tooMany.param, 'logprobs');
        assert.match(
          tooMany.message,
          /Requested sample logprobs of 21, which is greater than max allowed: 20/,
        );
        const chat = await rejection(
          client.chat.completions.create({
            model: MODEL,
            messages: [{ role: 'user', content: 'hi' }],
            logprobs: true,
            top_logprobs: 30,
            stream: true,
          }),
        );
        assert.equal(chat.status, 400);
        const vocab = await rejection(
          client.completions.create({
            model: MODEL,
            prompt: 'ab',
            // @ts-expect-error vLLM's extra parameter
            prompt_logprobs: -1,
          }),
        );
        assert.equal(vocab.param, 'prompt_logprobs');
        assert.match(vocab.message, /Requested prompt logprobs of 259/);
        const ok = await client.completions.create({
          model: MODEL,
          prompt: 'ab',
          max_tokens: 1,
          temperature: 0,
        });
        assert.equal(ok.choices[0]!.text, 'c');
      });
    }
  });
}

// successorOf is the table the formula is built on; keep the test honest about the chat answer.
assert.equal(successorOf(code('.')), 256);
