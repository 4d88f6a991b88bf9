/**
 * Does the order of sequences in a batch matter to llama.cpp? With per-sequence KV streams it
 * does: the same decode step of 8 sequences is much slower when the sequences are not in
 * ascending id order (found when a warm prefix-cache workload decoded 40% slower than a cold
 * one: its sequence ids had come back in eviction order). The scheduler sorts every step's
 * chunks by sequence id because of this. Unified KV (one stream) for comparison.
 *
 * On the random ~130M F16 model: 8 sequences of 544 tokens decode one token each, in ascending
 * order, in a fixed shuffled order, in descending order, and in ascending order on ids that are
 * not consecutive (a context of 16 sequences); median ms (the addon's timing). Consecutive ids
 * matter as much as the order: the KV manager hands out the lowest id that does not run.
 *
 * Usage: npx tsx bench/batch-order.ts [--repeats 15] [--threads N]
 * Writes the "Batch order" section of bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import type { SequenceChunk } from '../src/backend/model-backend.ts';
import { loadBenchBackend, median, writeResultsSection } from './bench-support.ts';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '15' },
    threads: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
/** KV sequences of the context; 8 of them decode in each case. */
const SEQUENCES = 16;
const CONTEXT = 544;
const ORDERS: Record<string, number[]> = {
  ascending: [0, 1, 2, 3, 4, 5, 6, 7],
  shuffled: [0, 2, 4, 5, 6, 7, 3, 1],
  descending: [7, 6, 5, 4, 3, 2, 1, 0],
  'ascending, every other id': [0, 2, 4, 6, 8, 10, 12, 14],
  'ascending, two runs': [0, 1, 2, 3, 12, 13, 14, 15],
};

const letters = (count: number, seed: number) =>
  Array.from({ length: count }, (_, i) => 97 + ((i * 7 + seed * 13) % 26));

async function measure(unifiedKv: boolean) {
  const { backend, threads } = await loadBenchBackend({
    sequences: SEQUENCES,
    cellsPerSequence: 1024,
    threads: values.threads,
    unifiedKv,
  });
  for (let s = 0; s < SEQUENCES; s++) {
    const tokens = letters(CONTEXT, s);
    for (let start = 0; start < CONTEXT; start += 512) {
      const piece = tokens.slice(start, start + 512);
      await backend.decode({
        chunks: [{ sequenceId: s, startPosition: start, tokens: piece, rows: [] }],
      });
    }
  }
  const times = new Map<string, number[]>(Object.keys(ORDERS).map((name) => [name, []]));
  for (let r = 0; r < repeats; r++) {
    for (const [name, order] of Object.entries(ORDERS)) {
      const chunks: SequenceChunk[] = order.map((s) => ({
        sequenceId: s,
        startPosition: CONTEXT,
        tokens: [98],
        rows: [],
      }));
      times.get(name)!.push((await backend.decode({ chunks })).decodeMs);
      for (const chunk of chunks) backend.kv.remove(chunk.sequenceId, CONTEXT, null);
    }
  }
  await backend.dispose();
  return { ms: new Map([...times].map(([name, list]) => [name, median(list)])), threads };
}

const rows: string[] = [];
let threads = 0;
for (const unified of [false, true]) {
  const m = await measure(unified);
  threads = m.threads;
  const base = m.ms.get('ascending')!;
  rows.push(
    `| ${unified ? 'unified' : 'per-sequence'} | ${[...m.ms.values()].map((ms) => `${ms.toFixed(1)} (${(ms / base).toFixed(2)})`).join(' | ')} |`,
  );
}
const body = [
  `\`npx tsx bench/batch-order.ts --repeats ${repeats}\`, ${new Date().toISOString()}, random-130m-f16, ${threads} threads: 8 of ${SEQUENCES} sequences of ${CONTEXT} tokens decode one token each, the batch's sequence ids in the order shown; median decode ms over ${repeats} interleaved repeats (ratio to ascending 0..7).`,
  '',
  `| KV layout | ${Object.entries(ORDERS)
    .map(([name, order]) => `${name} (${order.join(',')})`)
    .join(' | ')} |`,
  `|---|${Object.keys(ORDERS)
    .map(() => '---:')
    .join('|')}|`,
  ...rows,
].join('\n');
console.log(body);
writeResultsSection('Batch order', body);
