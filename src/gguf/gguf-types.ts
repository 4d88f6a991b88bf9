/**
 * The numeric codes and sizes of the GGUF format (llama.cpp `ggml/include/gguf.h`, `ggml.h`).
 * Owns: metadata value type codes, the tensor types this project writes (F32, F16, Q8_0) with
 * their ggml codes and byte sizes, and the file constants (magic, version, alignment).
 */

import { Q8_0_BLOCK_BYTES, Q8_0_BLOCK_VALUES } from './q8-0.ts';

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;

/** The GGUF version this writer produces. */
export const GGUF_VERSION = 3;

/** Default (and our) alignment of the tensor data section and of every tensor's offset. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Longest tensor name ggml accepts (GGML_MAX_NAME is 64 including the terminating NUL). */
export const GGML_MAX_NAME_LENGTH = 63;

/** Codes of `enum gguf_type`, the type tags of metadata values. */
export const GGUF_VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** A metadata value type name other than `array`. */
export type GgufScalarTypeName = Exclude<keyof typeof GGUF_VALUE_TYPE, 'array'>;

/** A numeric metadata value type name. */
export type GgufNumericTypeName = Exclude<GgufScalarTypeName, 'bool' | 'string'>;

/** Tensor types this project writes, by lowercase name. */
export type TensorTypeName = 'f32' | 'f16' | 'q8_0';

/** ggml's `enum ggml_type` codes of the tensor types we write. */
export const GGML_TYPE: Readonly<Record<TensorTypeName, number>> = { f32: 0, f16: 1, q8_0: 8 };

/** Values per block and bytes per block of each tensor type (ggml's `type_traits`). */
export const TENSOR_TYPE_LAYOUT: Readonly<
  Record<TensorTypeName, { readonly blockValues: number; readonly blockBytes: number }>
> = {
  f32: { blockValues: 1, blockBytes: 4 },
  f16: { blockValues: 1, blockBytes: 2 },
  q8_0: { blockValues: Q8_0_BLOCK_VALUES, blockBytes: Q8_0_BLOCK_BYTES },
};

/** Byte size of one row of `rowLength` values (ne[0]) in the given type; throws if not whole blocks. */
export function rowByteSize(type: TensorTypeName, rowLength: number): number {
  const { blockValues, blockBytes } = TENSOR_TYPE_LAYOUT[type];
  if (rowLength % blockValues !== 0) {
    throw new RangeError(`${type} rows need ne[0] % ${blockValues} == 0, got ne[0] = ${rowLength}`);
  }
  return (rowLength / blockValues) * blockBytes;
}

/** Byte size of a tensor with dims `dims` (ne[0] first, the contiguous one). */
export function tensorByteSize(type: TensorTypeName, dims: readonly number[]): number {
  const rows = dims.slice(1).reduce((a, b) => a * b, 1);
  return rowByteSize(type, dims[0] ?? 1) * rows;
}

/** Rounds `n` up to a multiple of `alignment`. */
export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
