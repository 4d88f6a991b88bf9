/** connection-timeouts.ts: seconds to Node's server options, the checking interval, refusals. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_CONNECTION_TIMEOUTS, nodeTimeoutOptions } from './connection-timeouts.ts';

it("turns the timeouts into Node's server options", () => {
  assert.deepEqual(nodeTimeoutOptions(DEFAULT_CONNECTION_TIMEOUTS), {
    headersTimeout: 10_000,
    requestTimeout: 60_000,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: 1_000,
  });
  // Short limits are checked often enough to hold: a quarter of the header timeout.
  assert.deepEqual(nodeTimeoutOptions({ headersS: 0.3, requestS: 0.6, keepAliveS: 1 }), {
    headersTimeout: 300,
    requestTimeout: 600,
    keepAliveTimeout: 1_000,
    connectionsCheckingInterval: 75,
  });
  assert.throws(() => nodeTimeoutOptions({ headersS: 0, requestS: 1, keepAliveS: 1 }), RangeError);
  assert.throws(
    () => nodeTimeoutOptions({ headersS: 2, requestS: 1, keepAliveS: 1 }),
    /must not exceed the request timeout/,
  );
});
