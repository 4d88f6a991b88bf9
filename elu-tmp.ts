import { LlamaBackend } from './src/backend/llama/llama-backend.ts';
import { LlmEngine } from './src/engine/llm-engine.ts';
import { params } from './src/engine/engine-test-fixtures.ts';
import { ensureModel } from './src/gguf/model-cache.ts';
const threads = Number(process.argv[2]);
const backend = await LlamaBackend.load({ modelPath: await ensureModel({ preset: 'random-130m-f16' }), variant: 'cpu', contextSize: 4096, maxSequences: 16, unifiedKv: false, threads, batchSize: 2048, microBatchSize: 512 });
const engine = new LlmEngine(backend, { maxModelLen: 256, maxNumSeqs: 16, maxNumBatchedTokens: 2048 });
const bias = new Map(Array.from({ length: 128 }, (_, i) => [128 + i, -100]));
for (let r = 0; r < 3; r++) {
  engine.drainStepTiming();
  const t0 = performance.now();
  for await (const o of engine.add({ id: 'r' + r, promptTokens: Array.from({ length: 32 }, (_, i) => 97 + (i % 26)), params: params({ maxTokens: 200, logitBias: bias }) })) {}
  const t = engine.drainStepTiming();
  console.log(threads, 'ms/token', ((performance.now() - t0) / 200).toFixed(2), 'host p50', t.hostMsP50.toFixed(3), 'active p50', t.loopActiveMsP50.toFixed(3));
}
await engine.shutdown(); await backend.dispose();
