/**
 * CI audits the production dependencies: `.ci/run` (under `set -e`) runs
 * `scripts/audit-production.mjs` after installing and before the tests. The script fails on a
 * high or critical advisory in a production dependency, passes on a clean report, and passes
 * with a note when the registry has no audit endpoint (these machines' registry answers 405).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const script = fileURLToPath(new URL('../scripts/audit-production.mjs', import.meta.url));

function judge(report: unknown): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'));
  try {
    const file = join(dir, 'report.json');
    writeFileSync(file, JSON.stringify(report));
    const run = spawnSync(process.execPath, [script, '--report', file], { encoding: 'utf8' });
    return { status: run.status, output: run.stdout + run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const counts = (high: number, critical: number) => ({
  vulnerabilities: { info: 0, low: 2, moderate: 1, high, critical, total: 3 + high + critical },
});

it('.ci/run runs the audit after npm ci and before the tests, under set -e', () => {
  const commands = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  assert.ok(commands.includes('set -euo pipefail'));
  const audit = commands.indexOf('node scripts/audit-production.mjs');
  assert.ok(audit > commands.indexOf('npm ci'), 'the audit runs after npm ci');
  assert.ok(audit < commands.indexOf('npm test'), 'the audit runs before the tests');
});

it('fails on high or critical advisories, passes on low ones and without an endpoint', () => {
  const high = judge({
    vulnerabilities: { lodash: { severity: 'high', range: '<4.17.21' } },
    metadata: counts(1, 0),
  });
  assert.equal(high.status, 1);
  assert.match(high.output, /high: lodash <4\.17\.21/);
  assert.equal(judge({ vulnerabilities: {}, metadata: counts(0, 1) }).status, 1);
  assert.equal(
    judge({ vulnerabilities: { x: { severity: 'low' } }, metadata: counts(0, 0) }).status,
    0,
  );
  const unavailable = judge({
    message: '405 Method Not Allowed - POST https://registry/-/npm/v1/security/advisories/bulk',
    statusCode: 405,
  });
  assert.equal(unavailable.status, 0);
  assert.match(unavailable.output, /audit endpoint is unavailable .*405/);
});
