#!/usr/bin/env node
// CI's dependency audit: fails when `npm audit` reports a high or critical advisory in the
// production dependencies. When the registry's audit endpoint cannot be reached or refuses the
// request (the mirror these machines use answers 405), it says so and passes: the audit is then
// not possible here, which is not a finding about the dependencies.
// `--report FILE` judges a saved `npm audit --json` report instead (for the tests).
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { readFileSync } from 'node:fs';
import process from 'node:process';

const saved = process.argv[2] === '--report' ? process.argv[3] : undefined;
const result =
  saved === undefined
    ? spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' })
    : { stdout: readFileSync(saved, 'utf8'), stderr: '', status: null };
let report;
try {
  report = JSON.parse(result.stdout);
} catch {
  console.error(`npm audit printed no JSON (exit ${result.status}):\n${result.stderr}`);
  process.exit(1);
}
if (report.vulnerabilities === undefined || report.metadata === undefined) {
  const why = report.message ?? report.error?.summary ?? JSON.stringify(report).slice(0, 200);
  console.log(`npm audit: the registry's audit endpoint is unavailable (${why}); audit skipped.`);
  process.exit(0);
}
const counts = report.metadata.vulnerabilities;
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
if (serious > 0) {
  for (const [name, entry] of Object.entries(report.vulnerabilities)) {
    if (entry.severity === 'high' || entry.severity === 'critical') {
      console.error(`${entry.severity}: ${name} ${entry.range ?? ''}`);
    }
  }
  console.error(`npm audit: ${serious} high or critical advisories in production dependencies.`);
  process.exit(1);
}
console.log(
  `npm audit: no high or critical advisory in production dependencies (${JSON.stringify(counts)}).`,
);
