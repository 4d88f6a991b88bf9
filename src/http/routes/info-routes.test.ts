import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testApp } from '../testing/test-app.ts';
import type { ModelList } from '../wire-types.ts';

describe('info routes', () => {
  it('lists every served name with vLLM model cards', async () => {
    const { app } = testApp();
    const response = await app.inject({ method: 'GET', url: '/v1/models' });
    assert.equal(response.statusCode, 200);
    const body = response.json<ModelList>();
    assert.equal(body.object, 'list');
    assert.deepEqual(
      body.data.map((card) => card.id),
      ['test-model', 'alias'],
    );
    const card = body.data[0]!;
    assert.equal(card.object, 'model');
    assert.equal(card.owned_by, 'vllm');
    assert.equal(card.root, '/models/test.gguf');
    assert.equal(card.parent, null);
    assert.equal(card.max_model_len, 64);
    assert.equal(typeof card.created, 'number');
    assert.equal(card.permission.length, 1);
    assert.match(card.permission[0].id, /^modelperm-[0-9a-f]{16}$/);
    assert.equal(card.permission[0].object, 'model_permission');
    assert.equal(card.permission[0].allow_sampling, true);
  });

  it('retrieves one card by served name, slashes included, and 404s any other', async () => {
    const { app } = testApp(undefined, { servedModelNames: ['org/model-a', 'alias'] });
    for (const name of ['org/model-a', 'alias']) {
      const response = await app.inject({ method: 'GET', url: `/v1/models/${name}` });
      assert.equal(response.statusCode, 200, name);
      const card = response.json<ModelList['data'][number]>();
      assert.equal(card.id, name);
      assert.equal(card.object, 'model');
      assert.equal(card.max_model_len, 64);
    }
    const missing = await app.inject({ method: 'GET', url: '/v1/models/other' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), {
      error: {
        message: 'The model `other` does not exist.',
        type: 'NotFoundError',
        param: 'model',
        code: 404,
      },
    });
  });

  it('answers /health and /ping (GET and POST) with an empty 200, /version with the version', async () => {
    const { app } = testApp();
    for (const [method, url] of [
      ['GET', '/health'],
      ['GET', '/ping'],
      ['POST', '/ping'],
    ] as const) {
      const response = await app.inject({ method, url });
      assert.equal(response.statusCode, 200, `${method} ${url}`);
      assert.equal(response.body, '');
    }
    const version = await app.inject({ method: 'GET', url: '/version' });
    assert.deepEqual(version.json(), { version: '0.1.0-test' });
  });

  it("answers unknown routes with FastAPI's 404 body", async () => {
    const { app } = testApp();
    const response = await app.inject({ method: 'GET', url: '/v1/nothing' });
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), { detail: 'Not Found' });
  });
});
