/**
 * Finds and loads the native addon build for a kernel variant, once per process.
 *
 * Owns: where the prebuilt llama.cpp libraries live (the `@node-llama-cpp/*` npm packages), which
 * addon build links to them (`native/build/Release/servellm_<variant>.node`), and the `auto`
 * choice. llama.cpp keeps one global backend registry, so a process loads one variant only.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResultView } from './decode-result-view.ts';
import type {
  NativeAddon,
  NativeBatch,
  NativeContext,
  NativeDecodeResult,
  NativeInitInfo,
  NativeSamplingSpec,
  NativeVariant,
  RawNativeAddon,
  RawNativeContext,
} from './native-addon.ts';

/** `auto` picks cuda when an NVIDIA driver and the cuda build are present, else cpu. */
export type KernelVariant = NativeVariant | 'auto';

const require = createRequire(import.meta.url);
const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const PACKAGE_OF: Record<NativeVariant, string> = {
  cpu: '@node-llama-cpp/linux-x64',
  cuda: '@node-llama-cpp/linux-x64-cuda',
  vulkan: '@node-llama-cpp/linux-x64-vulkan',
};

const BINS_OF: Record<NativeVariant, string> = {
  cpu: 'linux-x64',
  cuda: 'linux-x64-cuda',
  vulkan: 'linux-x64-vulkan',
};

/** The folder holding a variant's llama.cpp shared libraries, or null if its package is absent. */
export function libraryDirectory(variant: NativeVariant): string | null {
  try {
    // The packages export only their entry point (dist/index.js), not package.json.
    const entry = require.resolve(PACKAGE_OF[variant]);
    const dir = join(dirname(entry), '..', 'bins', BINS_OF[variant]);
    return existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

/** The path of a variant's addon build (whether or not it exists). */
export function addonPath(variant: NativeVariant): string {
  return join(repositoryRoot, 'native', 'build', 'Release', `servellm_${variant}.node`);
}

function resolveVariant(requested: KernelVariant): NativeVariant {
  if (requested !== 'auto') return requested;
  const hasNvidiaDriver = existsSync('/proc/driver/nvidia/version');
  if (hasNvidiaDriver && existsSync(addonPath('cuda')) && libraryDirectory('cuda') !== null) {
    return 'cuda';
  }
  return 'cpu';
}

export interface LoadedAddon {
  readonly addon: NativeAddon;
  readonly variant: NativeVariant;
  readonly info: NativeInitInfo;
}

let loaded: LoadedAddon | null = null;

/**
 * The addon's exports completed into NativeAddon: the context class gets `decode` and
 * `decodeSync`, and `sampleLogits` is added, each unpacking the addon's packed result.
 */
function completeAddon(raw: RawNativeAddon): NativeAddon {
  const prototype = raw.NativeContext.prototype as RawNativeContext &
    Pick<NativeContext, 'decode' | 'decodeSync'>;
  prototype.decode = async function decode(
    this: RawNativeContext,
    batch: NativeBatch,
    sampling?: NativeSamplingSpec,
  ): Promise<NativeDecodeResult> {
    return decodeResultView(await this.decodePacked(batch, sampling));
  };
  prototype.decodeSync = function decodeSync(
    this: RawNativeContext,
    batch: NativeBatch,
    sampling?: NativeSamplingSpec,
  ): NativeDecodeResult {
    return decodeResultView(this.decodeSyncPacked(batch, sampling));
  };
  return Object.assign(raw, {
    sampleLogits: (logits: Float32Array, vocabSize: number, sampling: NativeSamplingSpec) =>
      decodeResultView(raw.sampleLogitsPacked(logits, vocabSize, sampling)),
  });
}

/** Load and initialise the addon for `requested`; later calls must ask for the same variant. */
export function loadAddon(requested: KernelVariant = 'auto'): LoadedAddon {
  const variant = resolveVariant(requested);
  if (loaded !== null) {
    if (loaded.variant !== variant) {
      throw new Error(`kernel variant ${loaded.variant} is already loaded; cannot load ${variant}`);
    }
    return loaded;
  }
  const libraries = libraryDirectory(variant);
  if (libraries === null) {
    throw new Error(`kernel variant ${variant}: package ${PACKAGE_OF[variant]} is not installed`);
  }
  const path = addonPath(variant);
  if (!existsSync(path)) {
    throw new Error(
      `kernel variant ${variant}: addon not built at ${path} (run npm run build:native)`,
    );
  }
  const addon = completeAddon(require(path) as RawNativeAddon);
  const info = addon.init(libraries);
  loaded = { addon, variant, info };
  return loaded;
}
