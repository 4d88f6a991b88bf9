import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStreaming, counterIds, parseResult } from '../../testing/tool-stream-checks.ts';
import { mistralToolParser } from './mistral.ts';

const parser = (): ReturnType<typeof mistralToolParser> =>
  mistralToolParser({ newId: counterIds() });

const MARKUP = ['[TOOL_CALLS]', '[ARGS]', '[CALL_ID]'];

interface Case {
  readonly name: string;
  readonly text: string;
  readonly content: string | null;
  readonly calls: readonly (readonly [string, string])[];
  /** The text holds a section that is not a call: its markup stays in content. */
  readonly markupIsContent?: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'no call',
    text: 'Bonjour ! Il fait beau à Paris.',
    content: 'Bonjour ! Il fait beau à Paris.',
    calls: [],
  },
  {
    name: 'v3: a JSON array after [TOOL_CALLS], as Mistral 7B v0.3 writes it',
    text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}]',
    content: null,
    calls: [['get_weather', '{"city":"Paris","unit":"celsius"}']],
  },
  {
    name: 'v3: several calls with ids, content before them',
    text: 'Let me look.[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Zürich"}, "id": "abcDEF123"}, {"name": "get_weather", "arguments": {"city": "Bern"}, "id": "xyzXYZ789"}]',
    content: 'Let me look.',
    calls: [
      ['get_weather', '{"city":"Zürich"}'],
      ['get_weather', '{"city":"Bern"}'],
    ],
  },
  {
    name: 'a lone object instead of an array',
    text: '[TOOL_CALLS] {"name": "now", "arguments": {}}',
    content: null,
    calls: [['now', '{}']],
  },
  {
    name: 'v11 (old vLLM reading): name{args}',
    text: '[TOOL_CALLS]add{"a": 3.5, "b": 4}',
    content: null,
    calls: [['add', '{"a":3.5,"b":4}']],
  },
  {
    name: 'v11: name[CALL_ID]id[ARGS]{args}, one [TOOL_CALLS] per call',
    text: '[TOOL_CALLS]get_weather[CALL_ID]abcDEF123[ARGS]{"city": "Zürich"}[TOOL_CALLS]get_weather[CALL_ID]xyzXYZ789[ARGS]{"city": "Bern"}',
    content: null,
    calls: [
      ['get_weather', '{"city":"Zürich"}'],
      ['get_weather', '{"city":"Bern"}'],
    ],
  },
  {
    name: 'v13: name[ARGS]{args}, unicode, escaped quotes and nesting',
    text: 'Sure.[TOOL_CALLS]get_weather[ARGS]{"city": "Zürich", "unit": "c"}[TOOL_CALLS]search[ARGS]{"query": "café \\"best\\"", "filters": {"tags": ["a", "b"], "max": 3}}',
    content: 'Sure.',
    calls: [
      ['get_weather', '{"city":"Zürich","unit":"c"}'],
      ['search', '{"query":"café \\"best\\"","filters":{"tags":["a","b"],"max":3}}'],
    ],
  },
  {
    name: 'text after the calls is dropped',
    text: '[TOOL_CALLS]now[ARGS]{}\nI will wait for the result.',
    content: null,
    calls: [['now', '{}']],
  },
  {
    name: 'malformed JSON before a call is known: the section is content',
    text: 'Hmm [TOOL_CALLS] [{name: "f"}]',
    content: 'Hmm [TOOL_CALLS] [{name: "f"}]',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'malformed JSON after the call was announced: closed where it broke',
    text: '[TOOL_CALLS]f[ARGS]{"a": [1, 2}, "b": 3}',
    content: null,
    calls: [['f', '{"a":[1,2]}']],
  },
  {
    name: 'a broken second array item ends the calls',
    text: '[TOOL_CALLS] [{"name": "a", "arguments": {"x": "y"}}, {"oops"}]',
    content: null,
    calls: [['a', '{"x":"y"}']],
  },
  {
    name: 'cut off inside the arguments',
    text: '[TOOL_CALLS] [{"name": "write", "arguments": {"text": "Hello\\nWor',
    content: null,
    calls: [['write', '{"text":"Hello\\nWor"}']],
  },
  {
    name: 'cut off between the name and the arguments',
    text: '[TOOL_CALLS]get_time[ARGS]',
    content: null,
    calls: [['get_time', '{}']],
  },
  {
    name: 'cut off inside the name: not a call',
    text: 'Wait [TOOL_CALLS]get_ti',
    content: 'Wait [TOOL_CALLS]get_ti',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'an empty array is not a call',
    text: '[TOOL_CALLS][]',
    content: '[TOOL_CALLS][]',
    calls: [],
    markupIsContent: true,
  },
  {
    name: 'brackets that only look like the marker',
    text: 'Use [TOOL] or [TOOL_CALL] or [TOOL_CALLS',
    content: 'Use [TOOL] or [TOOL_CALL] or [TOOL_CALLS',
    calls: [],
  },
];

describe('mistral tool parser', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      assert.deepEqual(
        parser().parse(testCase.text),
        parseResult(testCase.content, testCase.calls),
      );
      checkStreaming(parser(), testCase.text, testCase.markupIsContent === true ? [] : MARKUP);
    });
  }

  it('uses 9-character alphanumeric ids and needs special tokens', () => {
    const parsed = mistralToolParser().parse('[TOOL_CALLS]a{}[TOOL_CALLS]b{}');
    assert.equal(parsed.toolCalls.length, 2);
    for (const call of parsed.toolCalls) assert.match(call.id, /^[A-Za-z0-9]{9}$/);
    assert.equal(mistralToolParser().needsSpecialTokens, true);
  });
});
