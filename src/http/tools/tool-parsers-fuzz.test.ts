import { describe, it } from 'node:test';
import { checkStreaming, counterIds } from '../testing/tool-stream-checks.ts';
import { TOOL_CALL_PARSER_NAMES, toolCallParser } from './tool-parsers.ts';

/** Pieces random outputs are built from: JSON and Python syntax, and each format's markup. */
const COMMON = [
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  ':',
  ',',
  ' ',
  '\n',
  'a',
  'name',
  '"name"',
  '"arguments"',
  '"parameters"',
  '"f"',
  '1',
  '-',
  '.',
  'e',
  '\\',
  'true',
  'null',
  'é',
  '🌍',
  '(',
  ')',
  '=',
  ';',
  'x=',
  'True',
  'None',
  '"""',
  "'''",
  'r"',
  '\\n',
  '\\u00e9',
  '<',
  '>',
];
const FORMAT: Readonly<Record<string, readonly string[]>> = {
  hermes: [
    '<tool_call>',
    '</tool_call>',
    '<tool_',
    '{"name": "f", "arguments": {',
    '{"name": "g"}',
  ],
  llama3_json: ['<|python_tag|>', '<|py', '{"name": "f", "parameters": {', '; '],
  llama4_json: ['<|python_tag|>', '{"name": "f", "arguments": {'],
  mistral: [
    '[TOOL_CALLS]',
    '[ARGS]',
    '[CALL_ID]',
    '[TOOL_',
    'get',
    '[{"name": "f", "arguments": {',
  ],
  pythonic: ['[f(', 'a=', ', ', ')]', '[get(x=', 'b=[1, ', "c={'k': "],
};

describe('tool-call parsers on random outputs', () => {
  for (const name of TOOL_CALL_PARSER_NAMES) {
    it(`${name}: the stream agrees with parse() however the output is cut`, () => {
      const parser = toolCallParser(name, { newId: counterIds() });
      if (parser === undefined) throw new Error(name);
      const format = FORMAT[name] ?? [];
      const pieces = [...COMMON, ...format];
      let state = 2024;
      const random = (): number => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state / 4294967296;
      };
      const pick = (from: readonly string[]): string =>
        from[Math.floor(random() * from.length)] ?? '';
      for (let n = 0; n < 300; n++) {
        let text = random() < 0.7 ? pick(format) : '';
        const length = Math.floor(random() * 14);
        for (let i = 0; i < length; i++) text += pick(pieces);
        checkStreaming(parser, text, [], n);
      }
    });
  }
});
