/**
 * /openapi.json, /docs and /redoc: the document describes the routes the app has, its request
 * bodies are the validating schemas (a field the schema takes is in the document, a field it
 * drops is not), and the pages point at it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testApp } from '../testing/test-app.ts';

interface Operation {
  readonly requestBody?: {
    readonly content: { readonly 'application/json': { readonly schema: Schema } };
  };
}
interface Schema {
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly anyOf?: readonly Schema[];
}

describe('OpenAPI document and pages', () => {
  it('documents every route the app serves, with the request schemas', async () => {
    const { app } = testApp();
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json<{
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, Operation>>;
    }>();
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.info.version, '0.1.0-test');
    for (const [path, operations] of Object.entries(document.paths)) {
      const url = path === '/v1/models/{model}' ? '/v1/models/*' : path;
      for (const method of Object.keys(operations)) {
        const route = { method: method.toUpperCase() as 'GET' | 'POST', url };
        assert.ok(app.hasRoute(route), `${method} ${path}`);
      }
    }
    const completion =
      document.paths['/v1/completions']!.post!.requestBody!.content['application/json'].schema;
    for (const field of ['prompt', 'max_tokens', 'temperature', 'logit_bias', 'stream_options']) {
      assert.ok(field in completion.properties!, field);
    }
    assert.ok(!('messages' in completion.properties!));
    const chat =
      document.paths['/v1/chat/completions']!.post!.requestBody!.content['application/json'].schema;
    assert.ok('messages' in chat.properties!);
    const tokenize =
      document.paths['/tokenize']!.post!.requestBody!.content['application/json'].schema;
    assert.equal(tokenize.anyOf!.length, 2);
  });

  it('serves Swagger UI and ReDoc pages that load the document', async () => {
    const { app } = testApp();
    for (const url of ['/docs', '/redoc']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.body, /openapi\.json/);
    }
  });
});
