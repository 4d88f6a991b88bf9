/**
 * The model file a user names on the command line: checked before llama.cpp reads it, and
 * llama.cpp's load failures condensed, so that each fault (missing, a directory, not GGUF,
 * truncated, an architecture llama.cpp does not know) is one line naming the file and the reason.
 *
 * Owns: `ModelFileError`, the checks made in JavaScript (exists, is a regular file, readable,
 * starts with the GGUF magic) and the rewording of the addon's load error (llama.cpp's error
 * lines joined by "; ", whose function-name prefixes and "failed to load model" boilerplate are
 * dropped). Knows nothing of the server.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** A model file that cannot be served; the message is one line, ready for the user. */
export class ModelFileError extends Error {
  constructor(path: string, reason: string) {
    super(`cannot load model '${path}': ${reason.replace(/\s*\n\s*/g, ' ')}`);
    this.name = 'ModelFileError';
  }
}

/** The magic every GGUF file starts with. */
const GGUF_MAGIC = 'GGUF';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/** The file's first bytes (fewer when it is shorter). */
function readHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(length);
    const read = readSync(fd, head, 0, length, 0);
    return head.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * Throws ModelFileError unless `path` is a readable regular file that starts with "GGUF" (what
 * llama.cpp would otherwise report in several lines, or as "no such model file" for a folder).
 */
export function checkModelFile(path: string): void {
  let head: Buffer;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      throw new ModelFileError(path, 'it is a directory; give the path of a .gguf file');
    }
    if (!stats.isFile()) throw new ModelFileError(path, 'not a regular file');
    head = readHead(path, GGUF_MAGIC.length);
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ModelFileError(path, 'no such file');
    if (code === 'EACCES' || code === 'EPERM') throw new ModelFileError(path, 'permission denied');
    throw new ModelFileError(path, error instanceof Error ? error.message : String(error));
  }
  if (head.toString('latin1') !== GGUF_MAGIC) {
    const shown = head.length === 0 ? 'it is empty' : 'it does not start with "GGUF"';
    throw new ModelFileError(path, `not a GGUF file (${shown})`);
  }
}

/** The addon's message for a file llama.cpp refused, with llama.cpp's error lines after ": ". */
const LLAMA_REFUSAL = /^loadModel: llama\.cpp could not load '.*?'(?:: (.*))?$/s;
const NO_SUCH_FILE = /^loadModel: no such model file/;

/** Lines that only say that loading failed, not why. */
const BOILERPLATE = /failed to load model|^error loading model$/;

/** "llama_model_load: error loading model: x" -> "x"; "read: x" -> "x". */
function withoutPrefixes(line: string): string {
  let text = line.trim();
  for (;;) {
    const next = text.replace(/^[a-z_]+: /, '').replace(/^error loading model: /, '');
    if (next === text) return text;
    text = next;
  }
}

/** Reasons that say the file's content ends early, without saying the file is incomplete. */
const READ_PAST_END = /failed to read|exceeds remaining file size/;

/**
 * The error to report for `error`, thrown while loading `path`: the addon's load failures as a
 * ModelFileError with llama.cpp's reasons (e.g. "unknown model architecture: 'x'", "tensor 'y'
 * data is not within the file bounds, model is corrupted or incomplete"); anything else as is.
 */
export function modelLoadError(path: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (NO_SUCH_FILE.test(error.message)) return new ModelFileError(path, 'no such file');
  const refusal = LLAMA_REFUSAL.exec(error.message);
  if (refusal === null) return error;
  const reasons = [
    ...new Set(
      (refusal[1] ?? '')
        .split('; ')
        .map(withoutPrefixes)
        .filter((line) => line !== '' && !BOILERPLATE.test(line)),
    ),
  ];
  let reason = reasons.length > 0 ? reasons.join('; ') : 'llama.cpp could not load it';
  if (READ_PAST_END.test(reason) && !/corrupted|incomplete/.test(reason)) {
    reason += ' (the file is truncated or corrupted)';
  }
  return new ModelFileError(path, reason);
}
