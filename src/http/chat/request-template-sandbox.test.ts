/**
 * Chat templates that requests bring (--trust-request-chat-template) reach no file, process,
 * module, constructor or prototype: adversarial templates render harmlessly or answer 400, never
 * run code; @huggingface/jinja's code holds no way out (no module loading, eval or Function); a
 * runaway template is stopped in time, and an oversized output refused.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { BadRequestError } from '../errors.ts';
import { testApp } from '../testing/test-app.ts';
import { runWithTimeout, RenderTimeoutError } from './bounded-render.ts';
import type { ChatTemplateInput } from './chat-template.ts';
import { RequestTemplates } from './request-templates.ts';

const SPECIALS = { bos_token: '<s>', eos_token: '</s>' };

const INPUT: ChatTemplateInput = {
  messages: [{ role: 'user', content: 'hi' }],
  addGenerationPrompt: true,
  continueFinalMessage: false,
  tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
  documents: null,
  kwargs: {},
};

/**
 * Escapes tried from other template engines and from JavaScript: Python's dunder walks, the
 * Jinja globals SSTI payloads use, constructors reached from functions, strings, lists and
 * objects, prototypes, and code run through Function. Each would set `globalThis.pwned` or show
 * a function or object if it got through.
 */
const ESCAPES = [
  "{{ ''.__class__ }}",
  "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  '{{ cycler.__init__.__globals__ }}',
  "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
  '{{ joiner.__init__.__globals__ }}',
  '{{ lipsum.__globals__ }}',
  '{{ self._TemplateReference__context }}',
  '{{ config.items() }}',
  '{{ request.application }}',
  "{{ range.constructor('globalThis.pwned = 1')() }}",
  '{{ range.constructor }}',
  "{{ raise_exception.constructor('globalThis.pwned = 1')() }}",
  "{{ namespace.constructor('globalThis.pwned = 1')() }}",
  "{{ ''.constructor.constructor('globalThis.pwned = 1')() }}",
  "{{ 'a'.toString.constructor('globalThis.pwned = 1')() }}",
  "{{ 'a'['toString']['constructor']('globalThis.pwned = 1')() }}",
  "{{ messages.constructor.constructor('globalThis.pwned = 1')() }}",
  "{{ messages['constructor']['constructor']('globalThis.pwned = 1')() }}",
  '{{ messages.__proto__ }}',
  '{{ messages[0].__proto__.constructor }}',
  '{{ messages[0].hasOwnProperty }}',
  '{{ messages[0].__defineGetter__ }}',
  '{{ (messages|first).constructor }}',
  "{{ messages|map(attribute='constructor')|list }}",
  "{{ tools[0]['function'].constructor }}",
  '{{ bos_token.constructor }}',
  '{% set ns = namespace() %}{{ ns.__proto__ }}{{ ns.constructor }}',
  '{% set ns = namespace(a=1) %}{% set ns.__proto__ = 5 %}{% set ns.constructor = 5 %}{{ ns.a }}',
  '{{ process }}{{ globalThis }}{{ require }}{{ module }}{{ global }}{{ window }}',
  "{{ process.mainModule.require('child_process').execSync('id') }}",
  "{{ require('fs').readFileSync('/etc/passwd') }}",
  "{{ open('/etc/passwd').read() }}",
  "{{ import('fs') }}",
  "{{ __import__('os').system('id') }}",
  "{{ eval('globalThis.pwned = 1') }}",
];

/** Tags that would reach other files in Jinja: the engine has none of them. */
const FILE_TAGS = [
  "{% include '/etc/passwd' %}",
  "{% import '/etc/passwd' as p %}",
  "{% from '/etc/passwd' import x %}",
  "{% extends '/etc/passwd' %}",
];

/** What an escape that got through would print. */
const LEAK = /function|native code|\[object|class |prototype|root:|uid=|process/i;

/**
 * A template that loops `outer` x 1000 times: ~1 M iterations take seconds (about 4 s here), so
 * without the time bound the tests below fail (they do not hang).
 */
const RUNAWAY = (outer: number): string =>
  `{% for a in range(${outer}) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}`;

type Outcome = { rendered: string } | { refused: string };

function attempt(templates: RequestTemplates, source: string): Outcome {
  try {
    return { rendered: templates.compile(source).render(INPUT) };
  } catch (error) {
    assert.ok(error instanceof BadRequestError, `${source}: ${String(error)}`);
    assert.equal(error.status, 400);
    return { refused: error.message };
  }
}

/** Own property names of the prototypes an escape would pollute. */
function prototypeKeys(): string[][] {
  return [Object.prototype, Array.prototype, String.prototype, Function.prototype].map((proto) =>
    Object.getOwnPropertyNames(proto).sort(),
  );
}

describe('request chat templates are sandboxed', () => {
  it('escapes render harmlessly or answer 400, and run no code', () => {
    const templates = new RequestTemplates(SPECIALS, 64);
    const before = prototypeKeys();
    for (const source of ESCAPES) {
      const outcome = attempt(templates, source);
      if ('rendered' in outcome) assert.doesNotMatch(outcome.rendered, LEAK, source);
    }
    assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
    assert.deepEqual(prototypeKeys(), before);
  });

  it('have no tag that reads another file: each is a 400 at parse time', () => {
    const templates = new RequestTemplates(SPECIALS);
    for (const source of FILE_TAGS) {
      const outcome = attempt(templates, source);
      assert.ok('refused' in outcome, source);
      assert.match(outcome.refused, /could not be parsed/, source);
    }
  });

  it("@huggingface/jinja's code loads no module and compiles no code", () => {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@huggingface/jinja'));
    for (const file of ['index.js', 'index.cjs']) {
      const code = readFileSync(join(dist, file), 'utf8');
      for (const pattern of [
        /\brequire\s*\(/,
        /\bimport\s*\(/,
        /^\s*import\s/m,
        /\bfrom\s*['"]/,
        /\beval\s*\(/,
        /(?<![\w.])Function\s*\(/,
        /\bnew\s+Function\b(?!Value)/,
        /\bprocess\b/,
        /\bglobalThis\b/,
      ]) {
        assert.doesNotMatch(code, pattern, `${file}: ${pattern}`);
      }
    }
  });

  it('stops a runaway template in time, with a 400', () => {
    const templates = new RequestTemplates(SPECIALS, 16, { timeoutMs: 100, maxLength: 1 << 20 });
    const started = Date.now();
    const outcome = attempt(templates, RUNAWAY(1000));
    assert.deepEqual(outcome, { refused: 'the chat template took longer than 100 ms to render' });
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  });

  it('refuses an output past the limit, and survives growth, recursion and deep nesting', () => {
    const templates = new RequestTemplates(SPECIALS, 16, { timeoutMs: 5000, maxLength: 10_000 });
    const long = attempt(templates, '{% for i in range(2000) %}0123456789{% endfor %}');
    assert.deepEqual(long, {
      refused: 'The chat template rendered 20000 characters, more than the limit of 10000.',
    });
    for (const source of [
      // Doubling a string until V8 refuses it.
      "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
      // A macro calling itself.
      '{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}',
      // Nesting deep enough to exhaust the parser's stack.
      `{{ ${'('.repeat(20000)}1${')'.repeat(20000)} }}`,
      `{{ ${'['.repeat(20000)}${']'.repeat(20000)} }}`,
    ]) {
      assert.ok('refused' in attempt(templates, source), source.slice(0, 60));
    }
  });

  it("caps range at vLLM's 100,000 items: range(10**9) would exhaust memory before the time bound", () => {
    const templates = new RequestTemplates(SPECIALS, 16, { timeoutMs: 5000, maxLength: 1 << 20 });
    for (const source of [
      '{% for i in range(1000000000) %}{% endfor %}',
      '{{ range(0, 10 ** 12, 3) | length }}',
      '{{ range(100001) | length }}',
    ]) {
      assert.deepEqual(attempt(templates, source), {
        refused: "range() is limited to 100000 items in a request's template",
      });
    }
    assert.deepEqual(
      attempt(templates, '{{ range(100000) | length }},{{ range(2, 11, 3) | join("-") }}'),
      {
        rendered: '100000,2-5-8',
      },
    );
    assert.deepEqual(
      attempt(templates, '{{ range(5, 0, -2) | join("") }}{{ strftime_now("%%") }}'),
      {
        rendered: '531%',
      },
    );
  });

  it('the watchdog passes results and errors through', () => {
    assert.equal(
      runWithTimeout(() => 'done', 1000),
      'done',
    );
    assert.throws(
      () =>
        runWithTimeout(() => {
          throw new RangeError('inner');
        }, 1000),
      RangeError,
    );
    assert.throws(
      () =>
        runWithTimeout(() => {
          for (;;);
        }, 50),
      RenderTimeoutError,
    );
  });

  it('over HTTP: an escape is harmless, a runaway template answers 400 in about a second', async () => {
    const { app, engine } = testApp(undefined, { trustRequestChatTemplate: true });
    const chat = (chat_template: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, chat_template },
      });
    const escape = await chat("{{ range.constructor('globalThis.pwned = 1')() }}");
    assert.equal(escape.statusCode, 400);
    assert.equal(escape.json<{ error: { type: string } }>().error.type, 'BadRequestError');
    const walk = await chat('{{ messages.constructor }}{{ messages[0].content }}');
    assert.equal(walk.statusCode, 200);
    assert.deepEqual(engine.added.at(-1)!.promptTokens, [...Buffer.from('hi')]);
    const started = Date.now();
    const runaway = await chat(RUNAWAY(3000));
    assert.equal(runaway.statusCode, 400);
    assert.match(runaway.body, /took longer than 1000 ms to render/);
    assert.ok(Date.now() - started < 3000);
    assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
  });
});
