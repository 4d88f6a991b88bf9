/**
 * Admission control end to end, long version (`npm run test:long`): 512 concurrent clients,
 * half streaming, against --max-num-seqs 16 and --max-waiting-requests 32. The promises and
 * their checks are test/support/overload-scenario.ts; the short version runs in `npm test`
 * (test/overload-e2e.test.ts).
 */
import { it } from 'node:test';
import { runOverloadScenario } from '../support/overload-scenario.ts';

it('512 clients against max-num-seqs 16 and max-waiting-requests 32: admitted exact, the rest 503', async (t) => {
  const report = await runOverloadScenario({
    clients: 512,
    maxNumSeqs: 16,
    maxWaitingRequests: 32,
    maxTokens: 64,
    settleWithinMs: 60_000,
  });
  t.diagnostic(JSON.stringify(report));
});
