/**
 * CI audits the production dependencies: `.ci/run` (under `set -e`) runs
 * `npm audit --omit=dev --audit-level=high` after installing and before the tests, so a high or
 * critical advisory in a production dependency fails the build. (The audit itself needs the
 * npm registry, which CI reaches; this test only keeps the step in place.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

it('.ci/run fails on high advisories in production dependencies', () => {
  const script = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
  const commands = script
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  assert.ok(commands.includes('set -euo pipefail'));
  const audit = commands.indexOf('npm audit --omit=dev --audit-level=high');
  assert.ok(audit > commands.indexOf('npm ci'), 'the audit runs after npm ci');
  assert.ok(audit < commands.indexOf('npm test'), 'the audit runs before the tests');
});
