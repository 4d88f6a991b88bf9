/**
 * GGUF metadata values and the binary header. Owns: the typed value model (`GgufValue`), small
 * constructors for it (`ggufValue`), and `encodeGgufHeader`, which serializes the header, the
 * key/value pairs and the tensor infos (little-endian, strings as uint64 length + UTF-8 bytes),
 * padded with zeros to the alignment so tensor data can follow directly.
 */

import {
  GGML_TYPE,
  GGUF_MAGIC,
  GGUF_VALUE_TYPE,
  GGUF_VERSION,
  alignUp,
  type GgufNumericTypeName,
  type TensorTypeName,
} from './gguf-types.ts';

/** A typed GGUF metadata value. 64-bit integers may be given as bigint or safe-integer number. */
export type GgufValue =
  | { readonly type: GgufNumericTypeName; readonly value: number | bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | {
      readonly type: 'array';
      readonly itemType: GgufNumericTypeName;
      readonly values: ArrayLike<number> | readonly bigint[];
    }
  | { readonly type: 'array'; readonly itemType: 'bool'; readonly values: readonly boolean[] }
  | { readonly type: 'array'; readonly itemType: 'string'; readonly values: readonly string[] };

/** One metadata entry. Keys must be unique within a file. */
export interface GgufKeyValue {
  readonly key: string;
  readonly value: GgufValue;
}

/** Constructors for metadata values, e.g. `ggufValue.uint32(4096)`, `ggufValue.strings([...])`. */
export const ggufValue = {
  uint8: (value: number): GgufValue => ({ type: 'uint8', value }),
  int8: (value: number): GgufValue => ({ type: 'int8', value }),
  uint16: (value: number): GgufValue => ({ type: 'uint16', value }),
  int16: (value: number): GgufValue => ({ type: 'int16', value }),
  uint32: (value: number): GgufValue => ({ type: 'uint32', value }),
  int32: (value: number): GgufValue => ({ type: 'int32', value }),
  uint64: (value: number | bigint): GgufValue => ({ type: 'uint64', value }),
  int64: (value: number | bigint): GgufValue => ({ type: 'int64', value }),
  float32: (value: number): GgufValue => ({ type: 'float32', value }),
  float64: (value: number): GgufValue => ({ type: 'float64', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  string: (value: string): GgufValue => ({ type: 'string', value }),
  numbers: (
    itemType: GgufNumericTypeName,
    values: ArrayLike<number> | readonly bigint[],
  ): GgufValue => ({ type: 'array', itemType, values }),
  bools: (values: readonly boolean[]): GgufValue => ({ type: 'array', itemType: 'bool', values }),
  strings: (values: readonly string[]): GgufValue => ({
    type: 'array',
    itemType: 'string',
    values,
  }),
} as const;

/** What the header says about one tensor; `offset` is relative to the start of the data section. */
export interface GgufTensorInfo {
  readonly name: string;
  readonly type: TensorTypeName;
  readonly dims: readonly number[];
  readonly offset: number;
}

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  uint8: [0n, 0xffn],
  int8: [-0x80n, 0x7fn],
  uint16: [0n, 0xffffn],
  int16: [-0x8000n, 0x7fffn],
  uint32: [0n, 0xffffffffn],
  int32: [-0x80000000n, 0x7fffffffn],
  uint64: [0n, 0xffffffffffffffffn],
  int64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

/** A growable little-endian byte buffer. */
class ByteBuilder {
  private bytes = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.bytes.length) {
      const next = Buffer.alloc(Math.max(this.bytes.length * 2, this.length + n));
      this.bytes.copy(next, 0, 0, this.length);
      this.bytes = next;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  /** Reserves `n` bytes (growing first), then lets `write` fill them at offset `at`. */
  private put(n: number, write: (bytes: Buffer, at: number) => unknown): void {
    const at = this.reserve(n);
    write(this.bytes, at);
  }

  number(type: GgufNumericTypeName, value: number | bigint, what: string): void {
    if (type === 'float32') this.put(4, (b, at) => b.writeFloatLE(Number(value), at));
    else if (type === 'float64') this.put(8, (b, at) => b.writeDoubleLE(Number(value), at));
    else this.integer(type, value, what);
  }

  private integer(type: GgufNumericTypeName, value: number | bigint, what: string): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`${what}: ${type} value must be a safe integer, got ${value}`);
    }
    const big = BigInt(value);
    const range = INTEGER_RANGES[type];
    if (range === undefined || big < range[0] || big > range[1]) {
      throw new RangeError(`${what}: ${type} value out of range, got ${value}`);
    }
    const n = Number(value);
    if (type === 'uint64') this.put(8, (b, at) => b.writeBigUInt64LE(big, at));
    else if (type === 'int64') this.put(8, (b, at) => b.writeBigInt64LE(big, at));
    else if (type === 'uint32') this.put(4, (b, at) => b.writeUInt32LE(n, at));
    else if (type === 'int32') this.put(4, (b, at) => b.writeInt32LE(n, at));
    else if (type === 'uint16') this.put(2, (b, at) => b.writeUInt16LE(n, at));
    else if (type === 'int16') this.put(2, (b, at) => b.writeInt16LE(n, at));
    else if (type === 'uint8') this.put(1, (b, at) => b.writeUInt8(n, at));
    else this.put(1, (b, at) => b.writeInt8(n, at));
  }

  bool(value: boolean): void {
    this.put(1, (b, at) => b.writeUInt8(value ? 1 : 0, at));
  }

  string(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.put(8, (b, at) => b.writeBigUInt64LE(BigInt(length), at));
    this.put(length, (b, at) => b.write(value, at, length, 'utf8'));
  }

  zeros(n: number): void {
    this.put(n, (b, at) => b.fill(0, at, at + n));
  }

  result(): Buffer {
    return this.bytes.subarray(0, this.length);
  }
}

function encodeValue(out: ByteBuilder, key: string, value: GgufValue): void {
  out.number('int32', GGUF_VALUE_TYPE[value.type], key);
  if (value.type === 'bool') return out.bool(value.value);
  if (value.type === 'string') return out.string(value.value);
  if (value.type !== 'array') return out.number(value.type, value.value, key);
  out.number('int32', GGUF_VALUE_TYPE[value.itemType], key);
  out.number('uint64', value.values.length, key);
  if (value.itemType === 'string') for (const s of value.values) out.string(s);
  else if (value.itemType === 'bool') for (const b of value.values) out.bool(b);
  else {
    const values = value.values;
    for (let i = 0; i < values.length; i++) {
      out.number(value.itemType, values[i] ?? 0, `${key}[${i}]`);
    }
  }
}

/**
 * Serializes the GGUF header: magic, version, tensor count, key/value count, the key/values, the
 * tensor infos; then zero padding up to `alignment`. Throws on duplicate keys or bad values.
 */
export function encodeGgufHeader(
  metadata: readonly GgufKeyValue[],
  tensors: readonly GgufTensorInfo[],
  alignment: number,
): Buffer {
  const out = new ByteBuilder();
  out.number('uint32', GGUF_MAGIC, 'magic');
  out.number('uint32', GGUF_VERSION, 'version');
  out.number('int64', tensors.length, 'tensor count');
  out.number('int64', metadata.length, 'key/value count');
  const seen = new Set<string>();
  for (const { key, value } of metadata) {
    if (seen.has(key)) throw new Error(`duplicate GGUF key: ${key}`);
    seen.add(key);
    out.string(key);
    encodeValue(out, key, value);
  }
  for (const tensor of tensors) {
    out.string(tensor.name);
    out.number('uint32', tensor.dims.length, tensor.name);
    for (const dim of tensor.dims) out.number('int64', dim, tensor.name);
    out.number('int32', GGML_TYPE[tensor.type], tensor.name);
    out.number('uint64', tensor.offset, tensor.name);
  }
  out.zeros(alignUp(out.length, alignment) - out.length);
  return out.result();
}
