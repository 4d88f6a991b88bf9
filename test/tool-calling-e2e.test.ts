/**
 * Tool calling end to end, on the real backend and the random tiny model with the Hermes
 * template and parser (`--enable-auto-tool-choice --tool-call-parser hermes`): a named tool
 * choice answers one call whose arguments validate against the tool's schema (Ajv), content ""
 * and finish `stop`, streamed as OpenAI's deltas; `required` answers calls of the given tools
 * with finish `tool_calls`; `auto` extracts `<tool_call>` blocks (here forced by a regex) and
 * keeps the rest as content; the official client's `chat.completions.parse` with a zod schema
 * and its `runTools` helper work; vLLM's 400s without the flags.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { testServeOptions } from './support/models.ts';

const TEMPLATE = fileURLToPath(
  new URL('./data/chat-templates/hermes-tool-use.jinja', import.meta.url),
);

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 12 },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};
const TIME = {
  type: 'function' as const,
  function: {
    name: 'get_time',
    parameters: {
      type: 'object',
      properties: { zone: { type: 'integer', minimum: -12, maximum: 14 } },
      required: ['zone'],
    },
  },
};
const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];

let server: RunningServer;
let plain: RunningServer;
let client: OpenAI;

interface ToolCall {
  readonly id: string;
  readonly type: string;
  readonly function: { readonly name: string; readonly arguments: string };
}
interface Message {
  readonly content: string | null;
  readonly tool_calls: readonly ToolCall[];
}
interface Choice {
  readonly message: Message;
  readonly finish_reason: string;
}

async function chat(target: RunningServer, body: Record<string, unknown>) {
  const response = await fetch(`${target.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', messages, temperature: 1, max_tokens: 400, ...body }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function choiceOf(body: Record<string, unknown>): Promise<Choice> {
  const { status, json } = await chat(server, body);
  assert.equal(status, 200, JSON.stringify(json));
  return (json.choices as Choice[])[0]!;
}

const ajv = new Ajv2020({ strict: false });
const validWeather = ajv.compile(WEATHER.function.parameters);
const validTime = ajv.compile(TIME.function.parameters);

describe('tool calling on the random tiny model', { timeout: 300_000 }, () => {
  before(async () => {
    const model = await ensureModel({ preset: 'random-tiny-f32' });
    const common = {
      model,
      servedModelNames: ['tiny'],
      chatTemplate: TEMPLATE,
      maxModelLen: 2048,
      maxNumSeqs: 4,
    };
    server = await startServer(
      await testServeOptions({ ...common, enableAutoToolChoice: true, toolCallParser: 'hermes' }),
    );
    plain = await startServer(await testServeOptions(common));
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
  });
  after(async () => {
    await server?.close();
    await plain?.close();
  });

  it('named: one call whose arguments validate, content "", finish stop', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const choice = await choiceOf({
        tools: [WEATHER, TIME],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        seed,
      });
      assert.equal(choice.finish_reason, 'stop');
      assert.equal(choice.message.content, '');
      assert.equal(choice.message.tool_calls.length, 1);
      const call = choice.message.tool_calls[0]!;
      assert.match(call.id, /^chatcmpl-tool-[0-9a-f]{16}$/);
      assert.equal(call.type, 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.ok(validWeather(JSON.parse(call.function.arguments)), call.function.arguments);
    }
  });

  it('named, streamed: id, type and name first, then argument fragments; one finish chunk', async () => {
    const body = {
      tools: [WEATHER],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      seed: 7,
    };
    const whole = await choiceOf(body);
    const stream = (await client.chat.completions.create({
      ...body,
      model: 'tiny',
      messages,
      temperature: 1,
      max_tokens: 400,
      stream: true,
    } as never)) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
    let args = '';
    let first: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall | null = null;
    const finishes: string[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0]!;
      assert.ok(
        choice.delta.content === undefined ||
          choice.delta.content === '' ||
          choice.delta.content === null,
      );
      for (const delta of choice.delta.tool_calls ?? []) {
        if (first === null) {
          first = delta;
          assert.equal(delta.type, 'function');
          assert.equal(delta.function?.name, 'get_weather');
          assert.ok(delta.id);
        } else {
          assert.equal(delta.id, undefined);
          assert.equal(delta.function?.name, undefined);
        }
        assert.equal(delta.index, 0);
        args += delta.function?.arguments ?? '';
      }
      if (choice.finish_reason !== null) finishes.push(choice.finish_reason);
    }
    assert.deepEqual(finishes, ['stop']);
    assert.equal(
      args,
      whole.message.tool_calls[0]!.function.arguments,
      'same seed, same arguments',
    );
  });

  it('required: calls of the given tools, finish tool_calls; parallel_tool_calls false keeps one', async () => {
    let calls = 0;
    for (let seed = 0; seed < 5; seed++) {
      const choice = await choiceOf({
        tools: [WEATHER, TIME],
        tool_choice: 'required',
        seed,
        max_tokens: 800,
      });
      if (choice.finish_reason === 'length') continue;
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.content, '');
      assert.ok(choice.message.tool_calls.length >= 1);
      for (const call of choice.message.tool_calls) {
        const args = JSON.parse(call.function.arguments) as unknown;
        const valid = call.function.name === 'get_weather' ? validWeather(args) : validTime(args);
        assert.ok(valid, `${call.function.name} ${call.function.arguments}`);
        calls++;
      }
      const single = await choiceOf({
        tools: [WEATHER, TIME],
        tool_choice: 'required',
        seed,
        max_tokens: 800,
        parallel_tool_calls: false,
      });
      assert.equal(single.message.tool_calls.length, 1);
      assert.deepEqual(
        single.message.tool_calls[0]!.function,
        choice.message.tool_calls[0]!.function,
      );
    }
    assert.ok(calls >= 3, `${calls} calls completed`);
  });

  it('auto: the hermes parser turns <tool_call> blocks into calls and keeps the rest as content', async () => {
    const regex =
      'Sure\\. <tool_call>\\{"name": "get_weather", "arguments": \\{"city": "[A-Z][a-z]{2,8}", "unit": "celsius"\\}\\}</tool_call>';
    const choice = await choiceOf({ tools: [WEATHER], structured_outputs: { regex }, seed: 1 });
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, 'Sure. ');
    assert.equal(choice.message.tool_calls.length, 1);
    const args = JSON.parse(choice.message.tool_calls[0]!.function.arguments) as {
      city: string;
      unit: string;
    };
    assert.match(args.city, /^[A-Z][a-z]{2,8}$/);
    assert.equal(args.unit, 'celsius');
    const free = await choiceOf({
      tools: [WEATHER],
      structured_outputs: { regex: 'No tools needed\\.' },
    });
    assert.equal(free.message.content, 'No tools needed.');
    assert.deepEqual(free.message.tool_calls, []);
    assert.equal(free.finish_reason, 'stop');
  });

  it('auto, streamed: no markup in content; the call arrives as deltas; finish tool_calls', async () => {
    const regex =
      'Sure\\. <tool_call>\\{"name": "get_weather", "arguments": \\{"city": "[A-Z][a-z]{2,8}", "unit": "celsius"\\}\\}</tool_call>';
    const body = { tools: [WEATHER], structured_outputs: { regex }, seed: 2 };
    const whole = await choiceOf(body);
    const stream = (await client.chat.completions.create({
      ...body,
      model: 'tiny',
      messages,
      temperature: 1,
      max_tokens: 400,
      stream: true,
    } as never)) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
    let content = '';
    let args = '';
    const names: string[] = [];
    const finishes: string[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0]!;
      content += choice.delta.content ?? '';
      for (const delta of choice.delta.tool_calls ?? []) {
        if (delta.function?.name !== undefined) names.push(delta.function.name);
        args += delta.function?.arguments ?? '';
      }
      if (choice.finish_reason !== null) finishes.push(choice.finish_reason);
    }
    assert.equal(content, 'Sure. ');
    assert.deepEqual(names, ['get_weather']);
    assert.deepEqual(JSON.parse(args), JSON.parse(whole.message.tool_calls[0]!.function.arguments));
    assert.deepEqual(finishes, ['tool_calls']);
  });

  it("the official client's chat.completions.parse with a zod schema", async () => {
    const Answer = z.object({
      answer: z.enum(['yes', 'no']),
      score: z.number().int().min(1).max(5),
    });
    for (let seed = 0; seed < 3; seed++) {
      const completion = await client.chat.completions.parse({
        model: 'tiny',
        messages,
        temperature: 1,
        seed,
        max_tokens: 200,
        response_format: zodResponseFormat(Answer, 'answer'),
      });
      const parsed = completion.choices[0]!.message.parsed;
      assert.ok(parsed !== null);
      assert.ok(['yes', 'no'].includes(parsed.answer) && parsed.score >= 1 && parsed.score <= 5);
    }
  });

  it("the official client's runTools helper calls the function with parsed arguments", async () => {
    const seen: { city: string; unit: string }[] = [];
    const runner = client.chat.completions.runTools({
      model: 'tiny',
      messages,
      temperature: 1,
      max_tokens: 300,
      tools: [
        zodFunction({
          name: 'get_weather',
          parameters: z.object({
            city: z.string().max(12),
            unit: z.enum(['celsius', 'fahrenheit']),
          }),
          function: (args) => {
            seen.push(args);
            return { temperature: 21 };
          },
        }),
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    await runner.done();
    assert.equal(seen.length, 1);
    assert.ok(['celsius', 'fahrenheit'].includes(seen[0]!.unit));
    const last = runner.messages.at(-1) as { role: string; content: string };
    assert.equal(last.role, 'tool');
    assert.equal(last.content, '{"temperature":21}');
  });

  it("without the flags: vLLM's 400s for auto, required and named", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { tools: [WEATHER] },
        /^"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set$/,
      ],
      [
        { tools: [WEATHER], tool_choice: 'required' },
        /^tool_choice="required" requires --tool-call-parser to be set$/,
      ],
      [
        { tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } },
        /requires --tool-call-parser to be set$/,
      ],
    ];
    for (const [body, message] of cases) {
      const { status, json } = await chat(plain, body);
      assert.equal(status, 400);
      assert.match((json.error as { message: string }).message, message);
    }
    const none = await chat(plain, { tools: [WEATHER], tool_choice: 'none', max_tokens: 5 });
    assert.equal(none.status, 200);
  });
});
