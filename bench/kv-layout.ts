/**
 * The KV layout question of issue 6, measured: what prefix caching costs in each of llama.cpp's
 * two KV layouts on the random ~130M F16 model.
 *   - decode: 16 sequences of 64 tokens (then 448) decode one token each; ms per step (the addon's own
 *     timing), per-sequence streams against one unified pool. In the unified pool, also with
 *     idle cached cells beside them (a 17th sequence holding N tokens, as cached prefixes of
 *     finished requests would): llama.cpp's attention walks every cell up to the highest one in
 *     use, so idle cells can slow every step.
 *   - reuse: making a new sequence hold a 512-token prefix another sequence computed. Unified:
 *     `kv.copy` of the range shares the cells. Per-sequence: the copy duplicates the source's
 *     whole stream (the only copy per-sequence KV allows), then the tail is removed.
 *
 * Usage: npx tsx bench/kv-layout.ts [--repeats 15] [--idle 0,2048,6144] [--threads N]
 * Writes the "KV layout" section of bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import type { LlamaBackend } from '../src/backend/llama/llama-backend.ts';
import type { SequenceChunk } from '../src/backend/model-backend.ts';
import { loadBenchBackend, median, writeResultsSection } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '15' },
    idle: { type: 'string', default: '0,2048,6144' },
    threads: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
const idleCounts = values.idle.split(',').map(Number);
const STREAMS = 16;
const SHORT = 64;
const LONG = 448;
const PREFIX = 512;
const CELLS_PER_SEQUENCE = 1024;

const letters = (count: number, seed: number) =>
  Array.from({ length: count }, (_, i) => 97 + ((i * 7 + seed * 13) % 26));

async function prefill(backend: LlamaBackend, sequenceId: number, from: number, tokens: number[]) {
  for (let start = 0; start < tokens.length; start += 512) {
    await backend.decode({
      chunks: [
        {
          sequenceId,
          startPosition: from + start,
          tokens: tokens.slice(start, start + 512),
          rows: [],
        },
      ],
    });
  }
}

/** Median ms of one decode step of every stream (each step's tokens removed again). */
async function decodeStep(backend: LlamaBackend, context: number): Promise<number> {
  const chunks: SequenceChunk[] = Array.from({ length: STREAMS }, (_, s) => ({
    sequenceId: s,
    startPosition: context,
    tokens: [98],
    rows: [],
  }));
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    times.push((await backend.decode({ chunks })).decodeMs);
    for (const chunk of chunks) backend.kv.remove(chunk.sequenceId, context, null);
  }
  return median(times);
}

/**
 * Median ms to give sequence `to` the first PREFIX cells of sequence `from`, copy and the next
 * decode of one token (llama.cpp copies streams at the next decode), less that decode alone.
 */
async function reuseTime(
  backend: LlamaBackend,
  unified: boolean,
  from: number,
  to: number,
): Promise<number> {
  const oneToken = (sequenceId: number): SequenceChunk[] => [
    { sequenceId, startPosition: PREFIX, tokens: [98], rows: [] },
  ];
  const withCopy: number[] = [];
  const alone: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let start = performance.now();
    if (unified) backend.kv.copy(from, to, 0, PREFIX);
    else {
      backend.kv.copy(from, to, 0, null);
      backend.kv.remove(to, PREFIX, null);
    }
    await backend.decode({ chunks: oneToken(to) });
    withCopy.push(performance.now() - start);
    backend.kv.remove(to, 0, null);
    start = performance.now();
    await backend.decode({ chunks: oneToken(from) });
    alone.push(performance.now() - start);
    backend.kv.remove(from, PREFIX, null);
  }
  return median(withCopy) - median(alone);
}

async function measure(unified: boolean) {
  const idleSequence = STREAMS;
  const spare = STREAMS + 1;
  const { backend, threads } = await loadBenchBackend({
    sequences: STREAMS + 2,
    cellsPerSequence: unified ? 512 : CELLS_PER_SEQUENCE,
    threads: values.threads,
    unifiedKv: unified,
  });
  // Unified: 18 x 512 = 9216 cells, room for 16 x 64 active tokens and the idle ones.
  for (let s = 0; s < STREAMS; s++) await prefill(backend, s, 0, letters(SHORT, s));
  const decode = new Map<number, number>();
  let held = 0;
  for (const idle of unified ? idleCounts : [0]) {
    await prefill(backend, idleSequence, held, letters(idle - held, 7));
    held = idle;
    decode.set(idle, await decodeStep(backend, SHORT));
  }
  if (held < PREFIX) await prefill(backend, idleSequence, held, letters(PREFIX - held, 7));
  else backend.kv.remove(idleSequence, PREFIX, null);
  const reuse = await reuseTime(backend, unified, idleSequence, spare);
  backend.kv.remove(idleSequence, 0, null);
  for (let s = 0; s < STREAMS; s++) await prefill(backend, s, SHORT, letters(LONG - SHORT, s));
  const long = await decodeStep(backend, LONG);
  await backend.dispose();
  return { decode, reuse, long, threads };
}

const perSequence = await measure(false);
const unifiedPool = await measure(true);
const base = perSequence.decode.get(0)!;
const rows = [
  `| per-sequence (${CELLS_PER_SEQUENCE} cells each) | ${SHORT} | 0 | ${base.toFixed(1)} | 1.00 | ${perSequence.reuse.toFixed(2)} |`,
];
for (const [idle, ms] of unifiedPool.decode) {
  rows.push(
    `| unified | ${SHORT} | ${idle} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)} | ${idle === idleCounts[0] ? unifiedPool.reuse.toFixed(2) : ''} |`,
  );
}
rows.push(
  `| per-sequence | ${LONG} | 0 | ${perSequence.long.toFixed(1)} | 1.00 | |`,
  `| unified | ${LONG} | 0 | ${unifiedPool.long.toFixed(1)} | ${(unifiedPool.long / perSequence.long).toFixed(2)} | |`,
);
const body = [
  `\`npx tsx bench/kv-layout.ts --repeats ${repeats} --idle ${values.idle}\`, ${new Date().toISOString()}, random-130m-f16, ${perSequence.threads} threads: ${STREAMS} sequences of ${SHORT} (then ${LONG}) tokens decode one token each (median ms of ${repeats} steps, the addon's timing; the ratio is to per-sequence KV at the same context); "idle cells" are held by one more sequence that does not decode (cached prefixes); reuse = ms to give a new sequence the ${PREFIX}-token prefix of another, measured as copy + the next one-token decode less that decode alone, since llama.cpp copies a stream at the next decode (unified: a shared-cell copy of the range; per-sequence: a copy of the whole stream, then the tail removed).`,
  '',
  '| KV layout | context per sequence | idle cells | decode ms/step | / per-sequence | prefix reuse ms |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows,
].join('\n');
console.log(body);
writeResultsSection('KV layout', body);
