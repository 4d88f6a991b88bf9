/**
 * Admission control end to end (issue 9, "Overload and disconnects"), short version: 64
 * concurrent clients, half streaming, against --max-num-seqs 4 and --max-waiting-requests 8.
 * Every admitted request gets exactly its greedy text, the rest a plain 503 with Retry-After,
 * nothing hangs, the engine ends empty, the refusals are counted, and the admitted streams'
 * time to first token stays bounded (test/support/overload-scenario.ts). The 512-client
 * version is test/long/overload.long.ts (`npm run test:long`).
 */
import { it } from 'node:test';
import { runOverloadScenario } from './support/overload-scenario.ts';

it('64 clients against max-num-seqs 4 and max-waiting-requests 8: admitted exact, the rest 503', async (t) => {
  const report = await runOverloadScenario({
    clients: 64,
    maxNumSeqs: 4,
    maxWaitingRequests: 8,
    maxTokens: 48,
    settleWithinMs: 20_000,
  });
  t.diagnostic(JSON.stringify(report));
});
