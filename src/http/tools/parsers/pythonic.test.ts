import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStreaming, counterIds, parseResult } from '../../testing/tool-stream-checks.ts';
import { pythonicToolParser } from './pythonic.ts';

const parser = (): ReturnType<typeof pythonicToolParser> =>
  pythonicToolParser({ newId: counterIds() });

/** Call syntax that must never reach content when the output is a call list. */
const MARKUP = ['(', '=', '['];

interface Case {
  readonly name: string;
  readonly text: string;
  readonly content: string | null;
  readonly calls: readonly (readonly [string, string])[];
  /** The output is not a call list: it is all content. */
  readonly isContent?: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'no call',
    text: 'It is sunny in Paris (21 °C).',
    content: 'It is sunny in Paris (21 °C).',
    calls: [],
    isContent: true,
  },
  {
    name: 'one call',
    text: '[get_weather(city="Paris", days=3)]',
    content: null,
    calls: [['get_weather', '{"city":"Paris","days":3}']],
  },
  {
    name: 'several calls, one without arguments, whitespace and trailing commas',
    text: ' [get_weather(city="Paris", unit=\'celsius\',),\n now( ), convert( amount = 10 ,to="EUR")]',
    content: null,
    calls: [
      ['get_weather', '{"city":"Paris","unit":"celsius"}'],
      ['now', '{}'],
      ['convert', '{"amount":10,"to":"EUR"}'],
    ],
  },
  {
    name: 'strings: both quotes, escapes, raw, triple-quoted, unicode',
    text:
      "[send(a='it\\'s', b=\"say \\\"hi\\\"\", c=r'\\d+\\.', d='''two\nlines \"q\"''', " +
      'e="\\x41\\u00e9\\U0001F600\\101\\t", f="Привет 🌍", g=\'\')]',
    content: null,
    calls: [
      [
        'send',
        '{"a":"it\'s","b":"say \\"hi\\"","c":"\\\\d+\\\\.","d":"two\\nlines \\"q\\"",' +
          '"e":"Aé😀A\\t","f":"Привет 🌍","g":""}',
      ],
    ],
  },
  {
    name: 'numbers, booleans and None',
    text: '[f(a=-1.5e3, b=0x1F, c=1_000, d=.5, e=5., f=True, g=False, h=None, i=+7, j=0)]',
    content: null,
    calls: [
      ['f', '{"a":-1.5e3,"b":31,"c":1000,"d":0.5,"e":5.0,"f":true,"g":false,"h":null,"i":7,"j":0}'],
    ],
  },
  {
    name: 'nested lists and dicts, non-string keys',
    text: '[book(guests=[{"name": "Ann", "age": 31}, {"name": "Bo", "tags": [None, [1, 2,],]}], rooms={1: "single", True: \'yes\'},)]',
    content: null,
    calls: [
      [
        'book',
        '{"guests":[{"name":"Ann","age":31},{"name":"Bo","tags":[null,[1,2]]}],"rooms":{"1":"single","true":"yes"}}',
      ],
    ],
  },
  {
    name: 'text after the list is dropped',
    text: '[now()]\nDone.',
    content: null,
    calls: [['now', '{}']],
  },
  {
    name: 'a list that is not calls is content',
    text: '[1, 2, 3]',
    content: '[1, 2, 3]',
    calls: [],
    isContent: true,
  },
  {
    name: 'a comprehension (positional argument before any keyword) is content',
    text: '[print(x) for x in range(3)]',
    content: '[print(x) for x in range(3)]',
    calls: [],
    isContent: true,
  },
  {
    name: 'an empty list is content',
    text: '[]',
    content: '[]',
    calls: [],
    isContent: true,
  },
  {
    name: 'a malformed value after the call was announced: closed where it broke',
    text: '[f(a=1, b=[2, 3}, c=4)]',
    content: null,
    calls: [['f', '{"a":1,"b":[2,3]}']],
  },
  {
    name: 'a positional argument after a keyword ends the calls',
    text: '[f(a="x", 2), g()]',
    content: null,
    calls: [['f', '{"a":"x"}']],
  },
  {
    name: 'an unknown name as a value ends the calls',
    text: '[f(a=x)]',
    content: null,
    calls: [['f', '{"a":null}']],
  },
  {
    name: 'cut off inside a string',
    text: '[search(query="best cafés in Par',
    content: null,
    calls: [['search', '{"query":"best cafés in Par"}']],
  },
  {
    name: 'cut off inside a nested list and a number',
    text: '[f(a=1), g(b=[1, 2',
    content: null,
    calls: [
      ['f', '{"a":1}'],
      ['g', '{"b":[1,2]}'],
    ],
  },
  {
    name: 'cut off after a keyword',
    text: '[f(a=',
    content: null,
    calls: [['f', '{"a":null}']],
  },
  {
    name: 'cut off before any call was certain is content',
    text: '[get_weather(ci',
    content: '[get_weather(ci',
    calls: [],
    isContent: true,
  },
];

describe('pythonic tool parser', () => {
  for (const testCase of CASES) {
    it(testCase.name, () => {
      assert.deepEqual(
        parser().parse(testCase.text),
        parseResult(testCase.content, testCase.calls),
      );
      checkStreaming(parser(), testCase.text, testCase.isContent === true ? [] : MARKUP);
    });
  }

  it('announces a call at its first keyword and streams converted values', () => {
    const stream = parser().stream();
    assert.deepEqual(stream.push('[get_weather(ci'), { content: '', toolCalls: [] });
    assert.deepEqual(stream.push("ty='Par"), {
      content: '',
      toolCalls: [
        {
          index: 0,
          id: 'call_0',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Par' },
        },
      ],
    });
    assert.deepEqual(stream.push("is', days=1"), {
      content: '',
      toolCalls: [{ index: 0, function: { arguments: 'is","days":' } }],
    });
    assert.deepEqual(stream.push('0)]'), {
      content: '',
      toolCalls: [{ index: 0, function: { arguments: '10}' } }],
    });
  });
});
