/**
 * Per-field arbitraries for fuzzed request bodies: each request field's edge values (around its
 * limits, its other accepted forms, its known refusals), mixed with hostile junk of any type.
 *
 * Owns: `fieldValue(name)`, the value a mutation gives a field, and the building blocks the
 * endpoint bodies share (token ids, prompts, messages, schemas, regexes, grammars). The model
 * has 259 tokens (bytes, then three specials) in every fuzz target; served names are
 * `FUZZ_MODEL_NAMES`.
 */
import fc from 'fast-check';
import { RawJson, type FuzzJson } from './json-text.ts';
import {
  deepNesting,
  edgeFloat,
  edgeInteger,
  enormousCollection,
  enormousStrings,
  junkValue,
  longString,
  nastyString,
  numberLikeString,
  smallJson,
} from './junk-values.ts';

/** The names every fuzz target serves its model under. */
export const FUZZ_MODEL_NAMES = ['fuzz-model', 'fuzz-alias'] as const;

/** The vocabulary of every fuzz target's model: bytes 0..255 and specials 256..258. */
export const FUZZ_VOCAB = 259;

/** Short text a model can answer quickly: letters, digits, a few nasty characters. */
export const shortText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: fc.constantFrom(...'abcxyz0189 .'), maxLength: 8 }), weight: 4 },
  { arbitrary: nastyString, weight: 1 },
);

/** Valid token ids: mostly bytes, sometimes a special token. */
export const tokenIds: fc.Arbitrary<number[]> = fc.array(
  fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 9 },
    fc.constantFrom(256, 257, 258),
  ),
  { minLength: 1, maxLength: 8 },
);

/** Token id lists that break a rule: out of range, not integers, empty. */
const badTokenIds: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom<FuzzJson>([], [-1], [259], [260], [2 ** 31], [2 ** 53], [1.5], [1e308], [-0]),
  fc.constantFrom<FuzzJson>(
    [new RawJson('9223372036854775808')],
    [new RawJson('1e999')],
    ['1'],
    [null],
    [true],
    [[1]],
  ),
  fc.array(edgeInteger, { minLength: 1, maxLength: 6 }),
);

/** A token id list: valid or not. */
export const anyTokenIds: fc.Arbitrary<FuzzJson> = fc.oneof(
  { arbitrary: tokenIds, weight: 2 },
  { arbitrary: badTokenIds, weight: 2 },
  { arbitrary: enormousCollection, weight: 1 },
);

/** A completions prompt or an embeddings input, in its four forms and many broken ones. */
export const promptValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  { arbitrary: shortText, weight: 4 },
  { arbitrary: fc.array(shortText, { minLength: 1, maxLength: 3 }), weight: 2 },
  { arbitrary: tokenIds, weight: 2 },
  { arbitrary: fc.array(tokenIds, { minLength: 1, maxLength: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom<FuzzJson>('', ' ', '\n\t ', [], [''], [[]], ['a', 1]), weight: 2 },
  { arbitrary: badTokenIds, weight: 2 },
  { arbitrary: fc.array(badTokenIds, { minLength: 1, maxLength: 2 }), weight: 1 },
  { arbitrary: longString, weight: 1 },
  { arbitrary: nastyString, weight: 2 },
  { arbitrary: junkValue, weight: 1 },
);

/** One content part of a chat message, of a known type or not. */
const contentPart: fc.Arbitrary<FuzzJson> = fc.oneof(
  shortText.map((text) => ({ type: 'text', text })),
  fc.constantFrom<FuzzJson>(
    { type: 'text' },
    { type: 'text', text: 5 },
    { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
    { type: 'video_url', video_url: { url: 'http://127.0.0.1:1/v.mp4' } },
    { type: 'refusal', refusal: 'no' },
    { type: 'thinking', thinking: 'hm' },
    { type: '' },
    { type: 'bogus', text: 'x' },
    {},
    'a bare string',
  ),
  junkValue,
);

/** A message's content: text, parts, null, or junk. */
const messageContent: fc.Arbitrary<FuzzJson> = fc.oneof(
  { arbitrary: shortText, weight: 6 },
  { arbitrary: fc.array(contentPart, { maxLength: 3 }), weight: 2 },
  { arbitrary: fc.constantFrom<FuzzJson>(null, '', ' ', []), weight: 1 },
  { arbitrary: longString, weight: 1 },
  { arbitrary: junkValue, weight: 1 },
);

/** A tool call an assistant message carries. */
const toolCall: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.record({
    id: fc.constantFrom('call_1', '', 'x'),
    type: fc.constantFrom('function', 'bogus'),
    function: fc.record({
      name: fc.oneof(fc.constantFrom('f', ''), nastyString),
      arguments: fc.oneof(fc.constantFrom('{}', '{"a": 1}', '{', '', 'null'), nastyString),
    }),
  }),
  junkValue,
);

/** One chat message: mostly well formed, with any field sometimes broken. */
export const message: fc.Arbitrary<FuzzJson> = fc.oneof(
  {
    arbitrary: fc.record(
      {
        role: fc.oneof(
          { arbitrary: fc.constantFrom('user', 'system', 'assistant'), weight: 8 },
          { arbitrary: fc.constantFrom('tool', 'developer', 'function', '', 'USER'), weight: 1 },
          { arbitrary: nastyString, weight: 1 },
        ),
        content: messageContent,
        name: fc.oneof(fc.constant('bob'), nastyString),
        tool_calls: fc.array(toolCall, { maxLength: 2 }),
        tool_call_id: nastyString,
        reasoning: nastyString,
      },
      { requiredKeys: ['role', 'content'] },
    ),
    weight: 8,
  },
  { arbitrary: fc.constantFrom<FuzzJson>({}, { role: 'user' }, { content: 'hi' }), weight: 1 },
  { arbitrary: junkValue, weight: 1 },
);

/** A messages list: one to three messages, or an empty, enormous or junk one. */
export const messagesValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  { arbitrary: fc.array(message, { minLength: 1, maxLength: 3 }), weight: 8 },
  { arbitrary: fc.constantFrom<FuzzJson>([]), weight: 1 },
  {
    arbitrary: fc
      .integer({ min: 100, max: 1500 })
      .map((count) => Array.from({ length: count }, () => ({ role: 'user', content: 'ab' }))),
    weight: 1,
  },
  { arbitrary: junkValue, weight: 1 },
);

/** Text with `open` repeated 1 - 5,000 times around `inner`, then the closings. */
function nestedGroups(open: string, inner: string, close: string): fc.Arbitrary<string> {
  const prefix = open.slice(0, open.length - 1);
  const bracket = open.slice(-1);
  return fc
    .integer({ min: 1, max: 5000 })
    .map((depth) => prefix + bracket.repeat(depth) + inner + close.repeat(depth));
}

/** A schema nested `depth` levels through `items`, as text. */
const nestedItemsSchema = fc
  .integer({ min: 20, max: 5000 })
  .map(
    (depth) => '{"type":"array","items":'.repeat(depth) + '{"type":"integer"}' + '}'.repeat(depth),
  );

/** JSON Schemas: ones the grammar compiler handles, and ones it must refuse cleanly. */
export const schemaValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom<FuzzJson>(
    { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
    { type: 'string', maxLength: 3 },
    { type: 'array', items: { type: 'boolean' }, maxItems: 2 },
    { enum: ['x', 'y'] },
    { type: 'integer', minimum: 1e308 },
    { type: 'integer', minimum: 5, maximum: 1 },
    { type: 'string', minLength: 1e9 },
    { type: 'string', maxLength: 1e9 },
    { type: 'string', pattern: '(' },
    { type: 'string', pattern: '(a*)*b' },
    { type: 'string', format: 'bogus' },
    { type: 'array', minItems: 1e6 },
    { type: 'array', minItems: 3, maxItems: 1 },
    { enum: [] },
    { const: { a: [1, { b: null }] } },
    { $ref: '#' },
    { $ref: '#/definitions/missing' },
    { $defs: { a: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' },
    { type: 'object', properties: { a: { $ref: '#' } } },
    { anyOf: [] },
    { oneOf: [{ type: 'string' }, { type: 'string' }] },
    { not: {} },
    { type: ['string', 'null', 'bogus'] },
    { type: 'number', multipleOf: 0 },
    { type: 'number', multipleOf: 1e-300 },
    { type: 'object', additionalProperties: false, required: ['a'] },
    { if: { type: 'string' }, then: { maxLength: 1 } },
    {},
    true,
    false,
  ),
  deepNesting.map((nested) => ({ type: 'object', properties: { a: nested } })),
  nestedItemsSchema.map((text) => new RawJson(text)),
  nestedItemsSchema,
  fc.integer({ min: 2, max: 3000 }).map((length) => ({
    $defs: Object.fromEntries(
      Array.from({ length }, (_, i) => [
        `d${i}`,
        { type: 'array', items: { $ref: `#/$defs/d${i + 1}` } },
      ]),
    ),
    $ref: '#/$defs/d0',
  })),
  smallJson,
  junkValue,
);

/** Regular expressions, broken and pathological ones included. */
export const regexValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom(
    'a',
    '[a-c]{1,3}',
    '\\d+',
    '(a|b)*c',
    '',
    '(',
    ')',
    '[',
    '\\',
    'a{2,1}',
    'a{1000000}',
    'a{0,100000}',
    '(a*)*b',
    '((a+)+)+$',
    '.*',
    '[^]',
    '(?<n>a)\\k<n>',
    '(?=a)a',
    '\\p{L}',
    '\\u{1F600}',
    '[\\ud800]',
    '\u0000',
    '^$',
    'a**',
    '(?i)a',
  ),
  nastyString,
  longString.map((text) => text.slice(0, 20_000)),
  nestedGroups('(', 'a', ')'),
  junkValue,
);

/** Grammars in GBNF, Lark or neither. */
export const grammarValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom(
    'root ::= "a" | "b"',
    'root ::= [a-z]+',
    'root ::= root "a"',
    'root ::= x',
    'root ::= "a"{1000000}',
    'start: "a"',
    'start: start "a"',
    '?start: /[0-9]+/',
    '',
    ' ',
    'root ::=',
    '::=',
    'root ::= "\\u0000"',
    'root ::= "\ud800"',
  ),
  nestedGroups('root ::= (', '"a"', ')'),
  nestedGroups('start: [', '"a"', ']'),
  nastyString,
  junkValue,
);

/** `structured_outputs` objects: one constraint, none, several, or junk. */
export const structuredOutputsValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  schemaValue.map((json) => ({ json })),
  regexValue.map((regex) => ({ regex })),
  fc
    .oneof(
      fc.array(shortText, { maxLength: 4 }),
      fc.constantFrom<FuzzJson>([], [''], [1, 2], [null], ['a', 'a']),
      enormousStrings('ab'),
      junkValue,
    )
    .map((choice) => ({ choice })),
  grammarValue.map((grammar) => ({ grammar })),
  fc.constantFrom<FuzzJson>(
    { json_object: true },
    { json_object: false },
    { structural_tag: '{"type": "structural_tag"}' },
    { structural_tag: { structures: [], triggers: [] } },
    {},
    { json: {}, regex: 'a' },
    { choice: ['a'], grammar: 'root ::= "a"' },
    { disable_any_whitespace: true },
    { whitespace_pattern: '\\s*', json: {} },
    { bogus: 1 },
  ),
  fc.dictionary(
    fc.constantFrom('json', 'regex', 'choice', 'grammar', 'json_object', 'structural_tag'),
    junkValue,
    { maxKeys: 3 },
  ),
  junkValue,
);

/** `response_format` in its forms, complete or not. */
export const responseFormatValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom<FuzzJson>(
    { type: 'text' },
    { type: 'json_object' },
    { type: 'json_schema' },
    { type: 'json_schema', json_schema: { name: 'x' } },
    { type: 'json_schema', json_schema: null },
    { type: 'structural_tag' },
    { type: 'structural_tag', structures: [], triggers: ['<'] },
    { type: 'bogus' },
    {},
  ),
  schemaValue.map((schema) => ({ type: 'json_schema', json_schema: { name: 'out', schema } })),
  fc.tuple(nastyString, schemaValue, junkValue).map(([name, schema, strict]) => ({
    type: 'json_schema',
    json_schema: { name, schema, strict },
  })),
  junkValue,
);

/** One tool definition. */
const toolValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc
    .tuple(fc.oneof(fc.constantFrom('f', 'g'), nastyString), schemaValue)
    .map(([name, parameters]) => ({ type: 'function', function: { name, parameters } })),
  fc.constantFrom<FuzzJson>(
    { type: 'function', function: { name: 'f' } },
    { type: 'function', function: { name: 'f', parameters: null, description: null } },
    { type: 'function' },
    { type: 'bogus', function: { name: 'f' } },
    { function: { name: 'f' } },
  ),
  junkValue,
);

/** `tools` lists. */
export const toolsValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.array(toolValue, { minLength: 1, maxLength: 3 }),
  fc.constantFrom<FuzzJson>([]),
  fc
    .integer({ min: 100, max: 1000 })
    .map((count) =>
      Array.from({ length: count }, (_, i) => ({ type: 'function', function: { name: `f${i}` } })),
    ),
  junkValue,
);

/** `tool_choice` in its forms. */
export const toolChoiceValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.constantFrom<FuzzJson>(
    'auto',
    'required',
    'none',
    'bogus',
    '',
    { type: 'function', function: { name: 'f' } },
    { type: 'function', function: { name: 'missing' } },
    { type: 'function', function: { name: '' } },
    { type: 'function', function: { name: 5 } },
    { type: 'function', function: 'f' },
    { type: 'function' },
    { type: 'bogus' },
    {},
  ),
  junkValue,
);

/** `logit_bias` objects: keys that are ids or not, values in range or not. */
export const logitBiasValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  fc.dictionary(
    fc.oneof(
      fc.integer({ min: 0, max: 258 }).map(String),
      fc.constantFrom('-1', '259', '1e3', ' 5', '5 ', '0x1', '1.5', '', 'abc', '9007199254740993'),
    ),
    fc.oneof(edgeFloat, fc.integer({ min: -100, max: 100 }), junkValue),
    { maxKeys: 4 },
  ),
  junkValue,
);

/** Stop strings: control characters, lone surrogates, empty, long, many. */
export const stopValue: fc.Arbitrary<FuzzJson> = fc.oneof(
  { arbitrary: nastyString, weight: 3 },
  { arbitrary: fc.array(nastyString, { maxLength: 4 }), weight: 3 },
  {
    arbitrary: fc.constantFrom<FuzzJson>('', [''], [], ['\u0000'], ['\ud800'], ['a', 'a']),
    weight: 1,
  },
  { arbitrary: longString, weight: 1 },
  { arbitrary: enormousStrings('\u0001\ud800'), weight: 1 },
  { arbitrary: junkValue, weight: 1 },
);

const bool = fc.oneof({ arbitrary: fc.boolean(), weight: 4 }, { arbitrary: junkValue, weight: 1 });

/** A small count (1-8) or one of the edges around every limit. */
const countValue = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 8 }), weight: 3 },
  { arbitrary: edgeInteger, weight: 3 },
  { arbitrary: edgeFloat, weight: 1 },
  { arbitrary: numberLikeString, weight: 1 },
  { arbitrary: junkValue, weight: 1 },
);

/** A sampling float (temperature, penalties, top_p, min_p). */
const floatValue = fc.oneof(
  { arbitrary: edgeFloat, weight: 4 },
  { arbitrary: edgeInteger, weight: 1 },
  { arbitrary: numberLikeString, weight: 1 },
  { arbitrary: junkValue, weight: 1 },
);

/** A free-text field (user, request_id, cache_salt, suffix, chat_template). */
const textValue = fc.oneof(
  { arbitrary: nastyString, weight: 4 },
  { arbitrary: longString, weight: 1 },
  { arbitrary: junkValue, weight: 1 },
);

/** A JSON object field vLLM passes on (kwargs, xargs). */
const objectValue = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 6 }), smallJson, { maxKeys: 3 }),
  fc.constantFrom<FuzzJson>(
    { chat_template: '{{ x }}' },
    { add_generation_prompt: 'yes' },
    { enable_thinking: true },
    { messages: 'x' },
    { tools: 5 },
    { documents: [1] },
  ),
  deepNesting.map((nested) => ({ a: nested })),
  junkValue,
);

const FIELD_VALUES: Readonly<Record<string, fc.Arbitrary<FuzzJson>>> = {
  model: fc.oneof(
    fc.constantFrom<FuzzJson>(...FUZZ_MODEL_NAMES, null, '', 'missing-model', 'FUZZ-MODEL'),
    nastyString,
    junkValue,
  ),
  prompt: promptValue,
  input: promptValue,
  messages: messagesValue,
  tokens: anyTokenIds,
  suffix: textValue,
  max_tokens: countValue,
  max_completion_tokens: countValue,
  min_tokens: countValue,
  n: countValue,
  best_of: countValue,
  logprobs: countValue,
  top_logprobs: countValue,
  prompt_logprobs: countValue,
  top_k: countValue,
  priority: countValue,
  truncate_prompt_tokens: countValue,
  thinking_token_budget: countValue,
  dimensions: countValue,
  seed: fc.oneof(edgeInteger, floatValue),
  temperature: floatValue,
  top_p: floatValue,
  min_p: floatValue,
  presence_penalty: floatValue,
  frequency_penalty: floatValue,
  repetition_penalty: floatValue,
  length_penalty: floatValue,
  stop: stopValue,
  bad_words: stopValue,
  stop_token_ids: anyTokenIds,
  allowed_token_ids: anyTokenIds,
  logit_bias: logitBiasValue,
  structured_outputs: structuredOutputsValue,
  response_format: responseFormatValue,
  guided_json: schemaValue,
  guided_regex: regexValue,
  guided_choice: fc.oneof(fc.array(shortText, { maxLength: 3 }), junkValue),
  guided_grammar: grammarValue,
  guided_decoding_backend: textValue,
  guided_whitespace_pattern: regexValue,
  tools: toolsValue,
  tool_choice: toolChoiceValue,
  stream_options: fc.oneof(
    fc.constantFrom<FuzzJson>(
      { include_usage: true },
      { continuous_usage_stats: true },
      { include_usage: true, continuous_usage_stats: true },
      { include_usage: null },
      {},
      { bogus: 1 },
      { include_usage: 'yes' },
    ),
    junkValue,
  ),
  early_stopping: fc.oneof(fc.constantFrom<FuzzJson>(true, false, 'never', 'always'), junkValue),
  reasoning_effort: fc.oneof(fc.constantFrom('low', 'high', 'max', 'none', 'bogus'), junkValue),
  truncation_side: fc.oneof(fc.constantFrom('left', 'right', 'middle'), junkValue),
  encoding_format: fc.oneof(fc.constantFrom('float', 'base64', 'bytes', 'bogus'), junkValue),
  documents: fc.oneof(
    fc.constantFrom<FuzzJson>([{ title: 'a', text: 'b' }], [{}], [{ a: 1 }], [], ['x']),
    junkValue,
  ),
  chat_template: textValue,
  chat_template_kwargs: objectValue,
  media_io_kwargs: objectValue,
  mm_processor_kwargs: objectValue,
  kv_transfer_params: objectValue,
  vllm_xargs: objectValue,
  repetition_detection: objectValue,
  user: textValue,
  request_id: textValue,
  cache_salt: textValue,
  prompt_embeds: fc.oneof(fc.constantFrom<FuzzJson>('AAAA', [[1.5]], [], ''), junkValue),
};

/** Fields a mutation may set to booleans (or junk). */
const BOOLEAN_FIELDS = [
  'stream',
  'echo',
  'ignore_eos',
  'use_beam_search',
  'include_stop_str_in_output',
  'skip_special_tokens',
  'spaces_between_special_tokens',
  'add_special_tokens',
  'return_token_ids',
  'return_tokens_as_token_ids',
  'return_token_strs',
  'add_generation_prompt',
  'continue_final_message',
  'parallel_tool_calls',
  'include_reasoning',
];

/** The arbitrary of field `name`'s mutated value (junk of any type for an unknown field). */
export function fieldValue(name: string): fc.Arbitrary<FuzzJson> {
  if (BOOLEAN_FIELDS.includes(name)) return bool;
  const own = FIELD_VALUES[name];
  return own === undefined
    ? junkValue
    : fc.oneof({ arbitrary: own, weight: 4 }, { arbitrary: junkValue, weight: 1 });
}
