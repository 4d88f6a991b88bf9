import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStreaming, counterIds, parseResult } from '../../testing/tool-stream-checks.ts';
import { hermesToolParser } from './hermes.ts';

const parser = (): ReturnType<typeof hermesToolParser> => hermesToolParser({ newId: counterIds() });

const MARKUP = ['<tool_call>', '</tool_call>'];

interface Case {
  readonly name: string;
  readonly text: string;
  readonly content: string | null;
  readonly calls: readonly (readonly [string, string])[];
  /** The text holds a block that is not a call: its markup stays in content. */
  readonly markupIsContent?: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'no call',
    text: 'The weather in Paris is sunny, 21 °C.',
    content: 'The weather in Paris is sunny, 21 °C.',
    calls: [],
  },
  {
    name: 'one call as Qwen 2.5 writes it',
    text: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>',
    content: null,
    calls: [['get_weather', '{"city":"Paris","unit":"celsius"}']],
  },
  {
    name: 'content before the calls, several calls, text after them dropped',
    text:
      'Let me check both cities.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n' +
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo", "days": 3}}\n</tool_call>\nDone.',
    content: 'Let me check both cities.\n',
    calls: [
      ['get_weather', '{"city":"Paris"}'],
      ['get_weather', '{"city":"Tokyo","days":3}'],
    ],
  },
  {
    name: 'unicode, escaped quotes and escapes in arguments',
    text: '<tool_call>{"name": "send", "arguments": {"text": "Привет, \\"мир\\" 🌍", "smile": "\\ud83d\\ude00", "path": "C:\\\\tmp\\n"}}</tool_call>',
    content: null,
    calls: [
      ['send', '{"text":"Привет, \\"мир\\" 🌍","smile":"\\ud83d\\ude00","path":"C:\\\\tmp\\n"}'],
    ],
  },
  {
    name: 'nested objects, arrays, numbers, booleans and null',
    text: '<tool_call>{"name": "search", "arguments": {"filter": {"range": {"min": -1, "max": [2, 3.5e-2]}, "tags": []}, "exact": false, "cursor": null}}</tool_call>',
    content: null,
    calls: [
      [
        'search',
        '{"filter":{"range":{"min":-1,"max":[2,3.5e-2]},"tags":[]},"exact":false,"cursor":null}',
      ],
    ],
  },
  {
    name: 'arguments before the name, extra keys skipped',
    text: '<tool_call>{"arguments": {"q": "x"}, "id": 7, "name": "lookup"}</tool_call>',
    content: null,
    calls: [['lookup', '{"q":"x"}']],
  },
  {
    name: 'no arguments key means {}',
    text: '<tool_call>\n{"name": "get_time"}\n</tool_call>',
    content: null,
    calls: [['get_time', '{}']],
  },
  {
    name: 'an unterminated last block, complete JSON',
    text: 'Sure.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}',
    content: 'Sure.',
    calls: [['get_weather', '{"city":"Paris"}']],
  },
  {
    name: 'an unterminated last block, cut off inside a string',
    text: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par',
    content: null,
    calls: [['get_weather', '{"city":"Par"}']],
  },
  {
    name: 'an unterminated last block, cut off inside a number in a list',
    text: '<tool_call>{"name": "f", "arguments": {"a": [1, 2.5',
    content: null,
    calls: [['f', '{"a":[1,2.5]}']],
  },
  {
    name: 'an unterminated last block, cut off after a key (the value becomes null)',
    text: '<tool_call>{"name": "f", "arguments": {"a": true, "b": ',
    content: null,
    calls: [['f', '{"a":true,"b":null}']],
  },
  {
    name: 'an unterminated last block, cut off inside a key (the key is dropped)',
    text: '<tool_call>{"name": "f", "arguments": {"a": {"x": 1}, "lon',
    content: null,
    calls: [['f', '{"a":{"x":1}}']],
  },
  {
    name: 'a second block opened before the first was closed',
    text: '<tool_call>{"name": "a", "arguments": {}}<tool_call>{"name": "b", "arguments": {"x": 1}}</tool_call>',
    content: null,
    calls: [
      ['a', '{}'],
      ['b', '{"x":1}'],
    ],
  },
  {
    name: 'malformed JSON before the call is known: the block is content',
    text: 'Checking.\n<tool_call>\n{"name": get_weather, "arguments": {}}\n</tool_call>',
    content: 'Checking.\n<tool_call>\n{"name": get_weather, "arguments": {}}\n</tool_call>',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'malformed JSON after the call was announced: closed where it broke',
    text: '<tool_call>{"name": "f", "arguments": {"a": 1 "b": 2}}</tool_call><tool_call>{"name": "g", "arguments": {}}</tool_call>',
    content: null,
    calls: [
      ['f', '{"a":1}'],
      ['g', '{}'],
    ],
  },
  {
    name: 'a block without a name is content',
    text: '<tool_call>{"arguments": {"x": 1}}</tool_call>',
    content: '<tool_call>{"arguments": {"x": 1}}</tool_call>',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'the output stops right after the opening tag',
    text: 'One moment.<tool_call>',
    content: 'One moment.<tool_call>',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'text that only looks like the start of a tag',
    text: 'if a <tool and b < c: <tool_cal',
    content: 'if a <tool and b < c: <tool_cal',
    calls: [],
  },
  {
    name: 'a raw newline inside a string argument is accepted and escaped',
    text: '<tool_call>{"name": "write", "arguments": {"code": "a = 1\nprint(a)"}}</tool_call>',
    content: null,
    calls: [['write', '{"code":"a = 1\\nprint(a)"}']],
  },
  {
    name: 'string arguments stay a JSON string, as vLLM re-serializes them',
    text: '<tool_call>{"name": "f", "arguments": "{\\"a\\": 1}"}</tool_call>',
    content: null,
    calls: [['f', '"{\\"a\\": 1}"']],
  },
];

describe('hermes tool parser', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      assert.deepEqual(
        parser().parse(testCase.text),
        parseResult(testCase.content, testCase.calls),
      );
      checkStreaming(parser(), testCase.text, testCase.markupIsContent === true ? [] : MARKUP);
    });
  }

  it('announces a call as soon as its name and arguments begin, then streams arguments', () => {
    const stream = parser().stream();
    assert.deepEqual(stream.push('Hi <tool_'), { content: 'Hi ', toolCalls: [] });
    assert.deepEqual(stream.push('call>{"name": "f", "argu'), { content: '', toolCalls: [] });
    assert.deepEqual(stream.push('ments": {"city": "Pa'), {
      content: '',
      toolCalls: [
        {
          index: 0,
          id: 'call_0',
          type: 'function',
          function: { name: 'f', arguments: '{"city":"Pa' },
        },
      ],
    });
    assert.deepEqual(stream.push('ris", "n": 1'), {
      content: '',
      toolCalls: [{ index: 0, function: { arguments: 'ris","n":' } }],
    });
    assert.deepEqual(stream.push('2}}</tool_call>'), {
      content: '',
      toolCalls: [{ index: 0, function: { arguments: '12}' } }],
    });
    assert.deepEqual(stream.finish(), { content: '', toolCalls: [] });
  });

  it('uses vLLM ids by default and does not need special tokens', () => {
    const result = hermesToolParser().parse(
      '<tool_call>{"name": "f", "arguments": {}}</tool_call>',
    );
    assert.match(result.toolCalls[0]?.id ?? '', /^chatcmpl-tool-[0-9a-f]{16}$/);
    assert.equal(hermesToolParser().needsSpecialTokens, false);
  });
});
