/**
 * The addon's packed decode result as the NativeDecodeResult object.
 *
 * Owns: reading the packed layout that native/src/decode-result.h defines (a float64 header, then
 * every array back to back at 8-byte boundaries) into typed-array views of the one buffer. The
 * addon calls this function for every decode (registered by loadAddon through setResultView):
 * building the object and its views here, in JIT-compiled JavaScript, costs a fraction of
 * building them through Node-API.
 */
import type { NativeDecodeResult } from './native-addon.ts';

/** float64 entries of the header: rows, topCount, logits, embeddings, vectors, decodeMs, sampleMs, 0. */
const HEADER_DOUBLES = 8;

/** Bytes of `count` 4-byte elements, rounded up to 8. */
function padded(count: number): number {
  return (count * 4 + 7) & ~7;
}

export function decodeResultView(buffer: ArrayBuffer): NativeDecodeResult {
  const header = new Float64Array(buffer, 0, HEADER_DOUBLES);
  const rows = header[0]!;
  const topCount = header[1]!;
  const logitCount = header[2]!;
  const embeddingCount = header[3]!;
  const vectorCount = header[4]!;
  const top = rows * topCount;
  let at = HEADER_DOUBLES * 8;
  const tokens = new Int32Array(buffer, at, rows);
  at += padded(rows);
  const logprobs = new Float32Array(buffer, at, rows);
  at += padded(rows);
  const ranks = new Int32Array(buffer, at, rows);
  at += padded(rows);
  const topTokens = new Int32Array(buffer, at, top);
  at += padded(top);
  const topLogprobs = new Float32Array(buffer, at, top);
  at += padded(top);
  const targetLogprobs = new Float32Array(buffer, at, rows);
  at += padded(rows);
  const targetRanks = new Int32Array(buffer, at, rows);
  at += padded(rows);
  const logits = new Float32Array(buffer, at, logitCount);
  at += padded(logitCount);
  const embeddings = new Float32Array(buffer, at, embeddingCount);
  at += padded(embeddingCount);
  const embeddingSequenceIds = new Int32Array(buffer, at, vectorCount);
  at += padded(vectorCount);
  if (at !== buffer.byteLength) {
    throw new Error(`decode result layout mismatch: ${at} bytes read of ${buffer.byteLength}`);
  }
  return {
    tokens,
    logprobs,
    ranks,
    topCount,
    topTokens,
    topLogprobs,
    targetLogprobs,
    targetRanks,
    logits,
    embeddings,
    embeddingSequenceIds,
    decodeMs: header[5]!,
    sampleMs: header[6]!,
  };
}
