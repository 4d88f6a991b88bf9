import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ggufGenerationConfig,
  parseGenerationConfigOverride,
  readGenerationConfigSource,
  resolveGenerationConfig,
  type GenerationConfigSource,
} from './generation-config.ts';

const dir = await mkdtemp(join(tmpdir(), 'generation-config-test-'));
after(() => rm(dir, { recursive: true, force: true }));

/** A folder holding `generation_config.json` with `text` (or none when text is null). */
async function folder(name: string, text: string | null): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  if (text !== null) await writeFile(join(path, 'generation_config.json'), text);
  return path;
}

const AUTO: GenerationConfigSource = { kind: 'auto' };
const VLLM: GenerationConfigSource = { kind: 'vllm' };
const MODEL = { temperature: 0.6, top_p: 0.95, top_k: 20, min_p: 0, repetition_penalty: 1.05 };

describe('readGenerationConfigSource', () => {
  it('takes auto and vllm as such', () => {
    assert.deepEqual(readGenerationConfigSource('auto'), AUTO);
    assert.deepEqual(readGenerationConfigSource('vllm'), VLLM);
  });

  it("reads a folder's HF generation_config.json: the six sampling keys, nulls unset, others ignored", async () => {
    const path = await folder(
      'hf',
      JSON.stringify({
        bos_token_id: 1,
        do_sample: true,
        eos_token_id: [2, 3],
        temperature: 0.7,
        top_p: 0.8,
        top_k: 20,
        min_p: null,
        repetition_penalty: 1.1,
        max_new_tokens: 512,
        transformers_version: '4.51.0',
      }),
    );
    assert.deepEqual(readGenerationConfigSource(path), {
      kind: 'folder',
      file: join(path, 'generation_config.json'),
      values: {
        repetition_penalty: 1.1,
        temperature: 0.7,
        top_k: 20,
        top_p: 0.8,
        max_new_tokens: 512,
      },
    });
  });

  it('refuses a missing folder, a missing file, bad JSON and bad values with one line each', async () => {
    const missing = join(dir, 'nowhere');
    const cases: [string, RegExp][] = [
      [
        missing,
        /^--generation-config .*nowhere: no such folder \(give auto, vllm or a folder holding generation_config\.json\)$/,
      ],
      [
        await folder('empty', null),
        /^--generation-config .*empty: .*generation_config\.json not found$/,
      ],
      [
        await folder('bad-json', '{"temperature": 0.7,'),
        /^--generation-config .*bad-json: .*generation_config\.json is not valid JSON: /,
      ],
      [
        await folder('list', '[0.7]'),
        /generation_config\.json must be a JSON object, got \[0\.7\]$/,
      ],
      [
        await folder('text', '{"temperature": "hot"}'),
        /generation_config\.json: temperature must be a number, got "hot"$/,
      ],
      [
        await folder('float-k', '{"top_k": 2.5}'),
        /generation_config\.json: top_k must be an integer, got 2\.5$/,
      ],
    ];
    for (const [path, message] of cases) {
      assert.throws(
        () => readGenerationConfigSource(path),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, message);
          assert.equal(error.message.includes('\n'), false, 'one line');
          return true;
        },
        path,
      );
    }
    const file = join(await folder('file-not-folder', '{}'), 'generation_config.json');
    assert.throws(() => readGenerationConfigSource(file), /: not a folder/);
  });
});

describe('ggufGenerationConfig', () => {
  it('maps general.sampling.* (as the addon renders them) to the HF names', () => {
    assert.deepEqual(
      ggufGenerationConfig({
        'general.architecture': 'llama',
        'general.sampling.temp': '0.600000',
        'general.sampling.top_p': '0.950000',
        'general.sampling.top_k': '20',
        'general.sampling.min_p': '0.000000',
        'general.sampling.penalty_repeat': '1.050000',
        'general.sampling.penalty_last_n': '64',
        'general.sampling.mirostat': '0',
      }),
      MODEL,
    );
    assert.deepEqual(ggufGenerationConfig({ 'general.name': 'x' }), {});
  });

  it('refuses a key that is not a number, naming it', () => {
    assert.throws(
      () => ggufGenerationConfig({ 'general.sampling.temp': 'warm' }),
      /^Error: GGUF metadata general\.sampling\.temp must be a number, got "warm"$/,
    );
    assert.throws(
      () => ggufGenerationConfig({ 'general.sampling.top_k': '2.5' }),
      /general\.sampling\.top_k must be an integer, got "2\.5"/,
    );
  });
});

describe('resolveGenerationConfig (vLLM get_diff_sampling_param and override_max_tokens)', () => {
  it("auto: the model's values are the defaults, with vLLM's start-up lines", () => {
    const resolved = resolveGenerationConfig(AUTO, MODEL);
    assert.deepEqual(resolved.defaults, {
      temperature: 0.6,
      topP: 0.95,
      topK: 20,
      minP: 0,
      repetitionPenalty: 1.05,
    });
    assert.deepEqual(resolved.notices, [
      "Default sampling parameters have been overridden by the model's generation config (its " +
        'GGUF general.sampling.* keys). If this is not intended, please relaunch servellm with ' +
        '`--generation-config vllm`.',
      "Using default sampling params from model: {'repetition_penalty': 1.05, 'temperature': " +
        "0.6, 'top_k': 20, 'top_p': 0.95, 'min_p': 0}",
    ]);
  });

  it("vllm: the model's values are ignored; nothing to report", () => {
    const resolved = resolveGenerationConfig(VLLM, MODEL);
    assert.deepEqual(resolved.defaults, {});
    assert.deepEqual(resolved.params, {});
    assert.deepEqual(resolved.notices, []);
  });

  it('the override is merged over the source; a null unsets a key', () => {
    const override = parseGenerationConfigOverride('{"temperature": 0.5, "top_k": null}');
    const resolved = resolveGenerationConfig(AUTO, MODEL, override);
    assert.deepEqual(resolved.params, {
      repetition_penalty: 1.05,
      temperature: 0.5,
      top_p: 0.95,
      min_p: 0,
    });
    assert.match(
      resolved.notices[0]!,
      /model's generation config .* and --override-generation-config\./,
    );
    const overVllm = resolveGenerationConfig(VLLM, MODEL, override);
    assert.deepEqual(overVllm.defaults, { temperature: 0.5 });
    assert.match(overVllm.notices[0]!, /overridden by --override-generation-config\. /);
    assert.equal(
      overVllm.notices[1],
      "Using default sampling params from vllm: {'temperature': 0.5}",
    );
  });

  it("the override's max_new_tokens is a default and a ceiling; the model's only a default", () => {
    const fromModel = resolveGenerationConfig(AUTO, { max_new_tokens: 10 });
    assert.deepEqual(fromModel.defaults, { maxTokens: 10 });
    assert.deepEqual(fromModel.params, { max_tokens: 10 });
    const override = parseGenerationConfigOverride('{"max_new_tokens": 10}');
    for (const source of [AUTO, VLLM]) {
      assert.deepEqual(
        resolveGenerationConfig(source, { max_new_tokens: 200 }, override).defaults,
        {
          maxTokens: 10,
          maxTokensCeiling: 10,
        },
      );
    }
  });

  it("a folder's max_new_tokens is a ceiling too (vLLM: generation_config not auto/vllm)", async () => {
    const path = await folder('max-new', '{"max_new_tokens": 10, "temperature": 0.5}');
    const source = readGenerationConfigSource(path);
    const resolved = resolveGenerationConfig(source, MODEL);
    assert.deepEqual(resolved.defaults, { temperature: 0.5, maxTokens: 10, maxTokensCeiling: 10 });
    assert.match(
      resolved.notices[0]!,
      /overridden by the generation config .*max-new.generation_config\.json\./,
    );
    const raised = resolveGenerationConfig(
      source,
      {},
      parseGenerationConfigOverride('{"max_new_tokens": 20}'),
    );
    assert.deepEqual(raised.defaults, { temperature: 0.5, maxTokens: 20, maxTokensCeiling: 20 });
    const none = await folder('no-max', '{"top_p": 0.5}');
    assert.deepEqual(resolveGenerationConfig(readGenerationConfigSource(none), MODEL).defaults, {
      topP: 0.5,
    });
  });
});
