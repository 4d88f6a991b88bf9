/**
 * Bodies and URLs the routes never see: too large (`--max-request-body`), not UTF-8, not JSON,
 * not JSON-typed, or a URL Fastify cannot decode. Each answers a 4xx in vLLM's error body, and
 * the app still serves a normal request afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { MAX_JSON_DEPTH, nestingExceeds } from './json-body.ts';
import { testApp } from './testing/test-app.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

/** The status and the parsed error body of an injected request. */
async function errorOf(
  app: FastifyInstance,
  options: InjectOptions,
): Promise<{ status: number; error: Record<string, unknown> }> {
  const response = await app.inject(options);
  const body = response.json<{ error: Record<string, unknown> }>();
  assert.equal(typeof body.error, 'object', response.body);
  assert.equal(body.error['code'], response.statusCode, response.body);
  return { status: response.statusCode, error: body.error };
}

describe('request bodies refused before the route', () => {
  it('answers a body over the limit with 413 naming the limit, also without a JSON type', async () => {
    const { app } = testApp(undefined, { bodyLimit: 100 });
    for (const headers of [JSON_TYPE, { 'content-type': 'text/plain' }]) {
      const { status, error } = await errorOf(app, {
        method: 'POST',
        url: '/v1/completions',
        headers,
        payload: JSON.stringify({ prompt: 'a'.repeat(200) }),
      });
      assert.equal(status, 413);
      assert.equal(error['type'], 'Payload Too Large');
      assert.match(String(error['message']), /limit is 100 bytes \(--max-request-body\)/);
    }
    const small = await app.inject({
      method: 'POST',
      url: '/v1/completions',
      headers: JSON_TYPE,
      payload: JSON.stringify({ prompt: 'a', max_tokens: 1 }),
    });
    assert.equal(small.statusCode, 200);
  });

  it('refuses a body that is not UTF-8 as FastAPI does', async () => {
    const { app } = testApp();
    // {"prompt":"\xff\xfe"}: bytes that no UTF-8 decoder accepts.
    const payload = Buffer.concat([
      Buffer.from('{"prompt":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    for (const url of ['/v1/completions', '/v1/chat/completions', '/tokenize', '/invocations']) {
      const { status, error } = await errorOf(app, {
        method: 'POST',
        url,
        headers: JSON_TYPE,
        payload,
      });
      assert.equal(status, 400, url);
      assert.equal(error['message'], 'There was an error parsing the body');
      assert.equal(error['type'], 'Bad Request');
    }
    // A UTF-8 byte-order mark is not an error.
    const bom = await app.inject({
      method: 'POST',
      url: '/tokenize',
      headers: JSON_TYPE,
      payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"prompt":"hi"}')]),
    });
    assert.equal(bom.statusCode, 200, bom.body);
    assert.deepEqual(bom.json<{ tokens: number[] }>().tokens, [104, 105]);
  });

  it('refuses malformed JSON, an empty JSON body and other media types with 400', async () => {
    const { app } = testApp();
    const cases: [Record<string, string>, string, RegExp][] = [
      [JSON_TYPE, '{"prompt": ', /^JSON decode error: /],
      [JSON_TYPE, '', /^JSON decode error: /],
      [JSON_TYPE, '{"__proto__": {"x": 1}, "prompt": "a"}', /^JSON decode error: /],
      [{ 'content-type': 'text/plain' }, '{"prompt":"a"}', /Only 'application\/json'/],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b', /Only 'application\/json'/],
      // Content types Fastify cannot parse: vLLM's 400, not a 415.
      [{ 'content-type': ';;;==' }, '{"prompt":"a"}', /Only 'application\/json'/],
      [{ 'content-type': 'json' }, '{"prompt":"a"}', /Only 'application\/json'/],
    ];
    for (const [headers, payload, message] of cases) {
      const { status, error } = await errorOf(app, {
        method: 'POST',
        url: '/v1/completions',
        headers,
        payload,
      });
      assert.equal(status, 400, payload);
      assert.match(String(error['message']), message);
    }
  });

  it("answers a URL Fastify cannot decode with the API's error body", async () => {
    const { app } = testApp();
    for (const url of ['/v1/models/%ff', '/v1/models/%']) {
      const { status, error } = await errorOf(app, { method: 'GET', url });
      assert.equal(status, 400, url);
      assert.match(String(error['message']), /is not a valid url component/);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v1/models' })).statusCode, 200);
  });
});

describe('deep nesting (found by the request fuzzer: stack overflows, 500s)', () => {
  it('nestingExceeds counts arrays and objects, not brackets inside strings', () => {
    assert.equal(nestingExceeds('[[{"a": [1]}]]', 4), false);
    assert.equal(nestingExceeds('[[{"a": [1]}]]', 3), true);
    assert.equal(nestingExceeds('["[[[[", "\\"[[[["]', 1), false);
  });

  it("refuses a body nested deeper than 1000 levels, as Python's parser does", async () => {
    const { app } = testApp();
    const kwargs = (depth: number) =>
      `{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, ` +
      `"chat_template_kwargs": {"x": ${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const { status, error } = await errorOf(app, {
      method: 'POST',
      url: '/v1/chat/completions',
      headers: JSON_TYPE,
      payload: kwargs(MAX_JSON_DEPTH),
    });
    assert.equal(status, 400);
    assert.equal(
      error['message'],
      'There was an error parsing the body: JSON nested deeper than 1000 levels',
    );
    const allowed = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: JSON_TYPE,
      payload: kwargs(MAX_JSON_DEPTH - 2),
    });
    assert.equal(allowed.statusCode, 200, allowed.body);
  });

  it('refuses deep schemas, in the body or as a JSON string, with a 400', async () => {
    const { app } = testApp();
    const schema = (depth: number) =>
      '{"type":"array","items":'.repeat(depth) + '{"type":"integer"}' + '}'.repeat(depth);
    const cases: [string, RegExp][] = [
      [`{"json": ${schema(900)}}`, /documents nested deeper than 256 levels/],
      [`{"json": ${JSON.stringify(schema(3000))}}`, /nested deeper than 1000 levels/],
      [
        `{"grammar": ${JSON.stringify(`root ::= ${'('.repeat(5000)}"a"${')'.repeat(5000)}`)}}`,
        /groups nested deeper than 200/,
      ],
    ];
    for (const [outputs, message] of cases) {
      const { status, error } = await errorOf(app, {
        method: 'POST',
        url: '/v1/completions',
        headers: JSON_TYPE,
        payload: `{"prompt": "a", "max_tokens": 1, "structured_outputs": ${outputs}}`,
      });
      assert.equal(status, 400, outputs.slice(0, 40));
      assert.match(String(error['message']), message);
    }
  });
});
