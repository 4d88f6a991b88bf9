/**
 * Writes a `general.architecture = llama` GGUF model. Owns the llama metadata keys, the
 * tokenizer keys (gpt2 BPE with the qwen2 pre-tokenizer, ChatML template, fill-in-the-middle
 * token ids when the vocabulary has them), the tensor list with
 * its shapes (names as in llama.cpp's `LLM_TENSOR_NAMES`) and the choice of storage type per
 * tensor. Weight values come from a caller-supplied row filler per tensor.
 */

import type { GgufKeyValue, GgufValue } from './gguf-metadata.ts';
import { ggufValue } from './gguf-metadata.ts';
import type { TensorTypeName } from './gguf-types.ts';
import type { Vocabulary } from './byte-vocabulary.ts';
import { writeGgufFile, type GgufTensor, type GgufWriteResult } from './gguf-writer.ts';

/** Storage type of the weight matrices (1-D norm weights are always F32). */
export type WeightType = TensorTypeName;

/** The ChatML chat template: `<|im_start|>role\ncontent<|im_end|>\n` per message. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']" +
  " + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** llama.cpp's `llama_ftype` for each weight type (`general.file_type`). */
export const LLAMA_FILE_TYPE: Readonly<Record<WeightType, number>> = { f32: 0, f16: 1, q8_0: 7 };

/** Hyperparameters of a llama model. */
export interface LlamaHyperparameters {
  /** `general.name`. */
  readonly name: string;
  /** `llama.context_length`: the training context length. */
  readonly contextLength: number;
  /** `llama.embedding_length` (n_embd). */
  readonly embeddingLength: number;
  /** `llama.block_count` (n_layer). */
  readonly blockCount: number;
  /** `llama.feed_forward_length` (n_ff). */
  readonly feedForwardLength: number;
  /** `llama.attention.head_count`; must divide n_embd (head size = n_embd / n_head). */
  readonly headCount: number;
  /** `llama.attention.head_count_kv`; must divide head_count. */
  readonly headCountKv: number;
  /** `llama.rope.freq_base`. */
  readonly ropeFreqBase: number;
  /** `llama.attention.layer_norm_rms_epsilon`. */
  readonly rmsEpsilon: number;
}

/** Which tensor of the model, for weight callbacks. `layer` is null outside the blocks. */
export interface LlamaTensorSlot {
  readonly name: string;
  readonly role:
    | 'token_embd'
    | 'attn_norm'
    | 'attn_q'
    | 'attn_k'
    | 'attn_v'
    | 'attn_output'
    | 'ffn_norm'
    | 'ffn_gate'
    | 'ffn_up'
    | 'ffn_down'
    | 'output_norm'
    | 'output';
  readonly layer: number | null;
  /** GGUF dims: [ne0] for norms, [ne0, ne1] for matrices (rows of length ne0). */
  readonly dims: readonly number[];
}

/** Everything {@link writeLlamaModel} needs. */
export interface LlamaModelSpec {
  readonly hparams: LlamaHyperparameters;
  readonly vocabulary: Vocabulary;
  /** Type of the 2-D weights (and `general.file_type`). Q8_0 needs ne[0] % 32 == 0. */
  readonly weightType: WeightType;
  /** Per-tensor type override for 2-D tensors (e.g. keep `output` F16 in a Q8_0 file). */
  readonly tensorType?: (slot: LlamaTensorSlot) => WeightType | undefined;
  /** Returns the row filler of a tensor; called once per tensor, in file order. */
  readonly weights: (slot: LlamaTensorSlot) => (row: Float32Array, index: number) => void;
  /** `tokenizer.chat_template`; default {@link CHATML_TEMPLATE}. */
  readonly chatTemplate?: string;
  /** `llama.pooling_type` (an embedding model's pooling); absent: not written (a generator). */
  readonly poolingType?: PoolingType;
  /** The model's recommended sampling (`general.sampling.*`); absent keys are not written. */
  readonly sampling?: GeneralSampling;
}

/**
 * A model's recommended sampling, as llama.cpp's `general.sampling.*` keys record it (top_k an
 * int32, the others float32).
 */
export interface GeneralSampling {
  /** `general.sampling.temp`. */
  readonly temp?: number;
  /** `general.sampling.top_k`. */
  readonly topK?: number;
  /** `general.sampling.top_p`. */
  readonly topP?: number;
  /** `general.sampling.min_p`. */
  readonly minP?: number;
  /** `general.sampling.penalty_repeat`. */
  readonly penaltyRepeat?: number;
}

/** The `general.sampling.*` entries of `sampling`, in llama.cpp's key order. */
function samplingMetadata(sampling: GeneralSampling): [string, GgufValue][] {
  const v = ggufValue;
  const entries: [string, GgufValue | null][] = [
    ['general.sampling.top_k', sampling.topK === undefined ? null : v.int32(sampling.topK)],
    ['general.sampling.top_p', sampling.topP === undefined ? null : v.float32(sampling.topP)],
    ['general.sampling.min_p', sampling.minP === undefined ? null : v.float32(sampling.minP)],
    ['general.sampling.temp', sampling.temp === undefined ? null : v.float32(sampling.temp)],
    [
      'general.sampling.penalty_repeat',
      sampling.penaltyRepeat === undefined ? null : v.float32(sampling.penaltyRepeat),
    ],
  ];
  return entries.filter((entry): entry is [string, GgufValue] => entry[1] !== null);
}

/** An embedding model's pooling, as llama.cpp's `llama_pooling_type` numbers it. */
export type PoolingType = 'none' | 'mean' | 'cls' | 'last';
const POOLING_TYPE: Record<PoolingType, number> = { none: 0, mean: 1, cls: 2, last: 3 };

/** The tensors of a llama model in file order, with their shapes. */
export function llamaTensorSlots(hp: LlamaHyperparameters, vocabSize: number): LlamaTensorSlot[] {
  const { embeddingLength: embd, feedForwardLength: ff } = hp;
  const headSize = embd / hp.headCount;
  const kv = headSize * hp.headCountKv;
  const slots: LlamaTensorSlot[] = [
    { name: 'token_embd.weight', role: 'token_embd', layer: null, dims: [embd, vocabSize] },
  ];
  for (let i = 0; i < hp.blockCount; i++) {
    const add = (role: LlamaTensorSlot['role'], dims: number[]) =>
      slots.push({ name: `blk.${i}.${role}.weight`, role, layer: i, dims });
    add('attn_norm', [embd]);
    add('attn_q', [embd, embd]);
    add('attn_k', [embd, kv]);
    add('attn_v', [embd, kv]);
    add('attn_output', [embd, embd]);
    add('ffn_norm', [embd]);
    add('ffn_gate', [embd, ff]);
    add('ffn_up', [embd, ff]);
    add('ffn_down', [ff, embd]);
  }
  slots.push({ name: 'output_norm.weight', role: 'output_norm', layer: null, dims: [embd] });
  slots.push({ name: 'output.weight', role: 'output', layer: null, dims: [embd, vocabSize] });
  return slots;
}

function validate(hp: LlamaHyperparameters): void {
  const positive = [
    hp.contextLength,
    hp.embeddingLength,
    hp.blockCount,
    hp.feedForwardLength,
    hp.headCount,
    hp.headCountKv,
  ];
  if (!positive.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new RangeError(`llama hyperparameters must be positive integers: ${JSON.stringify(hp)}`);
  }
  if (hp.embeddingLength % hp.headCount !== 0 || hp.headCount % hp.headCountKv !== 0) {
    throw new RangeError('head_count must divide embedding_length, head_count_kv head_count');
  }
}

/** The metadata of a llama model: general, llama.* hyperparameters and tokenizer keys. */
export function llamaMetadata(spec: LlamaModelSpec): GgufKeyValue[] {
  const { hparams: hp, vocabulary: vocab } = spec;
  const v = ggufValue;
  const entries: [string, GgufValue][] = [
    ['general.architecture', v.string('llama')],
    ['general.type', v.string('model')],
    ['general.name', v.string(hp.name)],
    ['general.file_type', v.uint32(LLAMA_FILE_TYPE[spec.weightType])],
    ['general.quantization_version', v.uint32(2)],
    ['general.alignment', v.uint32(32)],
    ...samplingMetadata(spec.sampling ?? {}),
    ['llama.vocab_size', v.uint32(vocab.tokens.length)],
    ['llama.context_length', v.uint32(hp.contextLength)],
    ['llama.embedding_length', v.uint32(hp.embeddingLength)],
    ['llama.block_count', v.uint32(hp.blockCount)],
    ['llama.feed_forward_length', v.uint32(hp.feedForwardLength)],
    ['llama.attention.head_count', v.uint32(hp.headCount)],
    ['llama.attention.head_count_kv', v.uint32(hp.headCountKv)],
    ['llama.rope.dimension_count', v.uint32(hp.embeddingLength / hp.headCount)],
    ['llama.rope.freq_base', v.float32(hp.ropeFreqBase)],
    ['llama.attention.layer_norm_rms_epsilon', v.float32(hp.rmsEpsilon)],
    ['tokenizer.ggml.model', v.string('gpt2')],
    ['tokenizer.ggml.pre', v.string('qwen2')],
    ['tokenizer.ggml.tokens', v.strings(vocab.tokens)],
    ['tokenizer.ggml.token_type', v.numbers('int32', vocab.tokenTypes)],
    ['tokenizer.ggml.merges', v.strings(vocab.merges)],
    ['tokenizer.ggml.bos_token_id', v.uint32(vocab.bosTokenId)],
    ['tokenizer.ggml.eos_token_id', v.uint32(vocab.eosTokenId)],
    ['tokenizer.ggml.eot_token_id', v.uint32(vocab.eotTokenId)],
    ['tokenizer.ggml.add_bos_token', v.bool(false)],
    ['tokenizer.ggml.add_eos_token', v.bool(false)],
    ['tokenizer.chat_template', v.string(spec.chatTemplate ?? CHATML_TEMPLATE)],
  ];
  const fim = vocab.fillInTheMiddle;
  if (fim !== null) {
    entries.push(
      ['tokenizer.ggml.fim_pre_token_id', v.uint32(fim.prefix)],
      ['tokenizer.ggml.fim_suf_token_id', v.uint32(fim.suffix)],
      ['tokenizer.ggml.fim_mid_token_id', v.uint32(fim.middle)],
    );
  }
  if (spec.poolingType !== undefined && spec.poolingType !== 'none') {
    entries.push(['llama.pooling_type', v.uint32(POOLING_TYPE[spec.poolingType])]);
  }
  return entries.map(([key, value]) => ({ key, value }));
}

/**
 * Writes the model to `path` (streamed, tensor by tensor). Norm weights are F32; matrices use
 * `tensorType(slot) ?? weightType`.
 */
export async function writeLlamaModel(
  path: string,
  spec: LlamaModelSpec,
): Promise<GgufWriteResult> {
  validate(spec.hparams);
  const slots = llamaTensorSlots(spec.hparams, spec.vocabulary.tokens.length);
  const tensors: GgufTensor[] = slots.map((slot) => {
    const type: TensorTypeName =
      slot.dims.length === 1 ? 'f32' : (spec.tensorType?.(slot) ?? spec.weightType);
    let filler: ((row: Float32Array, index: number) => void) | undefined;
    return {
      name: slot.name,
      type,
      dims: slot.dims,
      // Asks for the filler lazily, so callers can allocate per-tensor state just in time.
      fillRow: (row, index) => {
        filler ??= spec.weights(slot);
        filler(row, index);
      },
    };
  });
  return writeGgufFile(path, llamaMetadata(spec), tensors);
}
