/**
 * The whole server, in-process on a loopback port, driven by the official `openai` client:
 * greedy answers of the successor model checked against its formula (after "abc" comes
 * "defgh"; after "5" comes "6789." then EOS; after the ChatML prompt's final newline comes
 * "0123456789." then EOS), streaming equal to non-streaming, concurrency beyond max_num_seqs with
 * one decode per step, and 50 aborted streams leaving no request and no KV cell behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { testServeOptions } from './support/models.ts';

const MODEL = 'successor';
const MAX_NUM_SEQS = 8;

/** The greedy successor text of `prompt`'s last character, `count` characters long. */
function lettersAfter(prompt: string, count: number): string {
  const start = prompt.charCodeAt(prompt.length - 1) - 97;
  return Array.from({ length: count }, (_, i) =>
    String.fromCharCode(97 + ((start + 1 + i) % 26)),
  ).join('');
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('servellm serve, in-process, with the openai client', () => {
  let server: RunningServer;
  let client: OpenAI;

  before(async () => {
    server = await startServer(
      await testServeOptions({ servedModelNames: [MODEL], maxNumSeqs: MAX_NUM_SEQS }),
    );
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => server.close());

  it('completes "abc" with "defgh" and exact usage', async () => {
    const completion = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
    });
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0]!.text, 'defgh');
    assert.equal(completion.choices[0]!.finish_reason, 'length');
    assert.deepEqual(completion.usage, {
      prompt_tokens: 3,
      completion_tokens: 5,
      total_tokens: 8,
      prompt_tokens_details: null,
    });
    assert.match(completion.id, /^cmpl-/);
    assert.equal(completion.model, MODEL);
  });

  it('streams the same text, one finish reason, then usage', async () => {
    const stream = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        text += choice.text;
        if (choice.finish_reason) finishes.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'defgh');
    assert.deepEqual(finishes, ['length']);
    assert.equal(usage?.completion_tokens, 5);
    assert.equal(usage?.prompt_tokens, 3);
  });

  it('stops at EOS with finish "stop", and at a stop string', async () => {
    const digits = await client.completions.create({ model: MODEL, prompt: '5', temperature: 0 });
    assert.equal(digits.choices[0]!.text, '6789.');
    assert.equal(digits.choices[0]!.finish_reason, 'stop');
    assert.equal(digits.usage?.completion_tokens, 6, 'five characters and the EOS token');

    const stopped = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 10,
      temperature: 0,
      stop: 'fg',
    });
    assert.equal(stopped.choices[0]!.text, 'de');
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    assert.equal((stopped.choices[0] as unknown as { stop_reason: unknown }).stop_reason, 'fg');
  });

  it("chats through the model's ChatML template, streaming and not", async () => {
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const chat = await client.chat.completions.create({ model: MODEL, messages, temperature: 0 });
    const choice = chat.choices[0]!;
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, '0123456789.');
    assert.equal(choice.finish_reason, 'stop');
    // "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n": 3 specials and 18 bytes.
    assert.equal(chat.usage?.prompt_tokens, 21);

    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      temperature: 0,
      stream: true,
    });
    let content = '';
    let role: string | undefined;
    const finishes: string[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]!.delta;
      role ??= delta.role;
      content += delta.content ?? '';
      if (chunk.choices[0]!.finish_reason) finishes.push(chunk.choices[0]!.finish_reason);
    }
    assert.equal(role, 'assistant');
    assert.equal(content, '0123456789.');
    assert.deepEqual(finishes, ['stop']);
  });

  it('applies logit_bias before the greedy choice', async () => {
    // +100 on "z" beats the successor's margin after every token: "zzzzz".
    const forced = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
      logit_bias: { '122': 100 },
    });
    assert.equal(forced.choices[0]!.text, 'zzzzz');
    // Banning "d" leaves succ(succ("c")) = "e" the most likely, then the successors follow.
    const banned = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
      logit_bias: { '100': -100 },
    });
    assert.equal(banned.choices[0]!.text, 'efghi');
    await assert.rejects(
      client.completions.create({ model: MODEL, prompt: 'abc', logit_bias: { '259': 1 } }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /\[259\].*Vocabulary size: 259/.test(error.message),
    );
  });

  it('serves 32 concurrent streams with max_num_seqs 8, one decode per step', async () => {
    const decodesBefore = server.backend.decodeCount;
    const statsBefore = server.engine.stats();
    const prompts = Array.from({ length: 32 }, (_, i) =>
      String.fromCharCode(97 + (i % 20)).repeat(1 + (i % 3)),
    );
    const texts = await Promise.all(
      prompts.map(async (prompt) => {
        const stream = await client.completions.create({
          model: MODEL,
          prompt,
          max_tokens: 12,
          temperature: 0,
          stream: true,
        });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
        return text;
      }),
    );
    prompts.forEach((prompt, i) =>
      assert.equal(texts[i], lettersAfter(prompt, 12), `prompt ${prompt}`),
    );
    const stats = server.engine.stats();
    const steps = stats.steps - statsBefore.steps;
    assert.equal(
      server.backend.decodeCount - decodesBefore,
      steps,
      'one backend decode per engine step',
    );
    // 32 requests x 12 tokens could not have taken fewer than 4 waves of 12 steps with 8 slots.
    assert.ok(steps >= 48, `steps ${steps}`);
    assert.ok(steps < 32 * 12, `requests were batched (${steps} steps)`);
  });

  it('aborts 50 streams mid-way and frees every request and KV cell', async () => {
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    const started = controllers.map(async (controller, i) => {
      try {
        const stream = await client.completions.create(
          {
            model: MODEL,
            prompt: 'abc'.repeat(1 + (i % 4)),
            max_tokens: 400,
            temperature: 0,
            stream: true,
          },
          { signal: controller.signal },
        );
        let chunks = 0;
        for await (const chunk of stream) {
          if (chunk.choices[0]?.text) chunks++;
          if (chunks === 3) controller.abort();
        }
      } catch (error) {
        if (!(error instanceof OpenAI.APIUserAbortError)) throw error;
      }
    });
    // Queued requests never stream three chunks: abort them once every running one has.
    await waitFor(() => server.engine.stats().waiting <= 50 - MAX_NUM_SEQS, 'requests to queue');
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const controller of controllers) controller.abort();
    await Promise.all(started);
    await waitFor(() => {
      const stats = server.engine.stats();
      return stats.running === 0 && stats.waiting === 0 && stats.kvUsage === 0;
    }, 'the engine to drain');
    await server.engine.whenIdle();
    // What the aborted requests computed stays cached for reuse; dropping it leaves nothing.
    server.engine.resetPrefixCache();
    for (let sequence = 0; sequence < MAX_NUM_SEQS; sequence++) {
      assert.equal(
        server.backend.kv.positions(sequence),
        null,
        `sequence ${sequence} holds KV cells`,
      );
    }
    const after = await client.completions.create({
      model: MODEL,
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
    });
    assert.equal(after.choices[0]!.text, 'defgh');
  });
});
