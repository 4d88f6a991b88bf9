/**
 * Decode-loop benchmark: the binding's overhead as a ratio.
 *
 * For 8 and 16 sequences, 64 decode steps of one token per sequence on the random ~130M F16
 * model, measured three ways in one process, interleaved round by round (the machine is shared
 * and noisy, so we compare medians of ratios within one run):
 *   - floor: the addon's synchronous decode on the JS thread, no sampling, no JS per row;
 *   - async: the addon's asynchronous decode (worker thread), no sampling;
 *   - backend: the full backend path (validate, pack, async decode with fused sampling at
 *     temperature 1 / top-p 0.95 / top-k 40 plus 1 top logprob, unpack), feeding the drawn tokens back.
 * If llama.cpp's own llama-batched-bench has been built (bench/peer, see that README), its
 * text-generation rate at the same batch sizes is reported too.
 *
 * Usage: npx tsx bench/decode-loop.ts [--kv per-sequence|unified] [--rounds N] [--steps N]
 *   [--threads N] [--sequences 8,16] [--device cpu|cuda|vulkan]
 * The KV mode applies to our contexts and to llama-batched-bench alike (its default is
 * per-sequence streams; `-kvu` is unified). Writes the figures to the console and replaces the
 * "Decode loop (<kv> KV)" section of bench/RESULTS.md ("Decode loop (<kv> KV, <device>)" off cpu,
 * where every layer is offloaded and no llama-batched-bench is run).
 */
import { parseArgs } from 'node:util';
import { LlamaBackend } from '../src/backend/llama/llama-backend.ts';
import { loadAddon } from '../src/backend/llama/load-addon.ts';
import type { NativeBatch, NativeContext } from '../src/backend/llama/native-addon.ts';
import type { SequenceChunk } from '../src/backend/model-backend.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { median, writeResultsSection } from './bench-support.ts';
import { runBatchedBench } from './peer-tools.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '64' },
    threads: { type: 'string' },
    prompt: { type: 'string', default: '32' },
    kv: { type: 'string', default: 'per-sequence' },
    sequences: { type: 'string', default: '8,16' },
    device: { type: 'string', default: 'cpu' },
  },
});
if (values.device !== 'cpu' && values.device !== 'cuda' && values.device !== 'vulkan') {
  throw new Error(`--device must be cpu, cuda or vulkan, got ${values.device}`);
}
const variant = values.device;
if (values.kv !== 'per-sequence' && values.kv !== 'unified') {
  throw new Error(`--kv must be per-sequence or unified, got ${values.kv}`);
}
const unifiedKv = values.kv === 'unified';
const rounds = Number(values.rounds);
const steps = Number(values.steps);
const promptLength = Number(values.prompt);
const SEQUENCE_COUNTS = values.sequences.split(',').map(Number);
const MAX_SEQUENCES = Math.max(16, ...SEQUENCE_COUNTS);
const CONTEXT = MAX_SEQUENCES * (promptLength + steps + 8);

const modelPath = await ensureModel({ preset: 'random-130m-f16' });
const { addon, info } = loadAddon(variant);
const threads = values.threads !== undefined ? Number(values.threads) : addon.physicalCores();
const backend = await LlamaBackend.load({
  modelPath,
  variant,
  contextSize: CONTEXT,
  maxSequences: MAX_SEQUENCES,
  unifiedKv,
  threads,
});
const rawModel = await addon.loadModel(modelPath, {
  gpuLayers: variant === 'cpu' ? 0 : -1,
  useMmap: true,
  vocabOnly: false,
});
const rawContext = await rawModel.createContext({
  contextSize: CONTEXT,
  batchSize: 512,
  microBatchSize: 512,
  maxSequences: MAX_SEQUENCES,
  unifiedKv,
  threads,
  flashAttention: 'auto',
  embeddings: false,
});
const vocab = backend.info.vocabSize;

/** A deterministic pseudo-random token stream for prompts and for the raw loops. */
let state = 12345;
const nextToken = (): number => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state % vocab;
};

function stepBatch(sequences: number, position: number, outputs: boolean): NativeBatch {
  const tokens = Int32Array.from({ length: sequences }, nextToken);
  const positions = new Int32Array(sequences).fill(position);
  const sequenceIds = Int32Array.from({ length: sequences }, (_, i) => i);
  return {
    tokens,
    positions,
    sequenceIds,
    outputs: new Uint8Array(sequences).fill(outputs ? 1 : 0),
  };
}

async function prefillRaw(context: NativeContext, sequences: number): Promise<void> {
  context.kvClear();
  for (let s = 0; s < sequences; s++) {
    const tokens = Int32Array.from({ length: promptLength }, nextToken);
    await context.decode({
      tokens,
      positions: Int32Array.from({ length: promptLength }, (_, i) => i),
      sequenceIds: new Int32Array(promptLength).fill(s),
      outputs: new Uint8Array(promptLength),
    });
  }
}

/** ms per step of the synchronous, sampling-free decode. */
async function floorLoop(sequences: number): Promise<number> {
  await prefillRaw(rawContext, sequences);
  const start = performance.now();
  for (let i = 0; i < steps; i++)
    rawContext.decodeSync(stepBatch(sequences, promptLength + i, true));
  return (performance.now() - start) / steps;
}

/** ms per step of the asynchronous decode, no sampling. */
async function asyncLoop(sequences: number): Promise<number> {
  await prefillRaw(rawContext, sequences);
  const start = performance.now();
  for (let i = 0; i < steps; i++)
    await rawContext.decode(stepBatch(sequences, promptLength + i, true));
  return (performance.now() - start) / steps;
}

/** ms per step of the backend path with fused sampling, feeding drawn tokens back. */
async function backendLoop(sequences: number, round: number): Promise<number> {
  backend.kv.clear();
  const prompts: SequenceChunk[] = Array.from({ length: sequences }, (_, s) => ({
    sequenceId: s,
    startPosition: 0,
    tokens: Array.from({ length: promptLength }, nextToken),
    rows: [],
  }));
  for (const chunk of prompts) await backend.decode({ chunks: [chunk] });
  let last = prompts.map((chunk) => chunk.tokens[chunk.tokens.length - 1]!);
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    const result = await backend.decode({
      chunks: last.map((token, s) => ({
        sequenceId: s,
        startPosition: promptLength + i,
        tokens: [token],
        rows: [
          {
            offset: 0,
            sampling: {
              temperature: 1,
              topK: 40,
              topP: 0.95,
              minP: 0,
              seed: BigInt(round * 1_000_003 + i * 64 + s),
              allowedTokens: null,
              logitBias: null,
            },
            topLogprobs: 1,
            targetToken: null,
            returnLogits: false,
          },
        ],
      })),
    });
    last = result.rows.map((row) => row.token!);
  }
  return (performance.now() - start) / steps;
}

interface Figures {
  floor: number[];
  async: number[];
  backend: number[];
}

console.log(`llama.cpp ${info.llamaVersion}; ${info.systemInfo}`);
console.log(
  `model ${backend.info.description}, ${(backend.info.parameterCount / 1e6).toFixed(0)}M params, threads ${threads}`,
);
const figures = new Map<number, Figures>();
for (const sequences of SEQUENCE_COUNTS)
  figures.set(sequences, { floor: [], async: [], backend: [] });
await floorLoop(8); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const sequences of SEQUENCE_COUNTS) {
    const f = figures.get(sequences)!;
    f.floor.push(await floorLoop(sequences));
    f.async.push(await asyncLoop(sequences));
    f.backend.push(await backendLoop(sequences, round));
  }
}

const lines = [
  `| sequences | floor ms/step | async ms/step | backend ms/step | backend tok/s | backend / floor |`,
  `|---:|---:|---:|---:|---:|---:|`,
];
for (const [sequences, f] of figures) {
  const floor = median(f.floor);
  const backendMs = median(f.backend);
  const ratios = f.backend.map((b, i) => b / f.floor[i]!);
  lines.push(
    `| ${sequences} | ${floor.toFixed(2)} | ${median(f.async).toFixed(2)} | ${backendMs.toFixed(2)} | ` +
      `${((sequences * 1000) / backendMs).toFixed(1)} | ${median(ratios).toFixed(3)} |`,
  );
}
const peer =
  variant === 'cpu'
    ? runBatchedBench(modelPath, SEQUENCE_COUNTS, promptLength, steps, threads, unifiedKv)
    : null;
if (peer !== null) {
  lines.push(
    '',
    '| sequences | llama-batched-bench tg tok/s | backend tok/s / llama-batched-bench |',
    '|---:|---:|---:|',
  );
  for (const [sequences, tokensPerSecond] of peer) {
    const ours = (sequences * 1000) / median(figures.get(sequences)!.backend);
    lines.push(
      `| ${sequences} | ${tokensPerSecond.toFixed(1)} | ${(ours / tokensPerSecond).toFixed(3)} |`,
    );
  }
} else {
  lines.push('', `llama-batched-bench not run (not built in bench/peer, or device ${variant}).`);
}
const table = lines.join('\n');
console.log(table);
const deviceNote = variant === 'cpu' ? '' : ` --device ${variant}`;
writeResultsSection(
  `Decode loop (${values.kv} KV${variant === 'cpu' ? '' : `, ${variant}`})`,
  `\`npx tsx bench/decode-loop.ts --kv ${values.kv} --rounds ${rounds} --steps ${steps}${deviceNote}\`, ${new Date().toISOString()}, ` +
    `${threads} threads, medians of ${rounds} interleaved rounds, prompt ${promptLength} tokens per sequence.\n\n${table}`,
);
rawContext.dispose();
rawModel.dispose();
await backend.dispose();
