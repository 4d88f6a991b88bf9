import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStreaming, counterIds, parseResult } from '../../testing/tool-stream-checks.ts';
import { llama3JsonToolParser } from './llama3-json.ts';

const parser = (): ReturnType<typeof llama3JsonToolParser> =>
  llama3JsonToolParser({ newId: counterIds() });

const MARKUP = ['<|python_tag|>', '"name"'];

interface Case {
  readonly name: string;
  readonly text: string;
  readonly content: string | null;
  readonly calls: readonly (readonly [string, string])[];
  /** The output is not calls: it is all content, markup included. */
  readonly markupIsContent?: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'no call',
    text: 'Paris is the capital of France.',
    content: 'Paris is the capital of France.',
    calls: [],
  },
  {
    name: 'one call with "parameters", as Llama 3.1 writes it',
    text: '{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}',
    content: null,
    calls: [['get_weather', '{"city":"Paris","unit":"celsius"}']],
  },
  {
    name: 'after <|python_tag|>, with "arguments"',
    text: '<|python_tag|>{"name": "get_weather", "arguments": {"city": "Paris"}}',
    content: null,
    calls: [['get_weather', '{"city":"Paris"}']],
  },
  {
    name: 'several calls separated by semicolons, leading whitespace',
    text: '\n {"name": "a", "parameters": {"x": 1}}; {"name": "b", "parameters": {"y": [true, null]}};{"name": "c", "parameters": {}}',
    content: null,
    calls: [
      ['a', '{"x":1}'],
      ['b', '{"y":[true,null]}'],
      ['c', '{}'],
    ],
  },
  {
    name: 'unicode, escaped quotes and nested objects',
    text: '{"name": "note", "parameters": {"title": "Café \\"Le Zinc\\" ☕", "meta": {"tags": ["a", {"k": -0.5e+2}]}}}',
    content: null,
    calls: [['note', '{"title":"Café \\"Le Zinc\\" ☕","meta":{"tags":["a",{"k":-0.5e+2}]}}']],
  },
  {
    name: 'JSON that is not a call (no name/parameters) is content',
    text: '{"name": "Alice", "age": 30}',
    content: '{"name": "Alice", "age": 30}',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'malformed JSON before the call is known: the whole output is content',
    text: '{"name": "get_weather", parameters: {}}',
    content: '{"name": "get_weather", parameters: {}}',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'malformed JSON after the call was announced: closed where it broke, rest dropped',
    text: '{"name": "f", "parameters": {"a": "x", "b" 2}}; {"name": "g", "parameters": {}}',
    content: null,
    calls: [['f', '{"a":"x","b":null}']],
  },
  {
    name: 'text after the calls is dropped',
    text: '{"name": "f", "parameters": {"a": 1}}\n\nI have called the tool.',
    content: null,
    calls: [['f', '{"a":1}']],
  },
  {
    name: 'a second object that is not a call ends the calls',
    text: '{"name": "f", "parameters": {}}; {"result": 42}',
    content: null,
    calls: [['f', '{}']],
  },
  {
    name: 'cut off inside the arguments',
    text: '<|python_tag|>{"name": "search", "parameters": {"query": "best cafés in Par',
    content: null,
    calls: [['search', '{"query":"best cafés in Par"}']],
  },
  {
    name: 'cut off before the parameters began: not a call',
    text: '{"name": "search", "param',
    content: '{"name": "search", "param',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'a built-in tool call (not JSON) after the tag is content',
    text: '<|python_tag|>brave_search.call(query="weather")',
    content: '<|python_tag|>brave_search.call(query="weather")',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'text starting like the tag but not it',
    text: '<|python is a snake',
    content: '<|python is a snake',
    calls: [],
  },
  {
    name: 'only whitespace',
    text: '  \n',
    content: '  \n',
    calls: [],
  },
];

describe('llama3_json tool parser', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      assert.deepEqual(
        parser().parse(testCase.text),
        parseResult(testCase.content, testCase.calls),
      );
      checkStreaming(parser(), testCase.text, testCase.markupIsContent === true ? [] : MARKUP);
    });
  }

  it('streams content at once when the output does not start like a call', () => {
    const stream = parser().stream();
    assert.deepEqual(stream.push('  '), { content: '', toolCalls: [] });
    assert.deepEqual(stream.push('Hello'), { content: '  Hello', toolCalls: [] });
    assert.deepEqual(stream.push(' {"name"'), { content: ' {"name"', toolCalls: [] });
  });

  it("is also registered under vLLM's second name", () => {
    assert.equal(llama3JsonToolParser({}, 'llama4_json').name, 'llama4_json');
  });
});
