/**
 * Test support: generated models loaded through the real llama.cpp backend.
 *
 * Owns: the one place tests name model specs and backend options, so every cross-layer test
 * loads models the same way (one kernel build, small contexts, a few threads).
 */
import type { ServeOptions } from '../../src/cli/serve-options.ts';
import { LlamaBackend, type LlamaBackendOptions } from '../../src/backend/llama/llama-backend.ts';
import {
  GREEDY_SAMPLING,
  type OutputRow,
  type RowSampling,
} from '../../src/backend/model-backend.ts';
import { ensureModel, type ModelSpec } from '../../src/gguf/model-cache.ts';
import type { NativeVariant } from '../../src/backend/llama/native-addon.ts';

/**
 * The kernel build the model-backed tests run on: cpu, or the one `SERVELLM_TEST_DEVICE` names
 * (`cuda` on a machine with an NVIDIA GPU, to check that build the same way).
 */
export const TEST_KERNEL_VARIANT: NativeVariant = testKernelVariant(
  process.env.SERVELLM_TEST_DEVICE,
);

function testKernelVariant(value: string | undefined): NativeVariant {
  if (value === undefined || value === '') return 'cpu';
  if (value === 'cpu' || value === 'cuda' || value === 'vulkan') return value;
  throw new Error(`SERVELLM_TEST_DEVICE must be cpu, cuda or vulkan, not ${JSON.stringify(value)}`);
}

export async function loadTestBackend(
  spec: ModelSpec,
  options: Omit<LlamaBackendOptions, 'modelPath'> = {},
): Promise<LlamaBackend> {
  const modelPath = await ensureModel(spec);
  return LlamaBackend.load({
    modelPath,
    variant: TEST_KERNEL_VARIANT,
    contextSize: 2048,
    maxSequences: 4,
    batchSize: 512,
    ...options,
  });
}

export const GREEDY: RowSampling = GREEDY_SAMPLING;

/** An output row at `offset` with the given fields (score-only, no logits by default). */
export function row(offset: number, fields: Partial<OutputRow> = {}): OutputRow {
  return {
    offset,
    sampling: null,
    topLogprobs: 0,
    targetToken: null,
    returnLogits: false,
    ...fields,
  };
}

/**
 * Serve options for an in-process test server on the successor F16 model: loopback, an
 * ephemeral port, one thread, quiet logs, served as "successor"; `overrides` adjust the limits.
 */
export async function testServeOptions(
  overrides: Partial<ServeOptions> = {},
): Promise<ServeOptions> {
  return {
    model: await ensureModel({ preset: 'successor', weightType: 'f16' }),
    host: '127.0.0.1',
    port: 0,
    apiKeys: [],
    servedModelNames: ['successor'],
    chatTemplate: null,
    trustRequestChatTemplate: false,
    responseRole: 'assistant',
    enableAutoToolChoice: false,
    toolCallParser: null,
    excludeToolsWhenToolChoiceNone: false,
    maxLogprobs: 20,
    returnTokensAsTokenIds: false,
    maxNSequences: 16384,
    maxModelLen: 512,
    maxNumSeqs: 8,
    maxNumBatchedTokens: 256,
    schedulingPolicy: 'fcfs',
    seed: 0,
    generationConfig: 'auto',
    overrideGenerationConfig: { values: {}, unset: [] },
    dtype: 'auto',
    logLevel: 'error',
    disableLogRequests: true,
    logStatsIntervalS: null,
    shutdownTimeoutS: 0,
    threads: 1,
    device: TEST_KERNEL_VARIANT,
    stepLatencyFactor: 2,
    blockSize: 16,
    enablePrefixCaching: true,
    enablePromptTokensDetails: false,
    kvCacheLayout: 'per-sequence',
    numGpuBlocksOverride: null,
    allowedOrigins: ['*'],
    allowedMethods: ['*'],
    allowedHeaders: ['*'],
    allowCredentials: false,
    rootPath: null,
    enableRequestIdHeaders: false,
    disableFastapiDocs: false,
    enableServerLoadTracking: false,
    enableForceIncludeUsage: false,
    maxLogLen: null,
    maxRequestBody: 32 * 1024 * 1024,
    maxWaitingRequests: 1024,
    timeoutKeepAliveS: 5,
    timeoutRequestHeadersS: 10,
    timeoutRequestBodyS: 60,
    maxStreamBuffer: 4 * 1024 * 1024,
    sslKeyfile: null,
    sslCertfile: null,
    sslCaCerts: null,
    sslCertReqs: 0,
    ...overrides,
  };
}
