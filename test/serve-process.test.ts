/**
 * The real `servellm serve` command as a user runs it: a child process on a loopback port,
 * reached with the official `openai` client, with an API key, and stopped with SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { TEST_KERNEL_VARIANT } from './support/models.ts';

const BIN = fileURLToPath(new URL('../bin/servellm.mjs', import.meta.url));
const KEY = 'test-key-123';

/** Start the command and resolve with its base URL once it prints it. */
async function startProcess(
  args: string[],
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SERVELLM_API_KEY: KEY },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no start-up line within 60 s:\n${output}`)),
      60_000,
    );
    const onData = (data: Buffer): void => {
      output += data.toString();
      const match = /serving .* at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`servellm exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

describe('servellm serve as a process', () => {
  let child: ChildProcess;
  let url: string;
  let output: () => string;

  before(async () => {
    const model = await ensureModel({ preset: 'successor', weightType: 'f16' });
    ({ child, url, output } = await startProcess([
      'serve',
      model,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--served-model-name',
      'successor',
      'alias',
      '--max-model-len',
      '1k',
      '--max-num-seqs',
      '4',
      '--threads',
      '1',
      '--device',
      TEST_KERNEL_VARIANT,
      '--disable-log-requests',
    ]));
  });
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('answers the openai client, with the API key from the environment', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['successor', 'alias'],
    );
    const completion = await client.completions.create({
      model: 'alias',
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
    });
    assert.equal(completion.choices[0]!.text, 'defgh');
    const chat = await client.chat.completions.create({
      model: 'successor',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0,
    });
    assert.equal(chat.choices[0]!.message.content, '0123456789.');
  });

  it('refuses a wrong key with 401 and leaves /health open', async () => {
    const wrong = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'nope', maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.AuthenticationError);
      return true;
    });
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
  });

  it('refuses a request longer than --max-model-len with a 400 naming the limit', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    await assert.rejects(
      client.completions.create({ model: 'successor', prompt: 'abc', max_tokens: 2000 }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /1000/);
        return true;
      },
    );
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output());
    assert.match(output(), /SIGTERM, shutting down/);
  });
});
