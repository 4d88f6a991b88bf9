/**
 * Test-only GGUF reader, written from the format description in llama.cpp's `gguf.h` and
 * deliberately sharing no code or constants with the writer, so round-trip tests can catch writer
 * mistakes. Owns parsing a whole (small) file from a Buffer: header, key/values with their type
 * codes, tensor infos, the data section offset.
 */

/** A parsed metadata value with its raw `gguf_type` code (and item type code for arrays). */
export interface ReadValue {
  readonly type: number;
  readonly itemType?: number;
  readonly value: unknown;
}

/** A parsed tensor info. `type` is the raw `ggml_type` code. */
export interface ReadTensor {
  readonly name: string;
  readonly dims: number[];
  readonly type: number;
  readonly offset: number;
}

/** A parsed GGUF file. */
export interface ReadGguf {
  readonly version: number;
  readonly metadata: Map<string, ReadValue>;
  readonly keyOrder: string[];
  readonly tensors: ReadTensor[];
  /** Absolute offset of the data section (header end padded to the alignment). */
  readonly dataOffset: number;
  readonly alignment: number;
  readonly file: Buffer;
}

/** Parses a GGUF file held in memory. Throws on a malformed header. */
export function readGguf(file: Buffer): ReadGguf {
  let at = 0;
  const take = (n: number) => {
    if (at + n > file.length) throw new Error(`truncated GGUF at ${at}`);
    const start = at;
    at += n;
    return start;
  };
  const u32 = () => file.readUInt32LE(take(4));
  const u64 = () => Number(file.readBigUInt64LE(take(8)));
  const str = () => {
    const n = u64();
    return file.toString('utf8', take(n), at);
  };
  const scalar = (type: number): unknown => {
    switch (type) {
      case 0:
        return file.readUInt8(take(1));
      case 1:
        return file.readInt8(take(1));
      case 2:
        return file.readUInt16LE(take(2));
      case 3:
        return file.readInt16LE(take(2));
      case 4:
        return file.readUInt32LE(take(4));
      case 5:
        return file.readInt32LE(take(4));
      case 6:
        return file.readFloatLE(take(4));
      case 7: {
        const b = file.readUInt8(take(1));
        if (b > 1) throw new Error(`bad bool ${b}`);
        return b === 1;
      }
      case 8:
        return str();
      case 10:
        return file.readBigUInt64LE(take(8));
      case 11:
        return file.readBigInt64LE(take(8));
      case 12:
        return file.readDoubleLE(take(8));
      default:
        throw new Error(`bad value type ${type}`);
    }
  };

  if (file.toString('latin1', 0, 4) !== 'GGUF') throw new Error('bad magic');
  take(4);
  const version = u32();
  const tensorCount = Number(file.readBigInt64LE(take(8)));
  const kvCount = Number(file.readBigInt64LE(take(8)));
  const metadata = new Map<string, ReadValue>();
  const keyOrder: string[] = [];
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = file.readInt32LE(take(4));
    if (type === 9) {
      const itemType = file.readInt32LE(take(4));
      const n = u64();
      const items: unknown[] = [];
      for (let j = 0; j < n; j++) items.push(scalar(itemType));
      metadata.set(key, { type, itemType, value: items });
    } else {
      metadata.set(key, { type, value: scalar(type) });
    }
    keyOrder.push(key);
  }
  const tensors: ReadTensor[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str();
    const nDims = u32();
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(Number(file.readBigInt64LE(take(8))));
    const type = file.readInt32LE(take(4));
    const offset = u64();
    tensors.push({ name, dims, type, offset });
  }
  const alignmentValue = metadata.get('general.alignment')?.value;
  const alignment = typeof alignmentValue === 'number' ? alignmentValue : 32;
  const dataOffset = Math.ceil(at / alignment) * alignment;
  for (let i = at; i < dataOffset; i++) {
    if (file[i] !== 0) throw new Error(`non-zero header padding at ${i}`);
  }
  return { version, metadata, keyOrder, tensors, dataOffset, alignment, file };
}

/** The bytes of tensor `name` (its byte size given by the caller). */
export function tensorBytes(gguf: ReadGguf, name: string, byteSize: number): Buffer {
  const tensor = gguf.tensors.find((t) => t.name === name);
  if (tensor === undefined) throw new Error(`no tensor ${name}`);
  const start = gguf.dataOffset + tensor.offset;
  return gguf.file.subarray(start, start + byteSize);
}

/** The value of metadata key `key`, or throws. */
export function metadataValue(gguf: ReadGguf, key: string): unknown {
  const entry = gguf.metadata.get(key);
  if (entry === undefined) throw new Error(`no key ${key}`);
  return entry.value;
}
