/**
 * llama.cpp's own tools (built by bench/peer/build.sh) run on the very kernels servellm runs.
 *
 * The peer build compiles ggml for this CPU (GGML_NATIVE), while servellm loads the prebuilt
 * libraries of `@node-llama-cpp/linux-x64`, which pick one of several CPU builds at run time. Those
 * are different kernels: on an AVX-512 machine the native build decodes one sequence of the 130M
 * F16 model about 1.5x faster. To compare serving layers and not compiler flags, the peer tools
 * run by default on the prebuilt libraries: a folder of links gives the prebuilt libllama and
 * libggml the sonames the peer binaries ask for (same llama.cpp release, same ABI), and ggml's
 * backend loader finds the prebuilt CPU variants in the working directory.
 *
 * Owns: finding a peer binary, that folder of links, and the environment a peer process needs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libraryDirectory } from '../src/backend/llama/load-addon.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const peerBin = join(benchDir, 'peer', 'build', 'bin');

/** `prebuilt`: servellm's kernels; `native`: the peer's own build for this CPU. */
export type PeerKernels = 'prebuilt' | 'native';

/** How to start a peer tool. */
export interface PeerLaunch {
  readonly binary: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** The sonames the peer binaries link to, and the prebuilt file that provides each. */
const SONAME_TO_PREBUILT: readonly [string, string][] = [
  ['libllama.so.0', 'libllama.v0.4.0.so'],
  ['libggml.so.0', 'libggml.v0.4.0.so'],
  ['libggml-base.so.0', 'libggml-base.so'],
];

/** (Re)make bench/peer/build/prebuilt-kernels: links to every prebuilt library, plus sonames. */
function prebuiltKernelFolder(): string {
  const source = libraryDirectory('cpu');
  if (source === null) throw new Error('@node-llama-cpp/linux-x64 is not installed (npm ci)');
  const folder = join(benchDir, 'peer', 'build', 'prebuilt-kernels');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  for (const name of readdirSync(source)) {
    if (name.endsWith('.so')) symlinkSync(join(source, name), join(folder, name));
  }
  for (const [soname, file] of SONAME_TO_PREBUILT) {
    if (!existsSync(join(source, file))) {
      throw new Error(`the prebuilt kernels lack ${file}: update bench/peer-tools.ts`);
    }
    symlinkSync(join(source, file), join(folder, soname));
  }
  return folder;
}

let prebuiltFolder: string | null = null;

/** How to run the peer tool `name` on `kernels`, or null if bench/peer/build.sh has not run. */
export function peerLaunch(name: string, kernels: PeerKernels = 'prebuilt'): PeerLaunch | null {
  const binary = join(peerBin, name);
  if (!existsSync(binary)) return null;
  if (kernels === 'native') return { binary, cwd: peerBin, env: process.env };
  prebuiltFolder ??= prebuiltKernelFolder();
  const inherited = process.env['LD_LIBRARY_PATH'];
  return {
    binary,
    cwd: prebuiltFolder,
    env: {
      ...process.env,
      LD_LIBRARY_PATH: inherited ? `${prebuiltFolder}:${inherited}` : prebuiltFolder,
    },
  };
}

/**
 * Run llama-batched-bench (prompt `promptLength`, `steps` generated tokens, each parallel count)
 * and return its text-generation rate (S_TG t/s) per parallel count, or null if it is not built.
 */
export function runBatchedBench(
  modelPath: string,
  parallel: readonly number[],
  promptLength: number,
  steps: number,
  threads: number,
  unifiedKv: boolean,
  kernels: PeerKernels = 'prebuilt',
): Map<number, number> | null {
  const launch = peerLaunch('llama-batched-bench', kernels);
  if (launch === null) return null;
  const maxParallel = Math.max(...parallel);
  const run = spawnSync(
    launch.binary,
    [
      ...['-m', modelPath, '-c', String(maxParallel * (promptLength + steps + 8))],
      ...['-b', '512', '-ub', '512', '-npp', String(promptLength), '-ntg', String(steps)],
      ...['-npl', parallel.join(','), '-t', String(threads), '-tb', String(threads)],
      unifiedKv ? '-kvu' : '-no-kvu',
    ],
    {
      encoding: 'utf8',
      timeout: 600_000,
      cwd: launch.cwd,
      // The loader's trace names every library it initialises: proof of which kernels ran.
      env: { ...launch.env, LD_DEBUG: 'libs' },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (run.status !== 0) throw new Error(`llama-batched-bench failed: ${run.stderr}`);
  if (
    kernels === 'prebuilt' &&
    !/calling init: \S*prebuilt-kernels\/libggml-cpu-/.test(run.stderr)
  ) {
    throw new Error('llama-batched-bench did not load a prebuilt CPU backend');
  }
  const rates = new Map<number, number>();
  // Table rows: |  PP |  TG |  B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
  for (const line of run.stdout.split('\n')) {
    const cells = line
      .split('|')
      .map((c) => c.trim())
      .filter((c) => c.length > 0);
    if (cells.length >= 8 && /^\d+$/.test(cells[2]!)) rates.set(Number(cells[2]), Number(cells[7]));
  }
  return rates;
}
