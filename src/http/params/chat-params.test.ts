import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatTemplate } from '../chat/chat-template.ts';
import { RequestTemplates } from '../chat/request-templates.ts';
import { ApiError, BadRequestError } from '../errors.ts';
import { chatRequestSchema } from '../schemas/chat-request.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import { CHATML_TEMPLATE, PLAN_LIMITS, testTokenizer } from '../testing/test-app.ts';
import { toolCallParser } from '../tools/tool-parsers.ts';
import type { ToolServerSettings } from '../tools/tool-choice.ts';
import { NO_CHAT_TEMPLATE_MESSAGE, toChatPlan, type ChatPlanContext } from './chat-params.ts';

const specials = { bos_token: '<|endoftext|>', eos_token: '<|im_end|>' };
const context: ChatPlanContext = {
  tokenizer: testTokenizer(),
  vocabSize: 259,
  maxModelLen: 64,
  chatTemplate: { kind: 'ready', template: new ChatTemplate(CHATML_TEMPLATE, specials) },
  responseRole: 'assistant',
  ...PLAN_LIMITS,
};
const user = [{ role: 'user', content: 'Hi' }];
/** "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" with specials as one token each. */
const PROMPT = [257, ...Buffer.from('user\nHi'), 258, 10, 257, ...Buffer.from('assistant\n')];

function plan(body: Record<string, unknown>, planContext: ChatPlanContext = context) {
  return toChatPlan(parseRequest(chatRequestSchema, body), planContext);
}

function rejects(body: Record<string, unknown>, message: string | RegExp, param?: string | null) {
  assert.throws(
    () => plan(body),
    (error: unknown) => {
      assert.ok(error instanceof ApiError && error.status === 400, String(error));
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      if (param !== undefined) assert.equal(error.param, param);
      return true;
    },
  );
}

describe('toChatPlan', () => {
  it('renders the template and tokenizes it with specials parsed, none added', () => {
    const { requests, role, stream } = plan({ messages: user });
    assert.equal(requests.length, 1);
    assert.deepEqual(requests[0]!.promptTokens, PROMPT);
    assert.equal(role, 'assistant');
    assert.deepEqual(stream, { stream: false, includeUsage: false, continuousUsage: false });
  });

  it('fills the rest of the context by default; max_completion_tokens wins over max_tokens', () => {
    assert.equal(plan({ messages: user }).requests[0]!.params.maxTokens, 64 - PROMPT.length);
    assert.equal(plan({ messages: user, max_tokens: 5 }).requests[0]!.params.maxTokens, 5);
    const both = plan({ messages: user, max_tokens: 5, max_completion_tokens: 7 });
    assert.equal(both.requests[0]!.params.maxTokens, 7);
  });

  it('refuses what does not fit, naming the field that was sent', () => {
    rejects(
      { messages: user, max_completion_tokens: 100 },
      'max_completion_tokens=100 cannot be greater than max_model_len=max_total_tokens=64. ' +
        'Please request fewer output tokens.',
      'max_completion_tokens',
    );
    rejects(
      { messages: user, max_tokens: 64 - PROMPT.length + 1 },
      `This model's maximum context length is 64 tokens. However, you requested ${64 - PROMPT.length + 1} ` +
        `output tokens and your prompt contains ${PROMPT.length} input tokens, for a total of 65 ` +
        'tokens. Please reduce the length of the input prompt or the number of requested output tokens.',
      'input_tokens',
    );
    rejects(
      { messages: [{ role: 'user', content: 'x'.repeat(80) }] },
      /^The decoder prompt \(length \d+\) is longer/,
    );
  });

  it('answers with the last role when no generation prompt is added; honours --response-role', () => {
    const continued = plan({
      messages: [...user, { role: 'assistant', content: 'Hel' }],
      add_generation_prompt: false,
      continue_final_message: true,
    });
    assert.equal(continued.role, 'assistant');
    assert.deepEqual(continued.requests[0]!.promptTokens.slice(-3), [...Buffer.from('Hel')]);
    assert.equal(plan({ messages: user, add_generation_prompt: false }).role, 'user');
    assert.equal(plan({ messages: user }, { ...context, responseRole: 'bot' }).role, 'bot');
  });

  it("answers vLLM's message without a template, and a template's parse error as 400", () => {
    assert.throws(
      () => plan({ messages: user }, { ...context, chatTemplate: { kind: 'missing' } }),
      (error: unknown) =>
        error instanceof BadRequestError && error.message === NO_CHAT_TEMPLATE_MESSAGE,
    );
    assert.throws(
      () =>
        plan({ messages: user }, { ...context, chatTemplate: { kind: 'invalid', message: 'bad' } }),
      (error: unknown) => error instanceof BadRequestError && error.message === 'bad',
    );
  });

  it("applies vLLM's tool rules without a tool-call parser", () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: {} } }];
    rejects(
      { messages: user, tools: [] },
      'Value error, `tools` must not be an empty array. Either provide at least one tool or omit the field entirely.',
    );
    rejects(
      { messages: user, tools },
      '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
    );
    rejects(
      { messages: user, tools, tool_choice: 'required' },
      'tool_choice="required" requires --tool-call-parser to be set',
    );
    rejects(
      { messages: user, tool_choice: 'auto' },
      'Value error, When using `tool_choice`, `tools` must be set.',
    );
    rejects(
      { messages: user, tools, tool_choice: { type: 'function', function: { name: 'g' } } },
      'Value error, The tool specified in `tool_choice` does not match any of the specified `tools`',
    );
    rejects(
      { messages: user, tools, tool_choice: 'sometimes' },
      /^Value error, Invalid value for `tool_choice`: sometimes!/,
    );
    assert.equal(plan({ messages: user, tools, tool_choice: 'none' }).role, 'assistant');
  });

  it('refuses template controls vLLM refuses by default', () => {
    const untrusted =
      'Chat template is passed with request, but --trust-request-chat-template is not set. ' +
      'Refused request with untrusted chat template.';
    rejects({ messages: user, chat_template: '{{ x }}' }, untrusted, 'chat_template');
    rejects({ messages: user, chat_template: '' }, untrusted, 'chat_template');
    rejects(
      { messages: user, chat_template_kwargs: { chat_template: '{{ x }}' } },
      untrusted,
      'chat_template',
    );
    assert.deepEqual(
      plan({ messages: user, chat_template: null, chat_template_kwargs: { chat_template: null } })
        .requests[0]!.promptTokens,
      PROMPT,
      'null is no template',
    );
    rejects(
      { messages: user, continue_final_message: true },
      'Value error, Cannot set both `continue_final_message` and `add_generation_prompt` to True.',
    );
    rejects(
      { messages: user, chat_template_kwargs: { tokenize: true } },
      "Found unexpected chat template kwargs from request: ['tokenize']",
    );
  });

  it('renders the template a request brings with --trust-request-chat-template', () => {
    const trusted: ChatPlanContext = {
      ...context,
      requestTemplates: new RequestTemplates(specials),
    };
    const own = '{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}{{ flavour }}';
    const tokens = (body: Record<string, unknown>) =>
      plan({ messages: user, ...body }, trusted).requests[0]!.promptTokens;
    assert.deepEqual(tokens({ chat_template: own }), [...Buffer.from('[user:Hi]')]);
    assert.deepEqual(
      tokens({ chat_template: own, chat_template_kwargs: { flavour: '!' } }),
      [...Buffer.from('[user:Hi]!')],
      'kwargs still reach the template',
    );
    assert.deepEqual(
      tokens({ chat_template: own, chat_template_kwargs: { chat_template: '<{{ bos_token }}>' } }),
      [...Buffer.from('<'), 256, ...Buffer.from('>')],
      'chat_template_kwargs.chat_template wins, and is not a template variable',
    );
    assert.deepEqual(tokens({ chat_template: '' }), PROMPT, "an empty template: the server's");
    assert.deepEqual(tokens({}), PROMPT);
    assert.throws(
      () => plan({ messages: user, chat_template: '{% for %}' }, trusted),
      (error: unknown) =>
        error instanceof BadRequestError &&
        /^The chat template could not be parsed: /.test(error.message) &&
        error.param === 'chat_template',
    );
    assert.throws(
      () => plan({ messages: user, chat_template_kwargs: { chat_template: 5 } }, trusted),
      /`chat_template_kwargs.chat_template` must be a string./,
    );
  });

  it("echo: the last message's text leads the answer when it has the answer's role", () => {
    const prefill = [...user, { role: 'assistant', content: 'The answer' }];
    const continued = {
      messages: prefill,
      add_generation_prompt: false,
      continue_final_message: true,
    };
    const echoed = plan({ ...continued, echo: true });
    assert.equal(echoed.role, 'assistant', 'add_generation_prompt=false: the last role');
    assert.equal(echoed.echo, 'The answer');
    assert.equal(plan(continued).echo, null, 'only when asked');
    const listContent = [
      ...user,
      { role: 'assistant', content: [{ type: 'text', text: 'a' }, 'b'] },
    ];
    const joined = plan({ messages: listContent, add_generation_prompt: false, echo: true });
    assert.equal(joined.echo, 'a\nb', 'list content joined with newlines');
    assert.equal(plan({ messages: user, echo: true }).echo, null, 'user message, assistant answer');
    const custom = plan({ messages: user, add_generation_prompt: false, echo: true });
    assert.equal(custom.role, 'user');
    assert.equal(custom.echo, 'Hi');
    assert.equal(
      plan({
        messages: [{ role: 'assistant', content: '' }],
        add_generation_prompt: false,
        echo: true,
      }).echo,
      null,
      'empty content echoes nothing',
    );
    // vLLM: echo makes prompt_logprobs default to top_logprobs (0), not when streaming.
    assert.equal(echoed.requests[0]!.params.promptLogprobs, 0);
    assert.equal(plan(continued).requests[0]!.params.promptLogprobs, null);
    const top = plan({ ...continued, echo: true, logprobs: true, top_logprobs: 2 });
    assert.equal(top.requests[0]!.params.promptLogprobs, 2);
    const asked = plan({ ...continued, echo: true, prompt_logprobs: 1 });
    assert.equal(asked.requests[0]!.params.promptLogprobs, 1);
    const streamed = plan({
      ...continued,
      echo: true,
      stream: true,
      logprobs: true,
      top_logprobs: 2,
    });
    assert.equal(streamed.requests[0]!.params.promptLogprobs, null);
    assert.equal(streamed.echo, 'The answer');
  });

  it("resolves logprobs, top_logprobs and prompt_logprobs with vLLM's messages", () => {
    rejects(
      { messages: user, top_logprobs: 2 },
      'Value error, when using `top_logprobs`, `logprobs` must be set to true.',
      'top_logprobs',
    );
    rejects(
      { messages: user, top_logprobs: -2 },
      'Value error, `top_logprobs` must be a positive value or -1.',
    );
    rejects(
      { messages: user, logprobs: true, top_logprobs: 21 },
      'Requested sample logprobs of 21, which is greater than max allowed: 20',
      'top_logprobs',
    );
    rejects(
      { messages: user, logprobs: true, top_logprobs: -1 },
      'Requested sample logprobs of 259, which is greater than max allowed: 20',
      'top_logprobs',
    );
    rejects(
      { messages: user, prompt_logprobs: -1 },
      'Requested prompt logprobs of 259, which is greater than max allowed: 20',
      'prompt_logprobs',
    );
    rejects(
      { messages: user, prompt_logprobs: 1, stream: true },
      'Value error, `prompt_logprobs` are not available when `stream=True`.',
      'prompt_logprobs',
    );
    const off = plan({ messages: user, logprobs: false, top_logprobs: 0 });
    assert.equal(off.logprobs, null);
    assert.equal(off.requests[0]!.params.logprobs, null);
    const on = plan({ messages: user, logprobs: true, prompt_logprobs: 0 });
    assert.deepEqual(on.logprobs, { topCount: 0, asIds: false });
    assert.equal(on.requests[0]!.params.logprobs, 0, 'top_logprobs defaults to 0');
    assert.equal(on.requests[0]!.params.promptLogprobs, 0);
    const all = plan(
      { messages: user, logprobs: true, top_logprobs: -1, return_tokens_as_token_ids: true },
      { ...context, maxLogprobs: -1 },
    );
    assert.deepEqual(all.logprobs, { topCount: 259, asIds: true }, '-1 is the whole vocabulary');
    const serverIds = plan(
      { messages: user, logprobs: true, top_logprobs: 3 },
      { ...context, returnTokensAsTokenIds: true },
    );
    assert.deepEqual(serverIds.logprobs, { topCount: 3, asIds: true });
  });

  it('reports schema errors with the location', () => {
    rejects({ messages: [{ content: 'x' }] }, /^messages\.0\.role: /, 'messages');
    rejects({ messages: user, temperature: 'hot' }, /^temperature: /, 'temperature');
    rejects({ messages: user, seed: -(2n ** 63n) - 1n }, /greater_than_equal/, 'seed');
    rejects(
      { messages: user, reasoning_effort: 'extreme' },
      /^reasoning_effort: /,
      'reasoning_effort',
    );
  });
});

describe('toChatPlan with tools', () => {
  const tool = {
    type: 'function',
    function: { name: 'f', parameters: { type: 'object', properties: { x: { type: 'integer' } } } },
  };
  const counting = new ChatTemplate('{{ "T" if tools else "none" }}', specials);
  const hermes = toolCallParser('hermes')!;
  const withTools = (settings: Partial<ToolServerSettings>): ChatPlanContext => ({
    ...context,
    chatTemplate: { kind: 'ready', template: counting },
    tools: { autoToolChoice: true, parser: hermes, excludeToolsWhenNone: false, ...settings },
  });

  it('resolves the mode and decodes named and required choices under a grammar', () => {
    const named = plan(
      { messages: user, tools: [tool], tool_choice: { type: 'function', function: { name: 'f' } } },
      withTools({}),
    );
    assert.deepEqual(named.tools.mode, { kind: 'named', name: 'f' });
    assert.notEqual(named.requests[0]!.params.structuredOutput, null);
    const required = plan(
      { messages: user, tools: [tool], tool_choice: 'required' },
      withTools({}),
    );
    assert.deepEqual(required.tools.mode, { kind: 'required' });
    assert.notEqual(required.requests[0]!.params.structuredOutput, null);
    const auto = plan({ messages: user, tools: [tool], parallel_tool_calls: false }, withTools({}));
    assert.equal(auto.tools.mode.kind, 'auto');
    assert.equal(auto.tools.parallelToolCalls, false);
    assert.equal(auto.requests[0]!.params.structuredOutput, null);
  });

  it('--exclude-tools-when-tool-choice-none renders no tools for "none" requests only', () => {
    const prompt = (body: Record<string, unknown>, exclude: boolean) =>
      Buffer.from(
        plan(
          { messages: user, tools: [tool], ...body },
          withTools({ excludeToolsWhenNone: exclude }),
        ).requests[0]!.promptTokens,
      ).toString();
    assert.equal(prompt({ tool_choice: 'none' }, false), 'T');
    assert.equal(prompt({ tool_choice: 'none' }, true), 'none');
    assert.equal(prompt({}, true), 'T');
  });

  it("refuses tools' $defs that disagree, for required", () => {
    const a = {
      ...tool,
      function: { name: 'a', parameters: { $defs: { P: { type: 'string' } } } },
    };
    const b = {
      ...tool,
      function: { name: 'b', parameters: { $defs: { P: { type: 'integer' } } } },
    };
    assert.throws(
      () => plan({ messages: user, tools: [a, b], tool_choice: 'required' }, withTools({})),
      /^BadRequestError: Tool definition 'P' has multiple schemas, which is not supported.$/,
    );
  });
});
