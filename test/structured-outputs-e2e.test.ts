/**
 * Structured outputs end to end, on the real backend and the random tiny model (random weights,
 * temperature 1, so every branch of a grammar gets drawn): every JSON schema of
 * test/data/json-schema-corpus.json, sent as `structured_outputs.json`, gives outputs that parse
 * and that Ajv validates against the schema; choice, regex, GBNF, Lark, json_object,
 * response_format and the seed era's guided_* aliases give outputs their independent judges
 * accept (the choice list, JavaScript's RegExp, JSON.parse); and vLLM's 400s for constraints it
 * refuses. A request cut by max_tokens says `length`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { testServeOptions } from './support/models.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

interface CorpusEntry {
  readonly name: string;
  readonly schema: Record<string, unknown>;
}

const corpus = JSON.parse(
  readFileSync(new URL('./data/json-schema-corpus.json', import.meta.url), 'utf8'),
) as CorpusEntry[];

interface Completion {
  readonly text: string;
  readonly finish_reason: string;
}

let server: RunningServer;

async function complete(body: Record<string, unknown>): Promise<Completion> {
  const response = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', prompt: 'Answer:', temperature: 1, ...body }),
  });
  const json = (await response.json()) as { choices: Completion[] };
  assert.equal(response.status, 200, JSON.stringify(json));
  return json.choices[0]!;
}

async function refused(body: Record<string, unknown>): Promise<{ message: string; param: string }> {
  const response = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', prompt: 'Answer:', ...body }),
  });
  const json = (await response.json()) as { error: { message: string; param: string } };
  assert.equal(response.status, 400, JSON.stringify(json));
  return json.error;
}

describe('structured outputs on the random tiny model', { timeout: 600_000 }, () => {
  before(async () => {
    server = await startServer(
      await testServeOptions({
        model: await ensureModel({ preset: 'random-tiny-f32' }),
        servedModelNames: ['tiny'],
        maxModelLen: 4096,
        maxNumSeqs: 8,
        maxNumBatchedTokens: 512,
      }),
    );
  });
  after(async () => {
    await server?.close();
  });

  it(`every output for the ${corpus.length} corpus schemas parses and validates`, async () => {
    assert.ok(corpus.length >= 50, `${corpus.length} schemas`);
    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    const results = await Promise.all(
      corpus.map(async ({ name, schema }, i) => ({
        name,
        schema,
        choice: await complete({
          structured_outputs: { json: schema },
          seed: 1000 + i,
          max_tokens: 3000,
        }),
      })),
    );
    const cut: string[] = [];
    for (const { name, schema, choice } of results) {
      if (choice.finish_reason === 'length') {
        cut.push(name);
        continue;
      }
      assert.equal(choice.finish_reason, 'stop', name);
      let value: unknown;
      try {
        value = JSON.parse(choice.text);
      } catch (error) {
        assert.fail(`${name}: ${String(error)}: ${choice.text}`);
      }
      const validate = ajv.compile(schema);
      assert.ok(validate(value), `${name}: ${JSON.stringify(validate.errors)}: ${choice.text}`);
    }
    assert.ok(cut.length <= corpus.length / 10, `cut by max_tokens: ${cut.join(', ')}`);
  });

  it('choice, regex, GBNF and Lark outputs are members of their languages', async () => {
    const choices = ['Python', 'C++', 'TypeScript', 'Ruby on Rails'];
    const ipv4 = '((25[0-5]|(2[0-4]|1\\d|[1-9]|)\\d)\\.?\\b){4}';
    for (let seed = 0; seed < 6; seed++) {
      const choice = await complete({ structured_outputs: { choice: choices }, seed });
      assert.ok(choices.includes(choice.text), choice.text);
      assert.equal(choice.finish_reason, 'stop');
      const regex = await complete({
        structured_outputs: { regex: '[a-z]{2,6}@[a-z]{2,8}\\.(com|org)' },
        seed,
        max_tokens: 100,
      });
      assert.match(regex.text, /^[a-z]{2,6}@[a-z]{2,8}\.(com|org)$/);
      const gbnf = await complete({
        structured_outputs: {
          grammar: 'root ::= "SELECT " col (", " col)* " FROM t"\ncol ::= [a-c]',
        },
        seed,
        max_tokens: 200,
      });
      assert.match(gbnf.text, /^SELECT [a-c](, [a-c])* FROM t$/);
      const lark = await complete({
        guided_grammar: 'start: "(" NUMBER ("," NUMBER)* ")"\n%import common.NUMBER',
        seed,
        max_tokens: 200,
      });
      // Lark's common.NUMBER: INT, or a DECIMAL (`1.`, `.5`, `1.5`) or INT with an optional exponent.
      const number = '(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?';
      assert.match(lark.text, new RegExp(`^\\(${number}(,${number})*\\)$`));
    }
    // \b is outside the common subset: refused, not ignored.
    assert.match((await refused({ structured_outputs: { regex: ipv4 } })).message, /word boundar/);
  });

  it('json_object, response_format and guided_json give JSON', async () => {
    const object = await complete({
      response_format: { type: 'json_object' },
      seed: 3,
      max_tokens: 3000,
    });
    assert.equal(object.finish_reason, 'stop');
    const parsed = JSON.parse(object.text) as unknown;
    assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed));
    const schema = {
      type: 'object',
      properties: {
        answer: { enum: ['yes', 'no'] },
        score: { type: 'integer', minimum: 1, maximum: 5 },
      },
      required: ['answer', 'score'],
    };
    for (const constraint of [
      {
        response_format: { type: 'json_schema', json_schema: { name: 'a', schema, strict: true } },
      },
      { guided_json: schema },
      { guided_json: JSON.stringify(schema) },
    ]) {
      const choice = await complete({ ...constraint, seed: 5, max_tokens: 200 });
      const value = JSON.parse(choice.text) as { answer: string; score: number };
      assert.ok(
        ['yes', 'no'].includes(value.answer) && value.score >= 1 && value.score <= 5,
        choice.text,
      );
    }
  });

  it('a constrained output cut by max_tokens says length', async () => {
    const choice = await complete({
      structured_outputs: { choice: ['abcdefghijkl'] },
      max_tokens: 3,
    });
    assert.equal(choice.text, 'abc');
    assert.equal(choice.finish_reason, 'length');
  });

  it("refuses what it cannot enforce with vLLM's 400s", async () => {
    const cases: [Record<string, unknown>, RegExp, string][] = [
      [
        { structured_outputs: { json: { type: 'object' }, regex: 'a' } },
        /^You can only use one kind of structured outputs constraint but multiple are specified/,
        'structured_outputs',
      ],
      [
        { structured_outputs: { disable_any_whitespace: true } },
        /^You must use one kind of structured outputs constraint but none are specified/,
        'structured_outputs',
      ],
      [{ structured_outputs: { regex: '[.*' } }, /regex/, 'structured_outputs'],
      [
        { structured_outputs: { grammar: '' } },
        /^structured_outputs.grammar cannot be an empty string$/,
        'structured_outputs',
      ],
      [
        { structured_outputs: { grammar: 'root ::= foo' } },
        /undefined rule "foo"/,
        'structured_outputs',
      ],
      [
        { structured_outputs: { choice: [] } },
        /^Choice '\[\]' cannot be an empty list$/,
        'structured_outputs',
      ],
      [
        { structured_outputs: { json: { type: 'object', properties: { a: 'bar' } } } },
        /./,
        'structured_outputs',
      ],
      [{ structured_outputs: { json: { not: { type: 'string' } } } }, /not/, 'structured_outputs'],
      [{ guided_json: 42 }, /JSON schema/, 'guided_json'],
      [{ guided_regex: { 1: 'Python' } }, /regex must be a string/, 'guided_regex'],
      [
        { guided_regex: 'a', guided_json: { type: 'string' } },
        /multiple are specified/,
        'guided_regex',
      ],
      [
        { structured_outputs: { choice: ['a'] }, use_beam_search: true, n: 2 },
        /beam search/,
        'structured_outputs',
      ],
    ];
    for (const [body, message, param] of cases) {
      const error = await refused(body);
      assert.match(error.message, message, JSON.stringify(body));
      assert.equal(error.param, param, JSON.stringify(body));
    }
  });
});
