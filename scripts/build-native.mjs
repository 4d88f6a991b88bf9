#!/usr/bin/env node
// Builds the servellm N-API addon in native/ (plain Node ESM, no dependencies).
//
// 1. Extracts llama.h and the ggml headers of the exact llama.cpp release the prebuilt libraries
//    were built from (node-llama-cpp ships it as a git bundle) into native/include/ (git-ignored).
// 2. ABI check: the llama_* functions declared in llama.h (deprecated ones included) must be
//    exactly the llama_* functions exported by each variant's libllama; otherwise the build fails
//    with the difference (parameter structs are passed by value, so a mismatch corrupts memory).
// 3. Writes native/include/variants.gypi with one target per installed variant
//    (servellm_cpu, servellm_cuda, servellm_vulkan) and runs node-gyp configure + build against
//    the local Node headers (never downloads them).
//
// Output: native/build/Release/servellm_<variant>.node. Options (environment):
//   SERVELLM_VARIANTS=cpu,cuda   build only these variants (default: every installed one)
//   SERVELLM_BUILD_JOBS=2        parallel compile jobs (default 2)
//   SERVELLM_NODEDIR=/usr        prefix holding include/node (default: /usr, then Node's prefix)
//   SERVELLM_REBUILD=1           clean build (default: incremental)
import { execFileSync, spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const LLAMA_RELEASE = '0.4.0';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(repoRoot, 'native');
const includeDir = join(nativeDir, 'include');
const releaseDir = join(nativeDir, 'build', 'Release');

const HEADERS = {
  'include/llama.h': 'llama.h',
  'ggml/include/ggml.h': 'ggml.h',
  'ggml/include/ggml-cpu.h': 'ggml-cpu.h',
  'ggml/include/ggml-backend.h': 'ggml-backend.h',
  'ggml/include/ggml-alloc.h': 'ggml-alloc.h',
  'ggml/include/ggml-opt.h': 'ggml-opt.h',
  'ggml/include/gguf.h': 'gguf.h',
};

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

function log(message) {
  console.log(`build-native: ${message}`);
}

/** The directory of an installed package, found the way Node resolves node_modules. */
function findPackage(name) {
  for (let dir = repoRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

function git(args, options = {}) {
  return execFileSync('git', args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
}

function extractHeaders() {
  const llamaPackage = findPackage('node-llama-cpp');
  if (!llamaPackage) fail('node-llama-cpp is not installed (run npm ci)');
  const bundle = join(llamaPackage, 'llama', 'gitRelease.bundle');
  if (!existsSync(bundle)) fail(`no llama.cpp source bundle at ${bundle}`);
  const head = git(['bundle', 'list-heads', bundle]).trim().split(/\s+/)[0];
  const stamp = join(includeDir, '.bundle-head');
  const present = Object.values(HEADERS).every((file) => existsSync(join(includeDir, file)));
  if (present && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === head) {
    log(`headers up to date (llama.cpp ${head.slice(0, 12)})`);
    return;
  }
  const temp = mkdtempSync(join(tmpdir(), 'servellm-llama-'));
  try {
    git(['clone', '--quiet', '--bare', bundle, join(temp, 'repo.git')]);
    mkdirSync(includeDir, { recursive: true });
    for (const [source, target] of Object.entries(HEADERS)) {
      const text = git(['--git-dir', join(temp, 'repo.git'), 'show', `HEAD:${source}`]);
      writeFileSync(join(includeDir, target), text);
    }
    writeFileSync(stamp, `${head}\n`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  log(`extracted ${Object.keys(HEADERS).length} headers from llama.cpp ${head.slice(0, 12)}`);
}

/** Every llama_* function declared with LLAMA_API in llama.h, deprecated ones included. */
function declaredFunctions() {
  let text = readFileSync(join(includeDir, 'llama.h'), 'utf8');
  text = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  text = text.replace(/^[ \t]*#[^\n]*(\\\n[^\n]*)*/gm, ' ');
  const names = new Set();
  for (const statement of text.split(/[;{}]/)) {
    if (!/\bLLAMA_API\b/.test(statement)) continue;
    const match = /\b(llama_\w+)\s*\(/.exec(statement);
    if (match) names.add(match[1]);
  }
  return names;
}

function exportedFunctions(library) {
  const out = execFileSync('nm', ['-D', '--defined-only', library], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const names = new Set();
  for (const line of out.split('\n')) {
    const [, type, name] = line.trim().split(/\s+/);
    if (name && /^llama_/.test(name) && /^[TtWi]$/.test(type)) names.add(name);
  }
  return names;
}

function checkAbi(variant, declared) {
  const library = join(variant.bins, variant.llama);
  let exported;
  try {
    exported = exportedFunctions(library);
  } catch (error) {
    fail(`ABI check: cannot list the symbols of ${library} with nm (${error.message})`);
  }
  const missing = [...declared].filter((name) => !exported.has(name)).sort();
  const extra = [...exported].filter((name) => !declared.has(name)).sort();
  if (missing.length > 0 || extra.length > 0) {
    const lines = [
      `ABI check failed for ${variant.name}: llama.h (llama.cpp ${LLAMA_RELEASE}) and ${library} disagree`,
      ...missing.map((name) => `  declared in llama.h, not exported: ${name}`),
      ...extra.map((name) => `  exported, not declared in llama.h: ${name}`),
    ];
    fail(lines.join('\n'));
  }
  log(`ABI check ok for ${variant.name}: ${declared.size} llama_* functions match`);
}

function findVariants() {
  if (process.platform !== 'linux') fail(`unsupported platform ${process.platform} (linux only)`);
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!arch) fail(`unsupported architecture ${process.arch}`);
  const wanted = process.env.SERVELLM_VARIANTS?.split(',').map((v) => v.trim());
  const variants = [];
  for (const [name, suffix, infix] of [
    ['cpu', '', ''],
    ['cuda', '-cuda', '.cuda'],
    ['vulkan', '-vulkan', '.vulkan'],
  ]) {
    if (wanted && !wanted.includes(name)) continue;
    const pkg = findPackage(`@node-llama-cpp/linux-${arch}${suffix}`);
    if (!pkg) continue;
    const bins = join(pkg, 'bins', `linux-${arch}${suffix}`);
    const variant = {
      name,
      bins,
      llama: `libllama${infix}.v${LLAMA_RELEASE}.so`,
      ggml: `libggml${infix}.v${LLAMA_RELEASE}.so`,
    };
    if (![variant.llama, variant.ggml, 'libggml-base.so'].every((f) => existsSync(join(bins, f)))) {
      log(`skipping ${name}: ${bins} lacks ${variant.llama}, ${variant.ggml} or libggml-base.so`);
      continue;
    }
    variants.push(variant);
  }
  if (wanted) {
    for (const name of wanted) {
      if (!variants.some((v) => v.name === name)) fail(`variant ${name} is not installed`);
    }
  }
  if (variants.length === 0) fail(`no @node-llama-cpp/linux-${arch}* package with libraries found`);
  return variants;
}

function nodeDir() {
  const candidates = [
    process.env.SERVELLM_NODEDIR,
    '/usr',
    resolve(dirname(process.execPath), '..'),
  ];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  fail(
    'Node headers not found (looked for include/node/node_api.h under /usr and the Node ' +
      'prefix); install them (e.g. the nodejs-dev / libnode-dev package) or set SERVELLM_NODEDIR',
  );
}

function writeVariantsGypi(variants, napiInclude) {
  const targets = variants.map((variant) => {
    const rpath = relative(releaseDir, variant.bins);
    return {
      target_name: `servellm_${variant.name}`,
      // Paths in an included .gypi are relative to the .gypi (native/include/).
      sources: ['../src/addon.cc'],
      dependencies: ['servellm_core'],
      libraries: [
        `-L${variant.bins}`,
        `-l:${variant.llama}`,
        `-l:${variant.ggml}`,
        '-l:libggml-base.so',
      ],
      ldflags: [`-Wl,-rpath,'$$ORIGIN/${rpath}'`],
    };
  });
  const gypi = {
    variables: { napi_include_dir: napiInclude },
    targets,
  };
  const header = '# Generated by scripts/build-native.mjs; do not edit.\n';
  writeFileSync(join(includeDir, 'variants.gypi'), header + JSON.stringify(gypi, null, 2) + '\n');
}

function runNodeGyp(args) {
  const gypPackage = findPackage('node-gyp');
  if (!gypPackage) fail('node-gyp is not installed (run npm ci)');
  const result = spawnSync(process.execPath, [join(gypPackage, 'bin', 'node-gyp.js'), ...args], {
    cwd: nativeDir,
    stdio: 'inherit',
  });
  if (result.status !== 0) fail(`node-gyp ${args[0]} failed (exit ${result.status})`);
}

const started = Date.now();
extractHeaders();
const declared = declaredFunctions();
if (declared.size < 100) fail(`parsed only ${declared.size} llama_* declarations from llama.h`);
const variants = findVariants();
for (const variant of variants) checkAbi(variant, declared);
const napiPackage = findPackage('node-addon-api');
if (!napiPackage) fail('node-addon-api is not installed (run npm ci)');
writeVariantsGypi(variants, napiPackage);

const common = [`--nodedir=${nodeDir()}`, '--release'];
if (process.env.SERVELLM_REBUILD === '1')
  rmSync(join(nativeDir, 'build'), { recursive: true, force: true });
runNodeGyp(['configure', ...common]);
runNodeGyp(['build', ...common, `--jobs=${process.env.SERVELLM_BUILD_JOBS ?? '2'}`]);

for (const variant of variants) {
  const output = join(releaseDir, `servellm_${variant.name}.node`);
  if (!existsSync(output)) fail(`expected output ${output} is missing`);
  log(`built ${relative(repoRoot, output)} (libraries: ${relative(repoRoot, variant.bins)})`);
}
log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
