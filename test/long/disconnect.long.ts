/**
 * Disconnects at every stage, long version (`npm run test:long`): 1,000 streams in batches of
 * 50, half on each KV layout, each closed by its client at a random stage (queued, prefilling,
 * decoding, after the last token, during a tool call); after each batch the running and waiting
 * counts are 0 and every KV cell is free (test/support/disconnect-scenario.ts). The short
 * version runs in `npm test` (test/disconnect-e2e.test.ts).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runDisconnectScenario } from '../support/disconnect-scenario.ts';

for (const layout of ['per-sequence', 'unified'] as const) {
  it(`500 streams closed at random stages free every request and KV cell (${layout} KV)`, async (t) => {
    const report = await runDisconnectScenario({
      batches: 10,
      streamsPerBatch: 50,
      layout,
      seed: layout === 'unified' ? 20 : 10,
    });
    t.diagnostic(JSON.stringify(report));
    // Each stage is hit many times (about a fifth of the streams each).
    for (const phase of ['waiting', 'prefilling', 'decoding'] as const) {
      assert.ok(report.phases[phase] >= 20, `${phase}: ${report.phases[phase]} aborts`);
    }
    for (const stage of ['last', 'tool'] as const) assert.ok(report.stages[stage] >= 50, stage);
  });
}
