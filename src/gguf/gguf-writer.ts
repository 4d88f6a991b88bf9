/**
 * Streams a GGUF v3 file to disk. Owns: the tensor layout (offsets computed from shapes up front,
 * each aligned), the `general.alignment` key, and writing tensor data row by row through two
 * reused chunk buffers (one being filled while the other is written), so files of hundreds of
 * megabytes never exist in memory at once. Row values arrive as float32 and are stored as F32,
 * F16 (round-to-nearest-even) or Q8_0.
 */

import { open, rm, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';

import { encodeFloat16Row } from './float16.ts';
import {
  encodeGgufHeader,
  ggufValue,
  type GgufKeyValue,
  type GgufTensorInfo,
} from './gguf-metadata.ts';
import {
  GGML_MAX_NAME_LENGTH,
  GGUF_DEFAULT_ALIGNMENT,
  alignUp,
  rowByteSize,
  tensorByteSize,
  type TensorTypeName,
} from './gguf-types.ts';
import { quantizeRowQ8_0 } from './q8-0.ts';

/** A tensor to write, with its values produced one row at a time. */
export interface GgufTensor {
  /** Tensor name, at most 63 bytes, unique in the file. */
  readonly name: string;
  /** Storage type. Q8_0 needs dims[0] % 32 == 0. */
  readonly type: TensorTypeName;
  /** Shape in GGUF order: dims[0] (ne[0]) is the contiguous dimension. 1 to 4 dims. */
  readonly dims: readonly number[];
  /**
   * Fills `row` (length dims[0], reused between calls, arbitrary previous content) with row
   * `index`, where rows are numbered 0 .. product(dims[1..]) - 1 in storage order.
   */
  readonly fillRow: (row: Float32Array, index: number) => void;
}

/** Options of {@link writeGgufFile}. */
export interface GgufWriteOptions {
  /** Alignment of the data section and of each tensor (power of two). Default 32. */
  readonly alignment?: number;
  /** Size of each of the two write buffers in bytes. Default 8 MiB. */
  readonly chunkBytes?: number;
}

/** What {@link writeGgufFile} wrote. */
export interface GgufWriteResult {
  /** Total file size in bytes. */
  readonly bytes: number;
  /** Absolute file offset of the tensor data section. */
  readonly dataOffset: number;
  /** Tensor infos as written (offsets relative to the data section). */
  readonly tensors: readonly GgufTensorInfo[];
}

/** Computes each tensor's aligned offset within the data section, and the section's size. */
export function planTensorLayout(
  tensors: readonly Pick<GgufTensor, 'name' | 'type' | 'dims'>[],
  alignment: number = GGUF_DEFAULT_ALIGNMENT,
): { readonly infos: GgufTensorInfo[]; readonly dataBytes: number } {
  const names = new Set<string>();
  let offset = 0;
  const infos = tensors.map(({ name, type, dims }) => {
    if (names.has(name)) throw new Error(`duplicate tensor name: ${name}`);
    names.add(name);
    if (Buffer.byteLength(name) > GGML_MAX_NAME_LENGTH) throw new Error(`name too long: ${name}`);
    if (
      dims.length < 1 ||
      dims.length > 4 ||
      !dims.every((d) => Number.isSafeInteger(d) && d > 0)
    ) {
      throw new RangeError(
        `tensor ${name}: dims must be 1 to 4 positive integers, got [${dims.join(', ')}]`,
      );
    }
    const info: GgufTensorInfo = { name, type, dims: [...dims], offset };
    offset = alignUp(offset + tensorByteSize(type, dims), alignment);
    return info;
  });
  return { infos, dataBytes: offset };
}

/** Adds `general.alignment` (uint32) if absent; rejects a conflicting one. */
function withAlignmentKey(metadata: readonly GgufKeyValue[], alignment: number): GgufKeyValue[] {
  const existing = metadata.find((kv) => kv.key === 'general.alignment');
  if (existing === undefined) {
    return [...metadata, { key: 'general.alignment', value: ggufValue.uint32(alignment) }];
  }
  const { value } = existing;
  if (value.type !== 'uint32' || Number(value.value) !== alignment) {
    throw new Error(`general.alignment must be uint32 ${alignment}`);
  }
  return [...metadata];
}

/** Two reused buffers: one is filled while the other one's write is in flight. */
class DoubleBufferedSink {
  private readonly buffers: [Uint8Array, Uint8Array];
  private current = 0;
  private pending: Promise<void> = Promise.resolve();
  /** Fill position within {@link buffer}. */
  position = 0;
  /** File offset where {@link buffer} starts. */
  private fileOffset: number;
  private readonly file: FileHandle;

  constructor(file: FileHandle, chunkBytes: number, startOffset: number) {
    this.file = file;
    this.buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
    this.fileOffset = startOffset;
  }

  get buffer(): Uint8Array {
    return this.buffers[this.current] ?? this.buffers[0];
  }

  /** Whether `n` more bytes fit before a flush is needed. */
  hasRoom(n: number): boolean {
    return this.position + n <= this.buffer.length;
  }

  /** Starts writing the filled buffer and switches to the other one (once its write is done). */
  async flush(): Promise<void> {
    await this.pending;
    const full = this.buffer;
    const length = this.position;
    const at = this.fileOffset;
    this.pending = writeFully(this.file, full, length, at);
    // Marks the rejection as handled; whoever awaits `pending` next still sees the error.
    this.pending.catch(() => undefined);
    this.fileOffset += length;
    this.current = 1 - this.current;
    this.position = 0;
  }

  /** Appends `n` zero bytes. */
  async zeros(n: number): Promise<void> {
    if (!this.hasRoom(n)) await this.flush();
    this.buffer.fill(0, this.position, this.position + n);
    this.position += n;
  }

  /** Waits for the write in flight, ignoring its outcome (used when aborting). */
  async settle(): Promise<void> {
    await this.pending.catch(() => undefined);
  }

  /** Flushes everything and waits for the last write. Returns the end offset. */
  async finish(): Promise<number> {
    await this.flush();
    await this.pending;
    return this.fileOffset;
  }
}

async function writeFully(file: FileHandle, data: Uint8Array, length: number, at: number) {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await file.write(data, done, length - done, at + done);
    if (bytesWritten <= 0) throw new Error('GGUF write made no progress');
    done += bytesWritten;
  }
}

/** Encodes one float32 row in `type` into `dst` at `offset`; `half` is float16 scratch. */
function encodeRow(
  type: TensorTypeName,
  row: Float32Array,
  dst: Uint8Array,
  offset: number,
  half: Uint16Array,
): void {
  if (type === 'q8_0') return quantizeRowQ8_0(row, dst, offset);
  if (type === 'f32') {
    dst.set(new Uint8Array(row.buffer, row.byteOffset, row.byteLength), offset);
    return;
  }
  encodeFloat16Row(row, half);
  dst.set(new Uint8Array(half.buffer, half.byteOffset, row.length * 2), offset);
}

/**
 * Writes a GGUF v3 file at `path`: header, metadata (plus `general.alignment`), tensor infos,
 * then each tensor's rows in order, zero-padded to the alignment. Removes the partial file and
 * rethrows on failure. Requires a little-endian host (typed arrays are copied as-is).
 */
export async function writeGgufFile(
  path: string,
  metadata: readonly GgufKeyValue[],
  tensors: readonly GgufTensor[],
  options: GgufWriteOptions = {},
): Promise<GgufWriteResult> {
  if (endianness() !== 'LE') throw new Error('GGUF writer needs a little-endian host');
  const alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`alignment must be a power of two, got ${alignment}`);
  }
  const { infos, dataBytes } = planTensorLayout(tensors, alignment);
  const header = encodeGgufHeader(withAlignmentKey(metadata, alignment), infos, alignment);
  const maxRowBytes = Math.max(
    0,
    ...tensors.map((t) => Math.max(rowByteSize(t.type, t.dims[0] ?? 1), alignment)),
  );
  const chunkBytes = Math.max(options.chunkBytes ?? 8 << 20, maxRowBytes);
  const maxRowLength = Math.max(0, ...tensors.map((t) => t.dims[0] ?? 1));
  const row = new Float32Array(maxRowLength);
  const half = new Uint16Array(maxRowLength);

  const file = await open(path, 'w');
  const sink = new DoubleBufferedSink(file, chunkBytes, header.length);
  try {
    await writeFully(file, header, header.length, 0);
    for (const [i, tensor] of tensors.entries()) {
      const rowLength = tensor.dims[0] ?? 1;
      const rowView = row.subarray(0, rowLength);
      const rowBytes = rowByteSize(tensor.type, rowLength);
      const rows = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
      for (let r = 0; r < rows; r++) {
        tensor.fillRow(rowView, r);
        if (!sink.hasRoom(rowBytes)) await sink.flush();
        encodeRow(tensor.type, rowView, sink.buffer, sink.position, half);
        sink.position += rowBytes;
      }
      const end = (infos[i]?.offset ?? 0) + rows * rowBytes;
      await sink.zeros(alignUp(end, alignment) - end);
    }
    const bytes = await sink.finish();
    if (bytes !== header.length + dataBytes) {
      throw new Error(`GGUF size mismatch: wrote ${bytes}, planned ${header.length + dataBytes}`);
    }
    await file.close();
    return { bytes, dataOffset: header.length, tensors: infos };
  } catch (error) {
    await sink.settle();
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}
