/**
 * `--generation-config` end to end, on the real backend: a successor model whose GGUF carries
 * `general.sampling.*` keys changes what a request without sampling parameters gets. Seeded
 * sampling is a function of (seed, distribution), so a request that omits the parameters on the
 * `auto` server must draw exactly the tokens that the same request, with the model's values
 * written out, draws on a `--generation-config vllm` server, and different tokens from that
 * request without them (the model's temperature 2 spreads the distribution far from vLLM's
 * default 1). A folder's generation_config.json is read at start-up, its max_new_tokens a
 * ceiling; a missing folder fails start-up in one line.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ggufGenerationConfig } from '../src/cli/generation-config.ts';
import { startServer, type RunningServer } from '../src/cli/serve.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { testServeOptions } from './support/models.ts';

/** The model's recommended sampling; every value survives float32 and the addon's "%f". */
const SAMPLING = { temp: 2, topK: 40, topP: 0.9375, minP: 0.015625, penaltyRepeat: 1.125 };
/** The same, as request parameters. */
const AS_REQUEST = {
  temperature: 2,
  top_k: 40,
  top_p: 0.9375,
  min_p: 0.015625,
  repetition_penalty: 1.125,
};
/** vLLM's neutral values, written out. */
const NEUTRAL = { temperature: 1, top_k: -1, top_p: 1, min_p: 0, repetition_penalty: 1 };

interface Choice {
  readonly text?: string;
  readonly message?: { readonly content: string };
  readonly token_ids: readonly number[];
  readonly finish_reason: string;
}

async function post(
  server: RunningServer,
  route: 'completions' | 'chat/completions',
  body: Record<string, unknown>,
): Promise<Choice> {
  const response = await fetch(`${server.url}/v1/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'successor', return_token_ids: true, ...body }),
  });
  const json = (await response.json()) as { choices: Choice[] };
  assert.equal(response.status, 200, JSON.stringify(json));
  return json.choices[0]!;
}

/** The tokens a seeded request draws: 24 after "abc", or after a chat prompt. */
async function draw(
  server: RunningServer,
  route: 'completions' | 'chat/completions',
  params: Record<string, unknown>,
): Promise<readonly number[]> {
  const prompt =
    route === 'completions' ? { prompt: 'abc' } : { messages: [{ role: 'user', content: 'abc' }] };
  const choice = await post(server, route, {
    ...prompt,
    max_tokens: 24,
    seed: 11,
    ignore_eos: true,
    ...params,
  });
  assert.equal(choice.token_ids.length, 24);
  return choice.token_ids;
}

describe('--generation-config with a GGUF whose metadata recommends sampling', () => {
  let auto: RunningServer;
  let vllm: RunningServer;

  before(async () => {
    const model = await ensureModel({ preset: 'successor', weightType: 'f16', sampling: SAMPLING });
    auto = await startServer(await testServeOptions({ model }));
    vllm = await startServer(await testServeOptions({ model, generationConfig: 'vllm' }));
  });
  after(async () => {
    await auto?.close();
    await vllm?.close();
  });

  it('reads general.sampling.* through the addon exactly', () => {
    assert.deepEqual(ggufGenerationConfig(auto.backend.info.metadata), AS_REQUEST);
  });

  for (const route of ['completions', 'chat/completions'] as const) {
    it(`${route}: a request without sampling parameters gets the model's`, async () => {
      const byDefault = await draw(auto, route, {});
      assert.deepEqual(byDefault, await draw(vllm, route, AS_REQUEST));
      assert.notDeepEqual(byDefault, await draw(vllm, route, {}), 'the defaults changed nothing');
    });
  }

  it('request values win over every model default', async () => {
    assert.deepEqual(await draw(auto, 'completions', NEUTRAL), await draw(vllm, 'completions', {}));
    const greedy = await post(auto, 'completions', {
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
    });
    assert.equal(greedy.text, 'defgh');
  });
});

describe('--generation-config with a folder', () => {
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'generation-config-e2e-'));
    await writeFile(
      join(dir, 'generation_config.json'),
      JSON.stringify({ temperature: 0, max_new_tokens: 6, do_sample: false }),
    );
    server = await startServer(await testServeOptions({ generationConfig: dir }));
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves its temperature as the default and its max_new_tokens as a ceiling', async () => {
    const user = [{ role: 'user', content: 'hi' }];
    const chat = await post(server, 'chat/completions', { messages: user });
    assert.equal(chat.message?.content, '012345');
    assert.equal(chat.finish_reason, 'length');
    const asked = await post(server, 'chat/completions', { messages: user, max_tokens: 8 });
    assert.equal(asked.message?.content, '012345');
    const fewer = await post(server, 'chat/completions', { messages: user, max_tokens: 3 });
    assert.equal(fewer.message?.content, '012');
    const completion = await post(server, 'completions', { prompt: 'abc' });
    assert.equal(completion.text, 'defghi');
  });

  it('a folder that does not exist stops start-up with one line', async () => {
    const missing = join(dir, 'missing');
    await assert.rejects(
      (async () => startServer(await testServeOptions({ generationConfig: missing })))(),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(
          error.message,
          `--generation-config ${missing}: no such folder (give auto, vllm or a folder holding generation_config.json)`,
        );
        return true;
      },
    );
  });
});
