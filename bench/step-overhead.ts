/**
 * Step-overhead benchmark: what one single-sequence decode step costs beyond the kernels.
 *
 * Runs one sequence of the random ~130M F16 model through greedy decode steps with 128 logit
 * biases (the serving comparison's workload at concurrency 1), three ways in one process:
 *   - raw: the addon's decodeSync with a prebuilt batch and sampling spec;
 *   - backend: LlamaBackend.decode (validate, pack, one event-loop turn, decodeSync, unpack).
 * Per step it takes the wall time minus the addon's own decodeMs + sampleMs: the binding's and
 * the backend's host overhead, in microseconds (medians over steps, then over rounds).
 *
 * Usage: npx tsx bench/step-overhead.ts [--rounds 5] [--steps 200] [--threads 2]
 */
import { parseArgs } from 'node:util';
import { LlamaBackend } from '../src/backend/llama/llama-backend.ts';
import { loadAddon } from '../src/backend/llama/load-addon.ts';
import type { NativeSamplingSpec } from '../src/backend/llama/native-addon.ts';
import { GREEDY_SAMPLING, type SequenceChunk } from '../src/backend/model-backend.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { median } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    only: { type: 'string', default: 'both' },
    steps: { type: 'string', default: '200' },
    threads: { type: 'string', default: '2' },
  },
});
const rounds = Number(values.rounds);
const steps = Number(values.steps);
const modelPath = await ensureModel({ preset: 'random-130m-f16' });
const backend = await LlamaBackend.load({
  modelPath,
  variant: 'cpu',
  contextSize: 4096,
  maxSequences: 16,
  unifiedKv: false,
  threads: Number(values.threads),
});
const bias = {
  tokens: Int32Array.from({ length: 128 }, (_, i) => 128 + i),
  values: new Float32Array(128).fill(-100),
};
const sampling = { ...GREEDY_SAMPLING, logitBias: bias };

const { addon } = loadAddon('cpu');
const rawModel = await addon.loadModel(modelPath, {
  gpuLayers: 0,
  useMmap: true,
  vocabOnly: false,
});
const rawContext = await rawModel.createContext({
  contextSize: 4096,
  batchSize: 512,
  microBatchSize: 512,
  maxSequences: 16,
  unifiedKv: false,
  threads: Number(values.threads),
  flashAttention: 'auto',
  embeddings: false,
});
const rawSpec: NativeSamplingSpec = {
  sample: Uint8Array.of(1),
  temperature: Float32Array.of(0),
  topK: Int32Array.of(0),
  topP: Float32Array.of(1),
  minP: Float32Array.of(0),
  seeds: BigUint64Array.of(0n),
  topLogprobs: Int32Array.of(0),
  targetTokens: Int32Array.of(-1),
  returnLogits: Uint8Array.of(0),
  scoreSampled: Uint8Array.of(0),
  biasOffsets: Int32Array.of(0, 128),
  biasTokens: bias.tokens,
  biasValues: bias.values,
};

const rawSampleUs: number[] = [];

/** The addon alone: decodeSync with prebuilt arrays, no JS work per step. */
function rawRound(): number {
  rawContext.kvClear();
  const prompt = Int32Array.from({ length: 32 }, (_, i) => 300 + i);
  rawContext.decodeSync({
    tokens: prompt,
    positions: Int32Array.from({ length: 32 }, (_, i) => i),
    sequenceIds: new Int32Array(32),
    outputs: new Uint8Array(32),
  });
  const batch = {
    tokens: Int32Array.of(prompt[31]!),
    positions: Int32Array.of(32),
    sequenceIds: Int32Array.of(0),
    outputs: Uint8Array.of(1),
  };
  const overheads: number[] = [];
  const samples: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    const result = rawContext.decodeSync(batch, rawSpec);
    samples.push(result.sampleMs * 1000);
    overheads.push((performance.now() - start - result.decodeMs - result.sampleMs) * 1000);
    batch.tokens[0] = result.tokens[0]!;
    batch.positions[0]! += 1;
  }
  rawSampleUs.push(median(samples));
  return median(overheads);
}

async function round(): Promise<{ backendUs: number; kernelMs: number }> {
  backend.kv.clear();
  const prompt = Array.from({ length: 32 }, (_, i) => 300 + i);
  await backend.decode({ chunks: [{ sequenceId: 0, startPosition: 0, tokens: prompt, rows: [] }] });
  let token = prompt[prompt.length - 1]!;
  const overheads: number[] = [];
  const kernels: number[] = [];
  for (let i = 0; i < steps; i++) {
    const chunk: SequenceChunk = {
      sequenceId: 0,
      startPosition: 32 + i,
      tokens: [token],
      rows: [
        {
          offset: 0,
          sampling,
          topLogprobs: 0,
          targetToken: null,
          returnLogits: false,
          scoreSample: false,
        },
      ],
    };
    const start = performance.now();
    const result = await backend.decode({ chunks: [chunk] });
    const wall = performance.now() - start;
    overheads.push((wall - result.decodeMs - result.sampleMs) * 1000);
    kernels.push(result.decodeMs + result.sampleMs);
    token = result.rows[0]!.token!;
  }
  return { backendUs: median(overheads), kernelMs: median(kernels) };
}

const results = [];
for (let r = 0; r < rounds; r++) {
  const figures =
    values.only === 'raw'
      ? { backendUs: NaN, kernelMs: NaN, rawUs: rawRound() }
      : values.only === 'backend'
        ? { ...(await round()), rawUs: NaN }
        : { ...(await round()), rawUs: rawRound() };
  results.push(figures);
  console.log(
    `round ${r + 1}: raw ${figures.rawUs.toFixed(1)} us/step, backend ${figures.backendUs.toFixed(1)} us/step, ` +
      `kernel ${figures.kernelMs.toFixed(2)} ms`,
  );
}
console.log(
  `median overhead per step: raw ${median(results.map((f) => f.rawUs)).toFixed(1)} us, ` +
    `backend ${median(results.map((f) => f.backendUs)).toFixed(1)} us, ` +
    `sampling ${median(rawSampleUs).toFixed(1)} us ` +
    `(kernel ${median(results.map((f) => f.kernelMs)).toFixed(2)} ms, syncDecodes ${backend.syncDecodeCount})`,
);
await backend.dispose();
