import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProgram, type ServeOptions } from './serve-options.ts';

/** Parse argv (after "servellm") and return what serve would receive. */
async function parse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeOptions> {
  const saved = process.env;
  process.env = env;
  try {
    let received: ServeOptions | null = null;
    const program = buildProgram((options) => {
      received = options;
      return Promise.resolve();
    });
    program.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    for (const command of program.commands) {
      command.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    }
    await program.parseAsync(['node', 'servellm', ...args]);
    assert.ok(received !== null, 'serve was not called');
    return received;
  } finally {
    process.env = saved;
  }
}

describe('servellm command line', () => {
  it("has vLLM's defaults", async () => {
    const options = await parse(['serve']);
    assert.equal(options.model, null);
    assert.equal(options.port, 8000);
    assert.equal(options.host, '0.0.0.0');
    assert.equal(options.responseRole, 'assistant');
    assert.equal(options.maxNumBatchedTokens, 2048);
    assert.equal(options.seed, 0);
    assert.equal(options.device, 'auto');
    assert.deepEqual(options.apiKeys, []);
    assert.equal(options.logLevel, 'info');
    assert.equal(options.logStatsIntervalS, 10);
  });

  it("tool flags: vLLM's names, defaults and startup errors", async () => {
    const defaults = await parse(['serve']);
    assert.equal(defaults.enableAutoToolChoice, false);
    assert.equal(defaults.toolCallParser, null);
    assert.equal(defaults.excludeToolsWhenToolChoiceNone, false);
    const set = await parse([
      'serve',
      '--enable-auto-tool-choice',
      '--tool-call-parser',
      'hermes',
      '--exclude-tools-when-tool-choice-none',
    ]);
    assert.equal(set.enableAutoToolChoice, true);
    assert.equal(set.toolCallParser, 'hermes');
    assert.equal(set.excludeToolsWhenToolChoiceNone, true);
    await assert.rejects(
      parse(['serve', '--enable-auto-tool-choice']),
      /Error: --enable-auto-tool-choice requires --tool-call-parser/,
    );
    await assert.rejects(
      parse(['serve', '--tool-call-parser', 'nope']),
      /invalid tool call parser: nope \(chose from \{ hermes,/,
    );
  });

  it('--trust-request-chat-template is off unless given, and --help lists it', async () => {
    assert.equal((await parse(['serve'])).trustRequestChatTemplate, false);
    assert.equal(
      (await parse(['serve', '--trust-request-chat-template'])).trustRequestChatTemplate,
      true,
    );
    const serve = buildProgram(() => Promise.resolve()).commands[0]!;
    assert.match(serve.helpInformation(), /--trust-request-chat-template\s+render chat requests/);
  });

  it('logs stats every VLLM_LOG_STATS_INTERVAL seconds unless --disable-log-stats', async () => {
    assert.equal(
      (await parse(['serve'], { VLLM_LOG_STATS_INTERVAL: '2.5' })).logStatsIntervalS,
      2.5,
    );
    assert.equal(
      (await parse(['serve'], { SERVELLM_LOG_STATS_INTERVAL: '1', VLLM_LOG_STATS_INTERVAL: '3' }))
        .logStatsIntervalS,
      1,
    );
    assert.equal((await parse(['serve', '--disable-log-stats'])).logStatsIntervalS, null);
    await assert.rejects(
      parse(['serve'], { VLLM_LOG_STATS_INTERVAL: '0' }),
      /VLLM_LOG_STATS_INTERVAL/,
    );
  });

  it('reads the logprobs flags and VLLM_MAX_N_SEQUENCES', async () => {
    const defaults = await parse(['serve']);
    assert.deepEqual(
      [defaults.maxLogprobs, defaults.returnTokensAsTokenIds, defaults.maxNSequences],
      [20, false, 16384],
    );
    const set = await parse(['serve', '--max-logprobs', '-1', '--return-tokens-as-token-ids'], {
      VLLM_MAX_N_SEQUENCES: '128',
    });
    assert.deepEqual(
      [set.maxLogprobs, set.returnTokensAsTokenIds, set.maxNSequences],
      [-1, true, 128],
    );
    await assert.rejects(parse(['serve', '--max-logprobs', '-2']), /--max-logprobs/);
    assert.equal(defaults.schedulingPolicy, 'fcfs');
    assert.equal(
      (await parse(['serve', '--scheduling-policy', 'priority'])).schedulingPolicy,
      'priority',
    );
    await assert.rejects(parse(['serve', '--scheduling-policy', 'lifo']));
    await assert.rejects(parse(['serve'], { VLLM_MAX_N_SEQUENCES: '0' }), /VLLM_MAX_N_SEQUENCES/);
  });

  it('accepts the model as positional or --model, with or without the serve word', async () => {
    assert.equal((await parse(['serve', 'm.gguf'])).model, 'm.gguf');
    assert.equal((await parse(['serve', '--model', 'm.gguf'])).model, 'm.gguf');
    assert.equal((await parse(['--model', 'm.gguf', '--port', '9000'])).port, 9000);
    await assert.rejects(parse(['serve', 'a.gguf', '--model', 'b.gguf']), /disagree/);
  });

  it('parses the scheduler and model flags', async () => {
    const options = await parse([
      'serve',
      'm.gguf',
      '--max-model-len',
      '4k',
      '--max-num-seqs',
      '4',
      '--served-model-name',
      'a',
      'b',
      '--threads',
      '2',
      '--device',
      'cpu',
      '--log-level',
      'debug',
    ]);
    assert.equal(options.maxModelLen, 4000);
    assert.equal((await parse(['serve', '--max-model-len', '4K'])).maxModelLen, 4096);
    assert.equal((await parse(['serve', '--max-model-len', '25.6k'])).maxModelLen, 25600);
    assert.equal(options.maxNumSeqs, 4);
    assert.deepEqual(options.servedModelNames, ['a', 'b']);
    assert.equal(options.threads, 2);
    assert.equal(options.device, 'cpu');
    assert.equal(options.logLevel, 'debug');
  });

  it('takes API keys from flags first, then SERVELLM_API_KEY, then VLLM_API_KEY', async () => {
    assert.deepEqual((await parse(['serve', '--api-key', 'x', '--api-key', 'y'])).apiKeys, [
      'x',
      'y',
    ]);
    assert.deepEqual(
      (await parse(['serve'], { SERVELLM_API_KEY: 's', VLLM_API_KEY: 'v' })).apiKeys,
      ['s'],
    );
    assert.deepEqual((await parse(['serve'], { VLLM_API_KEY: 'v' })).apiKeys, ['v']);
    assert.deepEqual((await parse(['serve', '--api-key', 'x'], { VLLM_API_KEY: 'v' })).apiKeys, [
      'x',
    ]);
  });

  it('parses the KV cache flags, with their defaults', async () => {
    const defaults = await parse(['serve']);
    assert.equal(defaults.blockSize, 16);
    assert.equal(defaults.enablePrefixCaching, true);
    assert.equal(defaults.enablePromptTokensDetails, false);
    assert.equal(defaults.kvCacheLayout, 'per-sequence');
    assert.equal(defaults.numGpuBlocksOverride, null);
    assert.equal(defaults.stepLatencyFactor, 2);
    const set = await parse([
      'serve',
      '--no-enable-prefix-caching',
      '--enable-prompt-tokens-details',
      '--block-size',
      '32',
      '--kv-cache-layout',
      'unified',
      '--num-gpu-blocks-override',
      '100',
      '--step-latency-factor',
      '0',
    ]);
    assert.equal(set.enablePrefixCaching, false);
    assert.equal(set.enablePromptTokensDetails, true);
    assert.equal(set.blockSize, 32);
    assert.equal(set.kvCacheLayout, 'unified');
    assert.equal(set.numGpuBlocksOverride, 100);
    assert.equal(set.stepLatencyFactor, 0);
  });

  it('parses --generation-config and --override-generation-config, with their defaults', async () => {
    const defaults = await parse(['serve']);
    assert.equal(defaults.generationConfig, 'auto');
    assert.deepEqual(defaults.overrideGenerationConfig, { values: {}, unset: [] });
    const set = await parse([
      'serve',
      '--generation-config',
      'vllm',
      '--override-generation-config',
      '{"temperature": 0.5, "max_new_tokens": 10, "top_k": null, "do_sample": true}',
    ]);
    assert.equal(set.generationConfig, 'vllm');
    assert.deepEqual(set.overrideGenerationConfig, {
      values: { temperature: 0.5, max_new_tokens: 10 },
      unset: ['top_k'],
    });
    assert.equal(
      (await parse(['serve', '--generation-config', '/models/x'])).generationConfig,
      '/models/x',
    );
    await assert.rejects(
      parse(['serve', '--override-generation-config', '{temperature: 1}']),
      /--override-generation-config is not valid JSON/,
    );
    await assert.rejects(
      parse(['serve', '--override-generation-config', '[1]']),
      /--override-generation-config must be a JSON object, got \[1\]/,
    );
    await assert.rejects(
      parse(['serve', '--override-generation-config', '{"top_k": 2.5}']),
      /--override-generation-config: top_k must be an integer, got 2.5/,
    );
  });

  it('reads --max-request-body, 32 MiB by default', async () => {
    assert.equal((await parse(['serve'])).maxRequestBody, 32 * 1024 * 1024);
    assert.equal((await parse(['serve', '--max-request-body', '4096'])).maxRequestBody, 4096);
    await assert.rejects(parse(['serve', '--max-request-body', '0']), /--max-request-body/);
    await assert.rejects(parse(['serve', '--max-request-body', '1.5']), /--max-request-body/);
  });

  it("reads --shutdown-timeout in seconds, vLLM's 0 (abort at once) by default", async () => {
    assert.equal((await parse(['serve'])).shutdownTimeoutS, 0);
    assert.equal((await parse(['serve', '--shutdown-timeout', '30'])).shutdownTimeoutS, 30);
    await assert.rejects(parse(['serve', '--shutdown-timeout', '-1']), /--shutdown-timeout/);
    await assert.rejects(parse(['serve', '--shutdown-timeout', 'soon']), /--shutdown-timeout/);
  });

  it('reads --max-waiting-requests (1024), the connection timeouts and --max-stream-buffer', async () => {
    const defaults = await parse(['serve']);
    assert.deepEqual(
      [
        defaults.maxWaitingRequests,
        defaults.timeoutKeepAliveS,
        defaults.timeoutRequestHeadersS,
        defaults.timeoutRequestBodyS,
        defaults.maxStreamBuffer,
      ],
      [1024, 5, 10, 60, 4 * 1024 * 1024],
    );
    const set = await parse([
      'serve',
      '--max-waiting-requests',
      '8',
      '--timeout-keep-alive',
      '2',
      '--timeout-request-headers',
      '0.5',
      '--timeout-request-body',
      '30',
      '--max-stream-buffer',
      '65536',
    ]);
    assert.deepEqual(
      [
        set.maxWaitingRequests,
        set.timeoutKeepAliveS,
        set.timeoutRequestHeadersS,
        set.timeoutRequestBodyS,
        set.maxStreamBuffer,
      ],
      [8, 2, 0.5, 30, 65536],
    );
    await assert.rejects(parse(['serve', '--max-waiting-requests', '0']), /--max-waiting-requests/);
    await assert.rejects(parse(['serve', '--timeout-keep-alive', '0']), /--timeout-keep-alive/);
    await assert.rejects(parse(['serve', '--max-stream-buffer', '1.5']), /--max-stream-buffer/);
    await assert.rejects(
      parse(['serve', '--timeout-request-headers', '90']),
      /--timeout-request-headers must not exceed --timeout-request-body/,
    );
  });

  it('rejects bad values naming the flag', async () => {
    await assert.rejects(parse(['serve', '--block-size', '12']), /block-size/);
    await assert.rejects(parse(['serve', '--kv-cache-layout', 'paged']), /kv-cache-layout/);
    await assert.rejects(parse(['serve', '--step-latency-factor', '1']), /--step-latency-factor/);
    await assert.rejects(parse(['serve', '--num-gpu-blocks-override', '0']), /--num-gpu-blocks/);
    await assert.rejects(parse(['serve', '--port', '70000']), /--port/);
    await assert.rejects(parse(['serve', '--max-num-seqs', '0']), /--max-num-seqs/);
    await assert.rejects(parse(['serve', '--max-model-len', 'lots']), /--max-model-len/);
    await assert.rejects(parse(['serve', '--device', 'tpu']), /device/);
  });
});
