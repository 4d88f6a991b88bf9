/**
 * Starts and stops the two servers the serving comparison drives, as child processes with the
 * same model, threads, parallel sequences and context: `servellm serve` and llama.cpp's
 * `llama-server` (on servellm's prebuilt kernels, see peer-tools.ts).
 *
 * Owns: each server's command line for a given configuration, waiting for readiness, keeping the
 * process's log in memory (servellm's stats lines are read from it), and a clean stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerLaunch } from './peer-tools.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export type ServerName = 'servellm' | 'llama-server';

/** One configuration, applied identically to both servers. */
export interface ServerConfig {
  readonly modelPath: string;
  readonly port: number;
  readonly threads: number;
  /** --max-num-seqs for servellm, -np for llama-server. */
  readonly parallel: number;
  /** Tokens per sequence: --max-model-len for servellm; llama-server gets -c parallel * this. */
  readonly contextPerSequence: number;
  /** More servellm flags (an A/B of a setting); llama-server ignores them. */
  readonly servellmArgs?: readonly string[];
}

/** A started server and its log so far. */
export interface RunningServerProcess {
  readonly name: ServerName;
  readonly baseUrl: string;
  /** The server's process id (for /proc figures such as its RSS). */
  readonly pid: number;
  /** Lines the process has written to stdout and stderr, in arrival order. */
  readonly log: string[];
  stop(): Promise<void>;
}

function command(
  name: ServerName,
  config: ServerConfig,
): { file: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
  const common = { port: String(config.port), threads: String(config.threads) };
  if (name === 'servellm') {
    return {
      file: process.execPath,
      args: [
        join(repositoryRoot, 'bin', 'servellm.mjs'),
        ...['serve', config.modelPath, '--host', '127.0.0.1', '--port', common.port],
        ...['--max-num-seqs', String(config.parallel)],
        ...['--max-model-len', String(config.contextPerSequence)],
        ...['--threads', common.threads, '--device', 'cpu', '--disable-log-requests'],
        ...(config.servellmArgs ?? []),
      ],
      cwd: repositoryRoot,
      // One stats line a second: the step timer's figures are read from them.
      env: { ...process.env, VLLM_LOG_STATS_INTERVAL: '1' },
    };
  }
  const launch = peerLaunch('llama-server');
  if (launch === null) throw new Error('llama-server is not built: run bash bench/peer/build.sh');
  return {
    file: launch.binary,
    args: [
      ...['-m', config.modelPath, '--host', '127.0.0.1', '--port', common.port],
      ...[
        '-np',
        String(config.parallel),
        '-c',
        String(config.parallel * config.contextPerSequence),
      ],
      ...['-t', common.threads, '-tb', common.threads, '--no-webui'],
    ],
    cwd: launch.cwd,
    env: launch.env,
  };
}

async function waitUntilReady(baseUrl: string, child: ChildProcess, log: string[]): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode}:\n${log.slice(-20).join('\n')}`);
    }
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server at ${baseUrl} not ready after 180 s:\n${log.slice(-20).join('\n')}`);
}

/** Throw unless process `pid` has mapped a CPU backend of the prebuilt kernel package. */
function assertPrebuiltKernels(pid: number): void {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  if (!/@node-llama-cpp\/linux-x64\/bins\/[^/]+\/libggml-cpu-/.test(maps)) {
    throw new Error(`llama-server (pid ${pid}) did not load servellm's prebuilt CPU kernels`);
  }
}

/** Start `name` with `config` and resolve once /health answers 200. */
export async function startServerProcess(
  name: ServerName,
  config: ServerConfig,
): Promise<RunningServerProcess> {
  const { file, args, cwd, env } = command(name, config);
  const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') log.push(line);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const baseUrl = `http://127.0.0.1:${config.port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilReady(baseUrl, child, log);
    if (name === 'llama-server') assertPrebuiltKernels(child.pid!);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, baseUrl, pid: child.pid!, log, stop };
}
