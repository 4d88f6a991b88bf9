/**
 * Test support: the disconnect scenario of issue 9, shared by its short version
 * (`test/disconnect-e2e.test.ts`) and its long one (`test/long/disconnect.long.ts`).
 *
 * Owns: batches of concurrent streams on a real server (successor model, small max-num-seqs,
 * small step budget so long prompts prefill over several steps, tool calling on), each closed
 * by its client at a stage drawn from a seeded generator: as soon as the headers come (most
 * are still queued), after a random delay while a long prompt prefills, after a random number
 * of tokens, right after the last token (before `[DONE]`), or in the middle of a named tool
 * call's arguments. A `prefill` client watches its request (`engine.requestPhase`, the test runs
 * in the server's process) and closes as soon as its prompt is prefilling, so that stage is hit
 * although most requests of a batch start out queued. Each engine abort is recorded with the phase the request was in
 * (`engine.requestPhase`) and the step it came at, so the test knows which stages it hit and
 * how many steps each disconnect took to reach the engine. After each batch it asserts: nothing
 * runs, waits or is live, within a few steps of the last disconnect (the requests asked for
 * hundreds of tokens, so only the aborts can have ended them); no KV cell is held by a running
 * request; once the prefix cache is dropped, no KV sequence holds a cell; the server holds no
 * connection.
 */
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import type { KvCacheLayout } from '../../src/cli/serve-options.ts';
import type { RequestPhase } from '../../src/engine/llm-engine.ts';
import { testServeOptions } from './models.ts';
import { postCompletion, type Cancel, type CompletionResult } from './raw-completions.ts';

/** The stages a client closes its stream at. */
export const STAGES = ['queued', 'prefill', 'decode', 'last', 'tool'] as const;
export type Stage = (typeof STAGES)[number];

/** The load and the server's KV layout. */
export interface DisconnectScenario {
  readonly batches: number;
  readonly streamsPerBatch: number;
  readonly layout: KvCacheLayout;
  readonly seed: number;
}

/** What the scenario saw. */
export interface DisconnectReport {
  readonly streams: number;
  /** Streams per client stage. */
  readonly stages: Readonly<Record<Stage, number>>;
  /** Engine aborts per phase the request was in (`gone`: the engine no longer held it). */
  readonly phases: Readonly<Record<RequestPhase | 'gone', number>>;
  /** Steps from a client's close to its request's abort: the largest, and how many took > 1. */
  readonly maxAbortSteps: number;
  readonly abortsOverOneStep: number;
  /** Steps from the batch's last close until the engine was empty: the largest over batches. */
  readonly maxDrainSteps: number;
}

/**
 * Steps a disconnect may take to reach the engine, and a batch to drain after its last close:
 * the server notices a closed connection in one of its next event-loop turns, and a step
 * yields one turn, so the abort comes one to three steps after the close (1,000 streams: at
 * most 3). A request that was not aborted would run on for hundreds of steps.
 */
export const MAX_ABORT_STEPS = 4;

const MAX_NUM_SEQS = 4;
/** Long prompts (250-450 tokens) take several steps of 64 to prefill. */
const MAX_NUM_BATCHED_TOKENS = 64;
const TOOL = {
  type: 'function',
  function: {
    name: 'lookup',
    parameters: {
      type: 'object',
      properties: { key: { type: 'string', maxLength: 40 } },
      required: ['key'],
      additionalProperties: false,
    },
  },
};

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One planned stream: what it sends and when its client closes it. */
interface Plan {
  readonly stage: Stage;
  readonly tag: string;
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
  /** `prefill`: event-loop turns into the prefill; `decode`: text events; `tool`: tool-call events. */
  readonly after: number;
}

function planStream(next: () => number, tag: string): Plan {
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const letters = (length: number): string =>
    Array.from({ length }, () => String.fromCharCode(97 + int(0, 25))).join('');
  const stage = STAGES[int(0, STAGES.length - 1)]!;
  const completion = (prompt: string, maxTokens: number) => ({
    model: 'successor',
    prompt,
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
  });
  switch (stage) {
    case 'queued':
      return { stage, tag, path: '/v1/completions', body: completion(letters(5), 400), after: 0 };
    case 'prefill':
      return {
        stage,
        tag,
        path: '/v1/completions',
        body: completion(letters(int(250, 450)), 40),
        after: int(0, 2),
      };
    case 'decode':
      return {
        stage,
        tag,
        path: '/v1/completions',
        body: completion(letters(int(3, 20)), 400),
        after: int(1, 40),
      };
    case 'last':
      return {
        stage,
        tag,
        path: '/v1/completions',
        body: completion(letters(5), int(1, 6)),
        after: 0,
      };
    case 'tool':
      return {
        stage,
        tag,
        path: '/v1/chat/completions',
        body: {
          model: 'successor',
          messages: [{ role: 'user', content: `look up ${letters(int(3, 12))}` }],
          tools: [TOOL],
          tool_choice: { type: 'function', function: { name: 'lookup' } },
          max_tokens: 60,
          temperature: 0,
          stream: true,
        },
        after: int(1, 4),
      };
  }
}

/** Whether an SSE event carries text, a tool-call delta, or a finish reason. */
function eventKinds(event: unknown): { text: boolean; tool: boolean; finish: boolean } {
  const choices = (event as { choices?: unknown[] } | null)?.choices ?? [];
  let text = false;
  let tool = false;
  let finish = false;
  for (const choice of choices as {
    text?: string;
    delta?: { content?: string | null; tool_calls?: unknown[] };
    finish_reason?: string | null;
  }[]) {
    if ((choice.text ?? choice.delta?.content ?? '') !== '') text = true;
    if ((choice.delta?.tool_calls?.length ?? 0) > 0) tool = true;
    if (choice.finish_reason != null) finish = true;
  }
  return { text, tool, finish };
}

/** Resolves once `condition` holds; fails after `ms`. */
async function waitFor(condition: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The client tag (`x-request-id`) of an engine request id: `cmpl-<tag>-<index>-<hex>`. */
function tagOf(engineId: string): string | null {
  return /^(?:chat)?cmpl-(d\d+-\d+)-\d+-[0-9a-f]+$/.exec(engineId)?.[1] ?? null;
}

/** The server's connections (accepted and not yet closed). */
function connections(server: RunningServer): Promise<number> {
  return new Promise((resolve, reject) =>
    server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/** Runs the scenario on a fresh server and asserts its promises; returns what it saw. */
export async function runDisconnectScenario(
  scenario: DisconnectScenario,
): Promise<DisconnectReport> {
  const server = await startServer(
    await testServeOptions({
      maxNumSeqs: MAX_NUM_SEQS,
      maxNumBatchedTokens: MAX_NUM_BATCHED_TOKENS,
      kvCacheLayout: scenario.layout,
      enableAutoToolChoice: true,
      toolCallParser: 'hermes',
    }),
  );
  const engine = server.engine;
  const next = random(scenario.seed);
  const stages = Object.fromEntries(STAGES.map((stage) => [stage, 0])) as Record<Stage, number>;
  const phases: Record<RequestPhase | 'gone', number> = {
    waiting: 0,
    prefilling: 0,
    decoding: 0,
    gone: 0,
  };
  // Each engine abort: the phase its request was in and the step it came at.
  const abortedAt = new Map<string, number>();
  const abort = engine.abort.bind(engine);
  engine.abort = (requestId: string): void => {
    const tag = tagOf(requestId);
    if (tag !== null && !abortedAt.has(tag)) {
      abortedAt.set(tag, engine.stats().steps);
      phases[engine.requestPhase(requestId) ?? 'gone']++;
    }
    abort(requestId);
    if (engine.requestPhase(requestId) !== null) lingering.push(requestId);
  };
  // Requests still held right after their abort (the engine must drop them at once).
  const lingering: string[] = [];
  // Engine request ids by client tag, as the engine is given them.
  const idOf = new Map<string, string>();
  const add = engine.add.bind(engine);
  engine.add = (request) => {
    const tag = tagOf(request.id);
    if (tag !== null) idOf.set(tag, request.id);
    return add(request);
  };
  /** Closes once `tag`'s request is prefilling (then `turns` more event-loop turns), or gone. */
  const closeInPrefill = (tag: string, turns: number, close: () => void): void => {
    const id = idOf.get(tag);
    const phase = id === undefined ? 'waiting' : engine.requestPhase(id);
    if (phase === null || (phase !== 'waiting' && turns-- <= 0)) close();
    else setImmediate(() => closeInPrefill(tag, turns, close));
  };
  let maxAbortSteps = 0;
  let abortsOverOneStep = 0;
  let maxDrainSteps = 0;
  try {
    for (let batch = 0; batch < scenario.batches; batch++) {
      const plans = Array.from({ length: scenario.streamsPerBatch }, (_, i) =>
        planStream(next, `d${batch}-${i}`),
      );
      const closedAt = new Map<string, number>();
      const results = await Promise.all(
        plans.map((plan) => {
          stages[plan.stage]++;
          let events = 0;
          const close = (cancel: Cancel): void => {
            closedAt.set(plan.tag, engine.stats().steps);
            cancel();
          };
          return postCompletion(
            server.url,
            plan.body,
            {
              onHeaders: (cancel) => {
                if (plan.stage === 'queued') close(cancel);
                else if (plan.stage === 'prefill') {
                  closeInPrefill(plan.tag, plan.after, () => close(cancel));
                }
              },
              onEvent: (event, cancel) => {
                const kinds = eventKinds(event);
                if (plan.stage === 'decode' && kinds.text && ++events >= plan.after) close(cancel);
                if (plan.stage === 'tool' && kinds.tool && ++events >= plan.after) close(cancel);
                if (plan.stage === 'last' && kinds.finish) close(cancel);
              },
            },
            { path: plan.path, headers: { 'x-request-id': plan.tag } },
          );
        }),
      );
      results.forEach((result: CompletionResult, i) => {
        const plan = plans[i]!;
        assert.equal(
          result.status,
          200,
          `${plan.tag} (${plan.stage}): ${JSON.stringify(result.json)}`,
        );
        assert.equal(result.failure, null, `${plan.tag} (${plan.stage})`);
        assert.ok(result.cancelled, `${plan.tag} (${plan.stage}) was closed by its client`);
      });
      const lastClose = Math.max(...closedAt.values());
      // Every request is gone within a few steps of its client's close: the requests asked for
      // up to 400 tokens, so only the aborts ended them.
      await waitFor(
        () => {
          const stats = engine.stats();
          return stats.running === 0 && stats.waiting === 0 && engine.liveRequests === 0;
        },
        10_000,
        () => `batch ${batch} to drain: ${JSON.stringify(engine.stats())}`,
      );
      maxDrainSteps = Math.max(maxDrainSteps, engine.stats().steps - lastClose);
      assert.deepEqual(lingering, [], 'an abort drops its request at once');
      for (const [tag, closed] of closedAt) {
        const aborted = abortedAt.get(tag);
        if (aborted === undefined) continue; // finished before its client closed
        const steps = aborted - closed;
        maxAbortSteps = Math.max(maxAbortSteps, steps);
        if (steps > 1) abortsOverOneStep++;
      }
      assert.equal(engine.stats().kvUsage, 0, 'no KV block is held by a running request');
      await engine.whenIdle();
      engine.resetPrefixCache();
      const stats = engine.stats();
      assert.deepEqual([stats.kvBlocksUsed, stats.cachedSequences], [0, 0]);
      for (let sequence = 0; sequence < server.backend.kvLayout.maxSequences; sequence++) {
        assert.equal(server.backend.kv.positions(sequence), null, `KV sequence ${sequence}`);
      }
      const deadline = performance.now() + 2_000;
      while ((await connections(server)) > 0) {
        assert.ok(performance.now() < deadline, 'the server closed every connection');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    // Still serving.
    const after = await postCompletion(server.url, {
      model: 'successor',
      prompt: 'abc',
      max_tokens: 5,
      temperature: 0,
    });
    assert.equal(after.text, 'defgh');
    const report = {
      streams: scenario.batches * scenario.streamsPerBatch,
      stages,
      phases,
      maxAbortSteps,
      abortsOverOneStep,
      maxDrainSteps,
    };
    assert.ok(
      maxAbortSteps <= MAX_ABORT_STEPS && maxDrainSteps <= MAX_ABORT_STEPS,
      `every disconnect freed its request within ${MAX_ABORT_STEPS} steps: ${JSON.stringify(report)}`,
    );
    return report;
  } finally {
    await server.close();
  }
}
