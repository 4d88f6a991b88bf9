/**
 * Tool-aware chat templates (test/data/chat-templates) rendered through ChatTemplate with the
 * messages a chat request carries: tools, an assistant tool call (arguments decoded from JSON
 * by toTemplateMessages) and tool results. The expected prompts were written from the templates
 * and Hugging Face's `tojson` (Python json.dumps, ", " and ": " separators, non-ASCII kept). The
 * model turns each template writes must also read back as the same call through the parser of
 * that family.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { toTemplateMessages } from '../src/http/chat/chat-messages.ts';
import { ChatTemplate, type SpecialTokenStrings } from '../src/http/chat/chat-template.ts';
import { BadRequestError } from '../src/http/errors.ts';
import { chatMessageSchema, toolSchema } from '../src/http/schemas/chat-request.ts';
import { toolCallParser } from '../src/http/tools/tool-parsers.ts';

function loadTemplate(file: string, specials: SpecialTokenStrings): ChatTemplate {
  const url = new URL(`data/chat-templates/${file}`, import.meta.url);
  return new ChatTemplate(readFileSync(url, 'utf8'), specials);
}

const TOOLS = z.array(toolSchema).parse([
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, days: { type: 'integer' } },
        required: ['city'],
      },
    },
  },
]);

/** TOOLS[0] through `tojson`. */
const TOOL_JSON =
  '{"type": "function", "function": {"name": "get_weather", "description": "Get the current ' +
  'weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": ' +
  '"string"}, "days": {"type": "integer"}}, "required": ["city"]}}}';

/** One tool call and its result, with a system message. */
const ONE_CALL = z.array(chatMessageSchema).parse([
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Weather in Zürich for 2 days?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'abcDEF123',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city": "Zürich", "days": 2}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'abcDEF123', content: '{"temperature": 21, "sky": "clear"}' },
]);

/** Two parallel calls with content, their results, an answer and a new question. */
const PARALLEL = z.array(chatMessageSchema).parse([
  { role: 'user', content: 'Compare Paris and Tokyo.' },
  {
    role: 'assistant',
    content: 'Checking both.',
    tool_calls: [
      {
        id: 'callParis',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
      {
        id: 'callTokyo',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'callParis', content: '21' },
  { role: 'tool', tool_call_id: 'callTokyo', content: [{ type: 'text', text: '18' }] },
  { role: 'assistant', content: 'Paris is warmer.' },
  { role: 'user', content: 'Thanks!' },
]);

function render(template: ChatTemplate, messages: typeof ONE_CALL): string {
  return template.render({
    messages: toTemplateMessages(messages, template.contentFormat),
    addGenerationPrompt: true,
    continueFinalMessage: false,
    tools: TOOLS,
    documents: null,
    kwargs: {},
  });
}

/** The first model turn matching `turn` in a prompt, read back by the family's parser. */
function readBack(prompt: string, turn: RegExp, parserName: string): unknown {
  const text = turn.exec(prompt)?.[1];
  assert.ok(text !== undefined, `no model turn in ${prompt}`);
  const parsed = toolCallParser(parserName)?.parse(text);
  return parsed?.toolCalls.map((call): unknown[] => [call.name, JSON.parse(call.arguments)]);
}

describe('Qwen 2.5 Instruct template (hermes format)', () => {
  const template = loadTemplate('qwen2.5-instruct.jinja', {
    bos_token: '',
    eos_token: '<|im_end|>',
  });
  const tools =
    '# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
    'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
    `${TOOL_JSON}\n</tools>\n\nFor each function call, return a json object with function ` +
    'name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n' +
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n';

  it('renders tools in the system turn, the call as a <tool_call> block, the result as user', () => {
    const prompt = render(template, ONE_CALL);
    assert.equal(
      prompt,
      `<|im_start|>system\nBe brief.\n\n${tools}` +
        '<|im_start|>user\nWeather in Zürich for 2 days?<|im_end|>\n' +
        '<|im_start|>assistant\n<tool_call>\n' +
        '{"name": "get_weather", "arguments": {"city": "Zürich", "days": 2}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n{"temperature": 21, "sky": "clear"}\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
    assert.deepEqual(readBack(prompt, /<\|im_start\|>assistant\n(.*?)<\|im_end\|>/s, 'hermes'), [
      ['get_weather', { city: 'Zürich', days: 2 }],
    ]);
  });

  it('groups consecutive tool results into one user turn; default system prompt', () => {
    assert.equal(
      render(template, PARALLEL),
      `<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n${tools}` +
        '<|im_start|>user\nCompare Paris and Tokyo.<|im_end|>\n' +
        '<|im_start|>assistant\nChecking both.' +
        '\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' +
        '\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n21\n</tool_response>\n<tool_response>\n18\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\nParis is warmer.<|im_end|>\n' +
        '<|im_start|>user\nThanks!<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });
});

describe('Mistral 7B Instruct v0.3 template (mistral format)', () => {
  const template = loadTemplate('mistral-7b-instruct-v0.3.jinja', {
    bos_token: '<s>',
    eos_token: '</s>',
  });
  const availableTools =
    '[AVAILABLE_TOOLS] [{"type": "function", "function": {"name": "get_weather", "description": ' +
    '"Get the current weather for a city", "parameters": {"type": "object", "properties": ' +
    '{"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}]' +
    '[/AVAILABLE_TOOLS]';

  it('renders tools before the last user turn, the call with its id, the result with call_id', () => {
    const prompt = render(template, ONE_CALL);
    // The system message is only merged into the last user turn, which this one is not.
    assert.equal(
      prompt,
      `<s>${availableTools}[INST] Weather in Zürich for 2 days?[/INST]` +
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Zürich", "days": 2}, "id": "abcDEF123"}]</s>' +
        '[TOOL_RESULTS] {"content": {"temperature": 21, "sky": "clear"}, "call_id": "abcDEF123"}[/TOOL_RESULTS]',
    );
    assert.deepEqual(readBack(prompt, /\[\/INST\](.*?)<\/s>/s, 'mistral'), [
      ['get_weather', { city: 'Zürich', days: 2 }],
    ]);
  });

  it('renders parallel calls in one array and tools before the newest user turn', () => {
    assert.equal(
      render(template, PARALLEL),
      '<s>[INST] Compare Paris and Tokyo.[/INST]' +
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "callParis"}, ' +
        '{"name": "get_weather", "arguments": {"city": "Tokyo"}, "id": "callTokyo"}]</s>' +
        '[TOOL_RESULTS] {"content": 21, "call_id": "callParis"}[/TOOL_RESULTS]' +
        '[TOOL_RESULTS] {"content": 18, "call_id": "callTokyo"}[/TOOL_RESULTS]' +
        ` Paris is warmer.</s>${availableTools}[INST] Thanks![/INST]`,
    );
  });

  it("refuses OpenAI-style tool-call ids, as Mistral's template does", () => {
    const messages = z.array(chatMessageSchema).parse([
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        tool_calls: [{ id: 'call_1', function: { name: 'get_weather', arguments: '{}' } }],
      },
    ]);
    assert.throws(
      () => render(template, messages),
      (error: unknown) =>
        error instanceof BadRequestError &&
        error.message.includes('Tool call IDs should be alphanumeric strings with length 9!'),
    );
  });
});

describe('Hermes tool-use template (hermes format)', () => {
  const template = loadTemplate('hermes-tool-use.jinja', {
    bos_token: '<s>',
    eos_token: '<|im_end|>',
  });
  const system = (prefix: string): string =>
    `<|im_start|>system\n${prefix}You are a function calling AI model. Function signatures are ` +
    'given within <tools></tools> XML tags; you may call one or more of them to help with the ' +
    `user query. Do not guess values for arguments.\n<tools>\n${TOOL_JSON}\n</tools>\n` +
    'For each call, return a JSON object with the function name and arguments within ' +
    '<tool_call></tool_call> XML tags:\n<tool_call>\n' +
    '{"name": <function-name>, "arguments": <args-dict>}\n</tool_call><|im_end|>\n';

  it('renders the call as a <tool_call> block and the result in a tool turn', () => {
    const prompt = render(template, ONE_CALL);
    assert.equal(
      prompt,
      `<s>${system('Be brief.\n\n')}` +
        '<|im_start|>user\nWeather in Zürich for 2 days?<|im_end|>\n' +
        '<|im_start|>assistant\n<tool_call>\n' +
        '{"name": "get_weather", "arguments": {"city": "Zürich", "days": 2}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>tool\n<tool_response>\n' +
        '{"tool_call_id": "abcDEF123", "content": "{\\"temperature\\": 21, \\"sky\\": \\"clear\\"}"}' +
        '\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
    assert.deepEqual(readBack(prompt, /<\|im_start\|>assistant\n(.*?)<\|im_end\|>/s, 'hermes'), [
      ['get_weather', { city: 'Zürich', days: 2 }],
    ]);
  });

  it('renders content and parallel calls in one assistant turn', () => {
    const prompt = render(template, PARALLEL);
    assert.equal(
      prompt,
      `<s>${system('')}` +
        '<|im_start|>user\nCompare Paris and Tokyo.<|im_end|>\n' +
        '<|im_start|>assistant\nChecking both.\n' +
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n' +
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>tool\n<tool_response>\n{"tool_call_id": "callParis", "content": "21"}\n</tool_response><|im_end|>\n' +
        '<|im_start|>tool\n<tool_response>\n{"tool_call_id": "callTokyo", "content": "18"}\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\nParis is warmer.<|im_end|>\n' +
        '<|im_start|>user\nThanks!<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
    const parsed = toolCallParser('hermes')?.parse(
      /<\|im_start\|>assistant\n(.*?)<\|im_end\|>/s.exec(prompt)?.[1] ?? '',
    );
    assert.equal(parsed?.content, 'Checking both.\n');
    assert.deepEqual(
      parsed?.toolCalls.map((call) => call.arguments),
      ['{"city":"Paris"}', '{"city":"Tokyo"}'],
    );
  });
});

describe('Llama 3.1 JSON tool-calling template (llama3_json format)', () => {
  const template = loadTemplate('llama3.1-json-tools.jinja', {
    bos_token: '<|begin_of_text|>',
    eos_token: '<|eot_id|>',
  });
  const toolIndented = [
    '{',
    '    "type": "function",',
    '    "function": {',
    '        "name": "get_weather",',
    '        "description": "Get the current weather for a city",',
    '        "parameters": {',
    '            "type": "object",',
    '            "properties": {',
    '                "city": {',
    '                    "type": "string"',
    '                },',
    '                "days": {',
    '                    "type": "integer"',
    '                }',
    '            },',
    '            "required": [',
    '                "city"',
    '            ]',
    '        }',
    '    }',
    '}',
  ].join('\n');

  it('renders tools in the first user turn, the call as JSON, the result as ipython', () => {
    const prompt = render(template, ONE_CALL);
    assert.equal(
      prompt,
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
        'Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n' +
        'Be brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\n' +
        'You can call the functions below. To call one, answer with only a JSON object ' +
        '{"name": <function name>, "parameters": <object of argument names and values>}.\n\n' +
        `${toolIndented}\n\nWeather in Zürich for 2 days?<|eot_id|>` +
        '<|start_header_id|>assistant<|end_header_id|>\n\n' +
        '{"name": "get_weather", "parameters": {"city": "Zürich", "days": 2}}<|eot_id|>' +
        '<|start_header_id|>ipython<|end_header_id|>\n\n{"temperature": 21, "sky": "clear"}<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    const turn = /<\|start_header_id\|>assistant<\|end_header_id\|>\n\n(.+?)<\|eot_id\|>/s;
    assert.deepEqual(readBack(prompt, turn, 'llama3_json'), [
      ['get_weather', { city: 'Zürich', days: 2 }],
    ]);
  });

  it('refuses parallel calls, which Llama 3.1 does not support', () => {
    assert.throws(
      () => render(template, PARALLEL),
      (error: unknown) =>
        error instanceof BadRequestError && error.message.includes('one tool call per assistant'),
    );
  });
});
