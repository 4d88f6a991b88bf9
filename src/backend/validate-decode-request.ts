/**
 * Checks a DecodeRequest against a backend's limits before anything reaches the kernels, so a
 * bad step is a JS error naming the field, never a native assertion.
 *
 * Owns: the rules every backend shares (the llama backend and the fake one call this).
 */
import type { DecodeRequest, KvLayout, LogitBias, OutputRow, Penalties } from './model-backend.ts';

function fail(message: string): never {
  throw new RangeError(`invalid decode request: ${message}`);
}

/** Names chunk `c`'s row `r` in messages (built only when a check fails: this runs every step). */
function rowName(c: number, r: number): string {
  return `chunks[${c}].rows[${r}]`;
}

function checkRow(row: OutputRow, c: number, r: number, length: number, vocabSize: number): void {
  if (!Number.isInteger(row.offset) || row.offset < 0 || row.offset >= length) {
    fail(`${rowName(c, r)}.offset must be in [0, ${length}), got ${row.offset}`);
  }
  if (!Number.isInteger(row.topLogprobs) || row.topLogprobs < 0 || row.topLogprobs > vocabSize) {
    fail(`${rowName(c, r)}.topLogprobs must be in [0, ${vocabSize}], got ${row.topLogprobs}`);
  }
  if (row.targetToken !== null && !isToken(row.targetToken, vocabSize)) {
    fail(`${rowName(c, r)}.targetToken must be in [0, ${vocabSize}), got ${row.targetToken}`);
  }
  const sampling = row.sampling;
  if (sampling === null) return;
  if (!(sampling.temperature >= 0))
    fail(`${rowName(c, r)}.temperature must be >= 0, got ${sampling.temperature}`);
  if (!(sampling.topP > 0 && sampling.topP <= 1))
    fail(`${rowName(c, r)}.topP must be in (0, 1], got ${sampling.topP}`);
  if (!(sampling.minP >= 0 && sampling.minP <= 1))
    fail(`${rowName(c, r)}.minP must be in [0, 1], got ${sampling.minP}`);
  if (!Number.isInteger(sampling.topK))
    fail(`${rowName(c, r)}.topK must be an integer, got ${sampling.topK}`);
  if (sampling.seed < 0n || sampling.seed >= 1n << 64n)
    fail(`${rowName(c, r)}.seed must fit in 64 bits unsigned`);
  if (sampling.allowedTokens !== null) {
    const words = Math.ceil(vocabSize / 32);
    if (sampling.allowedTokens.length !== words) {
      fail(
        `${rowName(c, r)}.allowedTokens must have ${words} words, got ${sampling.allowedTokens.length}`,
      );
    }
  }
  if (sampling.logitBias !== null) checkLogitBias(sampling.logitBias, c, r, vocabSize);
  if (sampling.penalties !== null && sampling.penalties !== undefined) {
    checkPenalties(sampling.penalties, c, r, vocabSize);
  }
}

/**
 * Duplicate detection without a Set (a row's penalties list every distinct token of its prompt
 * and output, thousands of tokens, on every step): `stamps[t] === generation` marks token t as
 * seen in the list being checked; a new generation forgets every mark at once.
 */
let stamps = new Uint32Array(0);
let generation = 0;

function nextGeneration(vocabSize: number): number {
  if (stamps.length < vocabSize) {
    stamps = new Uint32Array(vocabSize);
    generation = 0;
  }
  if (generation === 0xffffffff) {
    stamps.fill(0);
    generation = 0;
  }
  return ++generation;
}

/**
 * Penalties change on every step (the output counts grow), so unlike logit biases they are
 * checked every time. The parameters must stay valid as float32 (the addon's arrays).
 */
function checkPenalties(penalties: Penalties, c: number, r: number, vocabSize: number): void {
  const where = () => `${rowName(c, r)}.penalties`;
  const { tokens, outputCounts } = penalties;
  if (outputCounts.length !== tokens.length) {
    fail(
      `${where()}.outputCounts must have one entry per token (${tokens.length}), got ${outputCounts.length}`,
    );
  }
  const mark = nextGeneration(vocabSize);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!isToken(token, vocabSize)) {
      fail(`${where()}.tokens[${i}] must be in [0, ${vocabSize}), got ${token}`);
    }
    if (stamps[token] === mark) fail(`${where()}.tokens[${i}]: token ${token} appears twice`);
    stamps[token] = mark;
    const count = outputCounts[i]!;
    if (!Number.isInteger(count) || count < 0) {
      fail(`${where()}.outputCounts[${i}] must be a non-negative integer, got ${count}`);
    }
  }
  const repetition = Math.fround(penalties.repetition);
  if (!(repetition > 0 && repetition < Infinity)) {
    fail(`${where()}.repetition must be finite and > 0 as a float32, got ${penalties.repetition}`);
  }
  for (const key of ['frequency', 'presence'] as const) {
    if (!Number.isFinite(Math.fround(penalties[key]))) {
      fail(`${where()}.${key} must be finite as a float32, got ${penalties[key]}`);
    }
  }
}

/**
 * Logit biases already checked, with the vocabulary size they were checked against. A request
 * passes the same LogitBias object on every step, so it is checked once. (The addon checks the
 * arrays again on every decode, so a caller that mutated one afterwards still gets an error,
 * not memory corruption.)
 */
const checkedBiases = new WeakMap<LogitBias, number>();

function checkLogitBias(bias: LogitBias, c: number, r: number, vocabSize: number): void {
  if (checkedBiases.get(bias) === vocabSize) return;
  checkLogitBiasEntries(bias, `${rowName(c, r)}.logitBias`, vocabSize);
  checkedBiases.set(bias, vocabSize);
}

function checkLogitBiasEntries(bias: LogitBias, where: string, vocabSize: number): void {
  if (bias.tokens.length !== bias.values.length) {
    fail(
      `${where}.values must have one entry per token (${bias.tokens.length}), got ${bias.values.length}`,
    );
  }
  const seen = new Set<number>();
  bias.tokens.forEach((token, i) => {
    if (!isToken(token, vocabSize)) {
      fail(`${where}.tokens[${i}] must be in [0, ${vocabSize}), got ${token}`);
    }
    if (seen.has(token)) fail(`${where}.tokens[${i}]: token ${token} appears twice`);
    seen.add(token);
    const value = bias.values[i]!;
    if (!Number.isFinite(value)) fail(`${where}.values[${i}] must be finite, got ${value}`);
  });
}

function isToken(token: number, vocabSize: number): boolean {
  return Number.isInteger(token) && token >= 0 && token < vocabSize;
}

/** Throws a RangeError naming the offending field; returns the total token count. */
export function validateDecodeRequest(
  request: DecodeRequest,
  layout: KvLayout,
  vocabSize: number,
): number {
  if (request.chunks.length === 0) fail('no chunks');
  const seen = new Set<number>();
  let total = 0;
  for (let c = 0; c < request.chunks.length; c++) {
    const chunk = request.chunks[c]!;
    const id = chunk.sequenceId;
    if (!Number.isInteger(id) || id < 0 || id >= layout.maxSequences) {
      fail(`chunks[${c}].sequenceId must be in [0, ${layout.maxSequences}), got ${id}`);
    }
    if (seen.has(id)) fail(`chunks[${c}]: sequence ${id} appears twice in one step`);
    seen.add(id);
    if (!Number.isInteger(chunk.startPosition) || chunk.startPosition < 0) {
      fail(`chunks[${c}].startPosition must be a non-negative integer, got ${chunk.startPosition}`);
    }
    const tokens = chunk.tokens;
    if (tokens.length === 0) fail(`chunks[${c}].tokens is empty`);
    for (let t = 0; t < tokens.length; t++) {
      if (!isToken(tokens[t]!, vocabSize)) {
        fail(`chunks[${c}].tokens[${t}] must be in [0, ${vocabSize}), got ${tokens[t]}`);
      }
    }
    let previous = -1;
    for (let r = 0; r < chunk.rows.length; r++) {
      const row = chunk.rows[r]!;
      checkRow(row, c, r, tokens.length, vocabSize);
      if (row.offset <= previous) fail(`chunks[${c}].rows offsets must be strictly ascending`);
      previous = row.offset;
    }
    total += tokens.length;
  }
  if (total > layout.maxBatchTokens) {
    fail(`${total} tokens exceed the batch limit of ${layout.maxBatchTokens}`);
  }
  return total;
}
