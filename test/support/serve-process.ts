/**
 * Test support: the real `servellm serve` command as a child process.
 *
 * Owns: spawning `bin/servellm.mjs` with arguments and environment, collecting everything it
 * writes (stdout and stderr, in arrival order), waiting for its start-up line or its exit, and
 * the serve arguments the process tests share (loopback, an ephemeral port, one thread).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { TEST_KERNEL_VARIANT } from './models.ts';

/** The command's entry point. */
export const SERVELLM_BIN = fileURLToPath(new URL('../../bin/servellm.mjs', import.meta.url));

/** A started command: its process and what it has written so far. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves once the output matches `pattern` (rejects after `timeoutMs` or on exit). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `serve MODEL` on 127.0.0.1, an ephemeral port, one thread, the test kernels; then `extra`. */
export function serveArgs(model: string, extra: readonly string[] = []): string[] {
  return [
    'serve',
    model,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--threads',
    '1',
    '--device',
    TEST_KERNEL_VARIANT,
    ...extra,
  ];
}

/** Spawn `servellm ARGS` (with `env` added to this process's environment). */
export function spawnServellm(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): ServeProcess {
  const child = spawn(process.execPath, [SERVELLM_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (data: Buffer): void => {
    output += data.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  exit.then(
    () => {
      for (const listener of listeners) listener();
    },
    () => undefined,
  );
  const waitFor = (pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(output);
        if (match !== null) {
          finish();
          resolve(match);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(new Error(`servellm exited before printing ${pattern}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { child, output: () => output, waitFor, exited: () => exit };
}

/** Spawn the command and resolve once it serves, with its base URL (`http://127.0.0.1:PORT`). */
export async function startServellm(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<ServeProcess & { readonly url: string }> {
  const started = spawnServellm(args, env);
  const match = await started.waitFor(/serving .* at (http:\/\/127\.0\.0\.1:\d+)\/v1/);
  return { ...started, url: match[1]! };
}
