/**
 * Disconnects at every stage (issue 9, "Overload and disconnects"), short version: 100 streams
 * in batches of 25, on both KV layouts, each closed by its client while queued, while its long
 * prompt prefills, while it decodes, right after its last token, or in the middle of a tool
 * call. After each batch nothing runs, waits or holds a KV cell, every abort reached the engine
 * within a few steps of its close, and the server holds no connection
 * (test/support/disconnect-scenario.ts). The 1,000-stream version is
 * test/long/disconnect.long.ts (`npm run test:long`).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runDisconnectScenario, type DisconnectReport } from './support/disconnect-scenario.ts';

it('100 streams closed at random stages free every request and KV cell', async (t) => {
  const reports: DisconnectReport[] = [];
  for (const layout of ['per-sequence', 'unified'] as const) {
    const seed = layout === 'unified' ? 2 : 1;
    reports.push(await runDisconnectScenario({ batches: 2, streamsPerBatch: 25, layout, seed }));
    t.diagnostic(`${layout}: ${JSON.stringify(reports.at(-1))}`);
  }
  const hits = (phase: 'waiting' | 'prefilling' | 'decoding'): number =>
    reports.reduce((sum, report) => sum + report.phases[phase], 0);
  assert.ok(hits('waiting') > 0, 'some streams closed while queued');
  assert.ok(hits('prefilling') > 0, 'some while their prompt prefilled');
  assert.ok(hits('decoding') > 0, 'some while decoding');
});
