/**
 * The HTTP streaming path's CPU cost: microseconds of server CPU per streamed token.
 *
 * The app runs in this process around the scripted fake engine (one output per macrotask, no
 * model), so the figure is the cost of everything from an engine output to bytes on the socket:
 * merging outputs, building the chunk, JSON, SSE framing, the write. Clients run in a child
 * process, reading `--streams` concurrent streams of `--tokens` tokens each. We read this
 * process's CPU time (user + system) around the run; the machine is noisy, so take medians.
 *
 * Usage: npx tsx bench/sse-path.ts [--streams 16] [--tokens 500] [--rounds 5]
 * Writes the "HTTP streaming path" section of bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { testApp } from '../src/http/testing/test-app.ts';
import { ScriptedEngine } from '../src/http/testing/scripted-engine.ts';
import { median, writeResultsSection } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '16' },
    tokens: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '5' },
    'delay-ms': { type: 'string', default: '1' },
  },
});
const streams = Number(values.streams);
const tokens = Number(values.tokens);
const rounds = Number(values.rounds);
const delayMs = Number(values['delay-ms']);

const CLIENT = `
const [url, streams, tokens] = process.argv.slice(1);
async function one() {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'test-model', prompt: 'hi', max_tokens: Number(tokens), stream: true }),
  });
  if (response.status !== 200) throw new Error('HTTP ' + response.status + ': ' + (await response.text()));
  let bytes = 0;
  for await (const chunk of response.body) bytes += chunk.length;
  return bytes;
}
Promise.all(Array.from({ length: Number(streams) }, one)).then((b) => console.log(b.reduce((x, y) => x + y, 0)));
`;

const maxModelLen = tokens + 64;
const { app } = testApp(new ScriptedEngine({ maxModelLen, delayMs }), { maxModelLen });
const address = await app.listen({ host: '127.0.0.1', port: 0 });
const url = `${address}/v1/completions`;

async function round(): Promise<number> {
  const before = process.cpuUsage();
  const child = spawn(process.execPath, ['-e', CLIENT, url, String(streams), String(tokens)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await once(child, 'exit');
  if (!(Number(out) > 0)) throw new Error(`client failed: ${out}`);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / (streams * tokens);
}

await round(); // warm-up
const perToken: number[] = [];
for (let i = 0; i < rounds; i++) perToken.push(await round());
await app.close();
const line =
  `\`npx tsx bench/sse-path.ts --streams ${streams} --tokens ${tokens} --rounds ${rounds}\`, ` +
  `${new Date().toISOString()}: server CPU per streamed token, median of ${rounds} rounds: ` +
  `**${median(perToken).toFixed(1)} µs** (rounds: ${perToken.map((v) => v.toFixed(1)).join(', ')}).`;
console.log(line);
writeResultsSection('HTTP streaming path', line);
