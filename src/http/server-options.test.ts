/**
 * The frontend flags' behaviours on a listening test app: CORS (Starlette's rules for the
 * defaults, a list of origins, credentials), --root-path, --enable-request-id-headers,
 * --disable-fastapi-docs and /load with and without --enable-server-load-tracking.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppOptions } from './app.ts';
import { rootPathRewrite } from './server-options.ts';
import { ScriptedEngine } from './testing/scripted-engine.ts';
import { testApp } from './testing/test-app.ts';

/** Runs `body` against the test app listening on a free port. */
async function withServer(
  overrides: Partial<AppOptions>,
  body: (url: string) => Promise<void>,
  engine?: ScriptedEngine,
): Promise<void> {
  const { app } = testApp(engine, overrides);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await body(url);
  } finally {
    await app.close();
  }
}

const PREFLIGHT = {
  Origin: 'https://app.example',
  'Access-Control-Request-Method': 'POST',
  'Access-Control-Request-Headers': 'authorization,content-type',
};

describe('CORS', () => {
  it('allows any origin, method and header by default, preflights needing no key', async () => {
    await withServer({ apiKey: 'secret' }, async (url) => {
      const simple = await fetch(`${url}/health`, { headers: { Origin: 'https://app.example' } });
      assert.equal(simple.headers.get('access-control-allow-origin'), '*');
      const preflight = await fetch(`${url}/v1/completions`, {
        method: 'OPTIONS',
        headers: PREFLIGHT,
      });
      assert.ok(preflight.status === 200 || preflight.status === 204, String(preflight.status));
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.equal(
        preflight.headers.get('access-control-allow-headers'),
        'authorization,content-type',
      );
      assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
    });
  });

  it('answers only the listed origins, and echoes the origin with credentials', async () => {
    const cors = {
      allowedOrigins: ['https://app.example'],
      allowedMethods: ['GET'],
      allowedHeaders: ['content-type'],
      allowCredentials: true,
    };
    await withServer({ cors }, async (url) => {
      const listed = await fetch(`${url}/health`, { headers: { Origin: 'https://app.example' } });
      assert.equal(listed.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(listed.headers.get('access-control-allow-credentials'), 'true');
      const other = await fetch(`${url}/health`, { headers: { Origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const preflight = await fetch(`${url}/v1/models`, { method: 'OPTIONS', headers: PREFLIGHT });
      assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET');
      assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');
    });
    await withServer({ cors: { ...cors, allowedOrigins: ['*'] } }, async (url) => {
      const any = await fetch(`${url}/health`, { headers: { Origin: 'https://b.example' } });
      assert.equal(any.headers.get('access-control-allow-origin'), 'https://b.example');
    });
  });
});

describe('--root-path', () => {
  it('rewrites only paths under the prefix', () => {
    const rewrite = rootPathRewrite('/llm/');
    assert.equal(rewrite('/llm/v1/models'), '/v1/models');
    assert.equal(rewrite('/llm?x=1'), '/?x=1');
    assert.equal(rewrite('/llm'), '/');
    assert.equal(rewrite('/llmx/v1'), '/llmx/v1');
    assert.equal(rewrite('/v1/models'), '/v1/models');
  });

  it('serves /v1 and /prefix/v1 alike, the API key checked on both', async () => {
    await withServer({ rootPath: '/llm', apiKey: 'abc-123' }, async (url) => {
      for (const base of [`${url}/v1`, `${url}/llm/v1`]) {
        const good = await fetch(`${base}/models`, {
          headers: { Authorization: 'Bearer abc-123' },
        });
        assert.equal(good.status, 200, base);
        const bad = await fetch(`${base}/models`, { headers: { Authorization: 'Bearer abc' } });
        assert.equal(bad.status, 401, base);
      }
    });
  });
});

describe('--enable-request-id-headers', () => {
  it('echoes X-Request-Id or makes one, only when enabled', async () => {
    await withServer({ requestIdHeaders: true }, async (url) => {
      const echoed = await fetch(`${url}/health`, { headers: { 'X-Request-Id': 'abc' } });
      assert.equal(echoed.headers.get('x-request-id'), 'abc');
      const fresh = await fetch(`${url}/v1/models`);
      assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/);
    });
    await withServer({}, async (url) => {
      const none = await fetch(`${url}/health`, { headers: { 'X-Request-Id': 'abc' } });
      assert.equal(none.headers.get('x-request-id'), null);
    });
  });
});

describe('--disable-fastapi-docs', () => {
  it('removes the document and the pages', async () => {
    await withServer({ docs: false }, async (url) => {
      for (const path of ['/openapi.json', '/docs', '/redoc']) {
        assert.equal((await fetch(`${url}${path}`)).status, 404, path);
      }
    });
  });
});

describe('GET /load', () => {
  it('counts generation requests in flight when tracking, else answers 0', async () => {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = async (url: string): Promise<unknown> => await (await fetch(`${url}/load`)).json();
    await withServer(
      { serverLoadTracking: true },
      async (url) => {
        assert.deepEqual(await load(url), { server_load: 0 });
        const pending = fetch(`${url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'hi', max_tokens: 2 }),
        });
        const deadline = Date.now() + 5000;
        while (((await load(url)) as { server_load: number }).server_load !== 1) {
          assert.ok(Date.now() < deadline, 'the request was not counted');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        release();
        assert.equal((await pending).status, 200);
        await (await pending).text();
        while (((await load(url)) as { server_load: number }).server_load !== 0) {
          assert.ok(Date.now() < deadline, 'the finished request stayed counted');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      },
      new ScriptedEngine({ maxModelLen: 64, gate }),
    );
    await withServer({}, async (url) => {
      assert.deepEqual(await load(url), { server_load: 0 });
    });
  });
});
