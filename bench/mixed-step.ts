/**
 * What one decode step costs when it mixes a prefill chunk with running sequences' decode
 * tokens, in both KV layouts: the question behind issue 6's latency bound and its choice of KV
 * mode. On the random ~130M F16 model, 8 sequences hold 64 tokens each; a 9th sequence holds a
 * long prompt prefix. Per KV layout (per-sequence streams, unified), medians over repeats of:
 *   - decode: one token for each of the 8 sequences;
 *   - chunk: a `--chunk`-token prompt chunk of the 9th sequence alone;
 *   - mixed: both in one decode (what the scheduler sends).
 * Each step's tokens are removed from the KV afterwards, so every repeat sees the same context.
 *
 * Usage: npx tsx bench/mixed-step.ts [--repeats 7] [--chunk 32] [--context 1024] [--threads N]
 * Writes the "Mixed steps" section of bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import type { SequenceChunk } from '../src/backend/model-backend.ts';
import { loadBenchBackend, median, writeResultsSection } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '7' },
    chunk: { type: 'string', default: '32' },
    context: { type: 'string', default: '1024' },
    threads: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
const chunkLength = Number(values.chunk);
const longContext = Number(values.context);
const STREAMS = 8;
const SHORT = 64;

const letters = (count: number, seed: number) =>
  Array.from({ length: count }, (_, i) => 97 + ((i * 7 + seed * 13) % 26));

async function measure(unifiedKv: boolean) {
  const { backend, threads } = await loadBenchBackend({
    sequences: STREAMS + 1,
    cellsPerSequence: longContext + chunkLength + 8,
    threads: values.threads,
    unifiedKv,
  });

  const prefill = (sequenceId: number, tokens: number[]): SequenceChunk => ({
    sequenceId,
    startPosition: 0,
    tokens,
    rows: [],
  });
  for (let s = 0; s < STREAMS; s++)
    await backend.decode({ chunks: [prefill(s, letters(SHORT, s))] });
  for (let start = 0; start < longContext; start += 512) {
    const tokens = letters(Math.min(512, longContext - start), 99).slice(0);
    await backend.decode({
      chunks: [{ sequenceId: STREAMS, startPosition: start, tokens, rows: [] }],
    });
  }
  const decodeChunks = (): SequenceChunk[] =>
    Array.from({ length: STREAMS }, (_, s) => ({
      sequenceId: s,
      startPosition: SHORT,
      tokens: [98],
      rows: [],
    }));
  const longChunk = (): SequenceChunk => ({
    sequenceId: STREAMS,
    startPosition: longContext,
    tokens: letters(chunkLength, 5),
    rows: [],
  });
  const time = async (chunks: SequenceChunk[]): Promise<number> => {
    const result = await backend.decode({ chunks });
    for (const chunk of chunks) backend.kv.remove(chunk.sequenceId, chunk.startPosition, null);
    return result.decodeMs;
  };
  const decode: number[] = [];
  const chunk: number[] = [];
  const mixed: number[] = [];
  for (let r = 0; r < repeats; r++) {
    decode.push(await time(decodeChunks()));
    chunk.push(await time([longChunk()]));
    mixed.push(await time([...decodeChunks(), longChunk()]));
  }
  await backend.dispose();
  return { decode: median(decode), chunk: median(chunk), mixed: median(mixed), threads };
}

const rows: string[] = [];
let threads = 0;
for (const unified of [false, true]) {
  const m = await measure(unified);
  threads = m.threads;
  const line =
    `| ${unified ? 'unified' : 'per-sequence'} | ${m.decode.toFixed(1)} | ${m.chunk.toFixed(1)} | ` +
    `${m.mixed.toFixed(1)} | ${(m.mixed / (m.decode + m.chunk)).toFixed(2)} |`;
  console.log(line);
  rows.push(line);
}
writeResultsSection(
  'Mixed steps',
  [
    `\`npx tsx bench/mixed-step.ts --repeats ${repeats} --chunk ${chunkLength} --context ${longContext}\`, ` +
      `${new Date().toISOString()}, random-130m-f16, ${threads} threads: ${STREAMS} sequences of ${SHORT} ` +
      `tokens decode one token each; a 9th sequence holding ${longContext} tokens takes a ${chunkLength}-token ` +
      "chunk; decode ms (the addon's own timing), medians.",
    '',
    '| KV layout | 8 decode tokens | the chunk alone | both in one decode | mixed / (decode + chunk) |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n'),
);
