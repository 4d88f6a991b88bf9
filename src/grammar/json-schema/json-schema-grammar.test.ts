/**
 * The JSON Schema front end against an independent judge: for every schema of
 * test/data/json-schema-corpus.json, random members of its grammar must parse and validate with
 * Ajv (draft 2020-12, ajv-formats), and mutated members that JSON.parse or Ajv reject must not be
 * members. Options (compact, a whitespace pattern, no additional properties) vary by seed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Grammar } from '../grammar-ir.ts';
import { randomMember } from '../random-member.ts';
import { matchesGrammar } from '../reference-matcher.ts';
import { jsonSchemaGrammar, type JsonGrammarOptions } from './json-schema-grammar.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

interface CorpusEntry {
  readonly name: string;
  readonly schema: Record<string, unknown>;
}

const corpus = JSON.parse(
  readFileSync(new URL('../../../test/data/json-schema-corpus.json', import.meta.url), 'utf8'),
) as CorpusEntry[];

const ajv = addFormats(new Ajv2020({ strict: false }));

/** Draws per schema and option set. */
const DRAWS = 25;

const OPTION_SETS: readonly JsonGrammarOptions[] = [
  {},
  { anyWhitespace: false },
  { whitespacePattern: '[ \\n]?', disableAdditionalProperties: true },
];

/** A seeded generator (mulberry32-like) for the mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every node of a JSON value with a way to replace it inside a fresh copy. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const result = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => result.push(...paths(item, [...prefix, i])));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) result.push(...paths(item, [...prefix, key]));
  }
  return result;
}

function replaceAt(
  value: Json,
  path: readonly (string | number)[],
  make: (old: Json) => Json | undefined,
): Json {
  if (path.length === 0) return make(value) ?? null;
  const copy = structuredClone(value) as Record<string | number, Json>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  const next = make(parent[last]!);
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}

/** Value-level mutations: drop a member, change a type, push a bound, grow a string. */
function mutateValue(value: Json, random: () => number): string {
  const all = paths(value);
  const path = all[Math.floor(random() * all.length)]!;
  const kind = Math.floor(random() * 6);
  return JSON.stringify(
    replaceAt(value, path, (old) => {
      if (kind === 0 && path.length > 0) return undefined; // drop a property or element
      if (typeof old === 'number') {
        return [old + 1000.5, -old - 1e6, old * 1e9, Math.floor(old) + 0.5, old + 1][kind % 5]!;
      }
      if (typeof old === 'string')
        return [`${old}!`, '', old.repeat(40) + 'x', 42, null][kind % 5]!;
      if (Array.isArray(old)) return [[...old, old[0] ?? 1], [], old.slice(1), {}, 'a'][kind % 5]!;
      if (typeof old === 'object' && old !== null) {
        return [{ ...old, zz_extra: 1 }, {}, [], 7, { ...old, [Object.keys(old)[0] ?? 'k']: 'x' }][
          kind % 5
        ]!;
      }
      return [1, 'true', null, [], false][kind % 5]!;
    }),
  );
}

/** Text-level mutations: delete, insert or cut characters. */
function mutateText(text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1));
  switch (Math.floor(random() * 3)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + '{}[],:"\\ax0-.e\n'[Math.floor(random() * 15)]! + text.slice(at);
    default:
      return text.slice(0, at);
  }
}

function accepted(validate: ValidateFunction, text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return validate(value);
}

function checkSchema(index: number, entry: CorpusEntry): void {
  const validate = ajv.compile(entry.schema);
  OPTION_SETS.forEach((options, set) => {
    const grammar: Grammar = jsonSchemaGrammar(entry.schema, options);
    const random = rng(index * 1000 + set);
    const distinct = new Set<string>();
    for (let draw = 0; draw < DRAWS; draw++) {
      const seed = index * 100_003 + set * 1009 + draw * 7919;
      const member = randomMember(grammar, { seed, maxDepth: 7, maxExtraRepeats: 4 });
      assert.ok(member !== null, `${entry.name}: no member for seed ${seed}`);
      distinct.add(member);
      let value: Json;
      try {
        value = JSON.parse(member) as Json;
      } catch (error) {
        assert.fail(`${entry.name}: ${String(error)}: ${member}`);
      }
      assert.ok(
        validate(value),
        `${entry.name} ${JSON.stringify(options)}: ${JSON.stringify(validate.errors)}: ${member}`,
      );
      if (set === 1) assert.doesNotMatch(member.replace(/"(?:[^"\\]|\\.)*"/g, ''), /\s/);
      if (draw % 2 === 1) continue;
      const mutants = [
        mutateValue(value, random),
        mutateValue(value, random),
        mutateText(member, random),
      ];
      for (const mutant of mutants) {
        if (!accepted(validate, mutant)) {
          assert.equal(
            matchesGrammar(grammar, mutant),
            false,
            `${entry.name}: rejected by Ajv or JSON.parse, yet a member: ${mutant}`,
          );
        }
      }
    }
    if (set === 0)
      assert.ok(
        distinct.size >= DRAWS / 5,
        `${entry.name}: only ${distinct.size} distinct members`,
      );
  });
}

describe('jsonSchemaGrammar on the schema corpus (judged by Ajv)', () => {
  it('the corpus has at least 50 named schemas', () => {
    assert.ok(corpus.length >= 50, `${corpus.length} schemas`);
    for (const entry of corpus) {
      assert.equal(Object.keys(entry).sort().join(), 'name,schema');
      assert.equal(typeof entry.name, 'string');
      assert.ok(
        typeof entry.schema === 'object' && entry.schema !== null && !Array.isArray(entry.schema),
      );
    }
    assert.equal(new Set(corpus.map((entry) => entry.name)).size, corpus.length);
  });

  corpus.forEach((entry, index) => {
    it(`${entry.name}: members validate, rejected mutants are not members`, () =>
      checkSchema(index, entry));
  });
});
