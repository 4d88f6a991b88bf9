/**
 * A chat of 10 turns re-evaluates only each new turn (automatic prefix caching), through the
 * whole server (in-process, the successor model, the official `openai` client).
 *
 * Each turn sends every earlier message (the user's and the replies the server returned) plus a
 * new user message, greedy, with a few max_tokens. The previous turn's request left in the KV
 * cache its prompt and its output tokens but the last (the last sampled token is never fed).
 * The successor model's template (ChatML, `<|im_start|>{role}\n{content}<|im_end|>\n` per
 * message, then `<|im_start|>assistant\n`) renders that reply exactly as it was generated (one
 * token per byte; an EOS that ended a reply is not in its content, and was never fed either),
 * so the new prompt starts with everything the previous request held: the engine evaluates
 * exactly the rest, and usage reports the held tokens as cached (evaluated + cached =
 * prompt_tokens). The expected figures come from the token ids the server returned
 * (return_token_ids), cross-checked against the test's own rendering of the template through the
 * backend's tokenizer. Both KV layouts; without prefix caching (the control) the same
 * conversation evaluates every prompt whole.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import type { ServeOptions } from '../src/cli/serve-options.ts';
import { testServeOptions } from './support/models.ts';

const MODEL = 'successor';
/** Per turn: max_tokens. 16 lets the reply end at EOS ("0123456789." then EOS, 12 tokens). */
const MAX_TOKENS = [3, 5, 16, 2, 4, 16, 1, 6, 3, 4];

interface Message {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** What one turn saw. */
interface Turn {
  readonly promptTokens: number;
  /** Prompt tokens the engine evaluated for this turn (its counter's delta). */
  readonly evaluated: number;
  /** usage.prompt_tokens_details.cached_tokens, 0 when null. */
  readonly cached: number;
  /** The prompt's token ids and the reply's (return_token_ids). */
  readonly promptIds: readonly number[];
  readonly outputIds: readonly number[];
}

/** The chat answer with vLLM's return_token_ids fields. */
type ChatWithIds = OpenAI.ChatCompletion & {
  prompt_token_ids: number[];
  choices: (OpenAI.ChatCompletion.Choice & { token_ids: number[] })[];
};

/** The successor model's ChatML template, rendered here (add_generation_prompt true). */
function renderChatMl(messages: readonly Message[]): string {
  const turns = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`);
  return `${turns.join('')}<|im_start|>assistant\n`;
}

/** Runs the 10 turns against `server`, checking each prompt against the test's own rendering. */
async function converse(server: RunningServer): Promise<Turn[]> {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages: Message[] = [];
  const turns: Turn[] = [];
  for (const [k, maxTokens] of MAX_TOKENS.entries()) {
    messages.push({ role: 'user', content: `Question ${k + 1}: and then?` });
    await server.engine.whenIdle();
    const before = server.engine.stats().promptTokens;
    const body = { model: MODEL, messages, temperature: 0, max_tokens: maxTokens };
    const answer = (await client.chat.completions.create({
      ...body,
      return_token_ids: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as ChatWithIds;
    await server.engine.whenIdle();
    const choice = answer.choices[0]!;
    const usage = answer.usage!;
    const expectedIds = server.backend.tokenizer.tokenize(renderChatMl(messages), {
      addSpecial: false,
      parseSpecial: true,
    });
    assert.deepEqual(answer.prompt_token_ids, expectedIds, `turn ${k + 1}: the prompt rendered`);
    assert.equal(usage.prompt_tokens, expectedIds.length);
    assert.equal(usage.completion_tokens, choice.token_ids.length);
    turns.push({
      promptTokens: usage.prompt_tokens,
      evaluated: server.engine.stats().promptTokens - before,
      cached: usage.prompt_tokens_details?.cached_tokens ?? 0,
      promptIds: answer.prompt_token_ids,
      outputIds: choice.token_ids,
    });
    messages.push({ role: 'assistant', content: choice.message.content ?? '' });
  }
  return turns;
}

/** The tokens turn `turn`'s request left in its KV: its prompt and its output but the last. */
function heldBy(turn: Turn): number[] {
  return [...turn.promptIds, ...turn.outputIds.slice(0, -1)];
}

function report(t: TestContext, turns: readonly Turn[]): void {
  turns.forEach((turn, k) =>
    t.diagnostic(
      `turn ${k + 1}: prompt ${turn.promptTokens}, evaluated ${turn.evaluated}, cached ${turn.cached}, output ${turn.outputIds.length}`,
    ),
  );
}

async function withServer<T>(
  options: Pick<ServeOptions, 'enablePrefixCaching' | 'kvCacheLayout'>,
  run: (server: RunningServer) => Promise<T>,
): Promise<T> {
  const server = await startServer(
    await testServeOptions({ enablePromptTokensDetails: true, maxModelLen: 1024, ...options }),
  );
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

describe('a multi-turn chat with prefix caching', () => {
  for (const kvCacheLayout of ['per-sequence', 'unified'] as const) {
    it(`evaluates only each new turn: the tokens after what the previous turn held (${kvCacheLayout} KV)`, async (t) => {
      const turns = await withServer({ enablePrefixCaching: true, kvCacheLayout }, converse);
      report(t, turns);
      assert.equal(turns[0]!.cached, 0);
      assert.equal(turns[0]!.evaluated, turns[0]!.promptTokens);
      for (let k = 1; k < turns.length; k++) {
        const turn = turns[k]!;
        const held = heldBy(turns[k - 1]!);
        // The template re-renders the previous reply exactly as generated: the new prompt starts
        // with everything the previous request held.
        assert.deepEqual(turn.promptIds.slice(0, held.length), held, `turn ${k + 1}: its history`);
        assert.equal(turn.evaluated + turn.cached, turn.promptTokens, `turn ${k + 1}: the sum`);
        assert.equal(turn.cached, held.length, `turn ${k + 1}: cached`);
        assert.equal(turn.evaluated, turn.promptTokens - held.length, `turn ${k + 1}: evaluated`);
      }
      // The replies: "012..." cut by max_tokens, or "0123456789." ended by EOS (16 max tokens).
      assert.deepEqual(
        turns.map((turn) => turn.outputIds.length),
        MAX_TOKENS.map((max) => Math.min(max, 12)),
      );
    });
  }

  it('evaluates every prompt whole without prefix caching (the control)', async (t) => {
    const options = { enablePrefixCaching: false, kvCacheLayout: 'per-sequence' } as const;
    const turns = await withServer(options, converse);
    report(t, turns);
    for (const [k, turn] of turns.entries()) {
      assert.equal(turn.cached, 0, `turn ${k + 1}`);
      assert.equal(turn.evaluated, turn.promptTokens, `turn ${k + 1}`);
    }
  });
});
