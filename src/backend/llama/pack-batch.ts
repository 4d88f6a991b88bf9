/**
 * Translates between the backend interface's plain data and the addon's typed arrays.
 *
 * Owns: flattening a DecodeRequest into one NativeBatch plus one NativeSamplingSpec (output rows
 * in batch order, per-row parameters, shared allowed-token masks, CSR logit biases and penalties),
 * and turning the addon's flat result arrays back into RowResults.
 */
import type { DecodeRequest, EmbeddingResult, RowResult, TokenLogprob } from '../model-backend.ts';
import type { NativeBatch, NativeDecodeResult, NativeSamplingSpec } from './native-addon.ts';

export interface PackedStep {
  readonly batch: NativeBatch;
  /** Undefined when no row wants output. */
  readonly sampling: NativeSamplingSpec | undefined;
  readonly rowCount: number;
}

/** Flatten a validated request. Output rows come out in chunk order, then offset order. */
export function packStep(
  request: DecodeRequest,
  vocabSize: number,
  tokenCount: number,
): PackedStep {
  const tokens = new Int32Array(tokenCount);
  const positions = new Int32Array(tokenCount);
  const sequenceIds = new Int32Array(tokenCount);
  const outputs = new Uint8Array(tokenCount);
  let rowCount = 0;
  let maskCount = 0;
  let biasCount = 0;
  let penaltyCount = 0;
  let at = 0;
  for (const chunk of request.chunks) {
    for (let i = 0; i < chunk.tokens.length; i++) {
      tokens[at + i] = chunk.tokens[i]!;
      positions[at + i] = chunk.startPosition + i;
      sequenceIds[at + i] = chunk.sequenceId;
    }
    for (const row of chunk.rows) {
      outputs[at + row.offset] = 1;
      rowCount++;
      if (row.sampling?.allowedTokens) maskCount++;
      biasCount += row.sampling?.logitBias?.tokens.length ?? 0;
      penaltyCount += row.sampling?.penalties?.tokens.length ?? 0;
    }
    at += chunk.tokens.length;
  }
  const batch = { tokens, positions, sequenceIds, outputs };
  if (rowCount === 0) return { batch, sampling: undefined, rowCount };

  const words = Math.ceil(vocabSize / 32);
  const sample = new Uint8Array(rowCount);
  const temperature = new Float32Array(rowCount);
  const topK = new Int32Array(rowCount);
  const topP = new Float32Array(rowCount);
  const minP = new Float32Array(rowCount);
  const seeds = new BigUint64Array(rowCount);
  const topLogprobs = new Int32Array(rowCount);
  const targetTokens = new Int32Array(rowCount);
  const returnLogits = new Uint8Array(rowCount);
  const scoreSampled = new Uint8Array(rowCount);
  let unscored = 0;
  const allowedMasks = maskCount > 0 ? new Uint32Array(maskCount * words) : undefined;
  const maskIndex = maskCount > 0 ? new Int32Array(rowCount).fill(-1) : undefined;
  // Row r's biases are entries [biasOffsets[r], biasOffsets[r + 1]); all omitted when none.
  const biasOffsets = biasCount > 0 ? new Int32Array(rowCount + 1) : undefined;
  const biasTokens = biasCount > 0 ? new Int32Array(biasCount) : undefined;
  const biasValues = biasCount > 0 ? new Float32Array(biasCount) : undefined;
  // Row r's penalized tokens are entries [penaltyOffsets[r], penaltyOffsets[r + 1]); its
  // parameters neutral (1, 0, 0) without penalties. All six omitted when no row has any.
  const penaltyArrays =
    penaltyCount > 0
      ? {
          offsets: new Int32Array(rowCount + 1),
          tokens: new Int32Array(penaltyCount),
          counts: new Int32Array(penaltyCount),
          repetition: new Float32Array(rowCount).fill(1),
          frequency: new Float32Array(rowCount),
          presence: new Float32Array(rowCount),
        }
      : undefined;
  let p = 0;
  let b = 0;
  let r = 0;
  let m = 0;
  for (const chunk of request.chunks) {
    for (const row of chunk.rows) {
      topLogprobs[r] = row.topLogprobs;
      targetTokens[r] = row.targetToken ?? -1;
      returnLogits[r] = row.returnLogits ? 1 : 0;
      if (row.scoreSample === false) unscored++;
      else scoreSampled[r] = 1;
      const s = row.sampling;
      if (s === null) {
        topP[r] = 1;
      } else {
        sample[r] = 1;
        temperature[r] = s.temperature;
        topK[r] = s.topK;
        topP[r] = s.topP;
        minP[r] = s.minP;
        seeds[r] = s.seed;
        if (s.allowedTokens !== null && allowedMasks && maskIndex) {
          allowedMasks.set(s.allowedTokens, m * words);
          maskIndex[r] = m++;
        }
        if (s.logitBias !== null && biasTokens && biasValues) {
          biasTokens.set(s.logitBias.tokens, b);
          biasValues.set(s.logitBias.values, b);
          b += s.logitBias.tokens.length;
        }
        const penalties = s.penalties;
        if (penalties && penalties.tokens.length > 0 && penaltyArrays) {
          penaltyArrays.tokens.set(penalties.tokens, p);
          penaltyArrays.counts.set(penalties.outputCounts, p);
          p += penalties.tokens.length;
          penaltyArrays.repetition[r] = penalties.repetition;
          penaltyArrays.frequency[r] = penalties.frequency;
          penaltyArrays.presence[r] = penalties.presence;
        }
      }
      r++;
      if (biasOffsets) biasOffsets[r] = b;
      if (penaltyArrays) penaltyArrays.offsets[r] = p;
    }
  }
  // One object shape whatever is present (the addon reads undefined as omitted): spreads of
  // optional parts cost more than the rest of the packing at one row per step.
  const sampling: NativeSamplingSpec = {
    sample,
    temperature,
    topK,
    topP,
    minP,
    seeds,
    topLogprobs,
    targetTokens,
    returnLogits,
    scoreSampled: unscored > 0 ? scoreSampled : undefined,
    allowedMasks,
    maskIndex,
    biasOffsets,
    biasTokens,
    biasValues,
    penaltyOffsets: penaltyArrays?.offsets,
    penaltyTokens: penaltyArrays?.tokens,
    penaltyCounts: penaltyArrays?.counts,
    repetitionPenalties: penaltyArrays?.repetition,
    frequencyPenalties: penaltyArrays?.frequency,
    presencePenalties: penaltyArrays?.presence,
  };
  return { batch, sampling, rowCount };
}

/**
 * Turn the addon's flat arrays into one RowResult per output row. `returnLogits` is the spec's
 * flag per row: the logits buffer holds those rows only, in row order.
 */
export function unpackRows(
  result: NativeDecodeResult,
  vocabSize: number,
  returnLogits: Uint8Array,
): RowResult[] {
  const rows: RowResult[] = [];
  let logitsRow = 0;
  for (let r = 0; r < result.tokens.length; r++) {
    const top: TokenLogprob[] = [];
    for (let k = 0; k < result.topCount; k++) {
      const token = result.topTokens[r * result.topCount + k]!;
      if (token < 0) break;
      top.push({ token, logprob: result.topLogprobs[r * result.topCount + k]! });
    }
    const token = result.tokens[r]!;
    const targetRank = result.targetRanks[r]!;
    let logits: Float32Array | null = null;
    if (returnLogits[r] === 1) {
      logits = result.logits.slice(logitsRow * vocabSize, (logitsRow + 1) * vocabSize);
      logitsRow++;
    }
    rows.push({
      token: token < 0 ? null : token,
      logprob: result.logprobs[r]!,
      rank: result.ranks[r]!,
      top,
      target: targetRank > 0 ? { logprob: result.targetLogprobs[r]!, rank: targetRank } : null,
      logits,
    });
  }
  return rows;
}

/** Split the addon's flat embeddings buffer into one vector per reported sequence or row. */
export function unpackEmbeddings(result: NativeDecodeResult): EmbeddingResult[] {
  const count = result.embeddingSequenceIds.length;
  if (count === 0) return [];
  const width = result.embeddings.length / count;
  return Array.from(result.embeddingSequenceIds, (sequenceId, i) => ({
    sequenceId,
    vector: result.embeddings.slice(i * width, (i + 1) * width),
  }));
}
