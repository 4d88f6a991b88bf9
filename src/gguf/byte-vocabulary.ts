/**
 * The byte-level GPT-2 style vocabulary of our test models. Owns the token ids: id b (0..255) is
 * the single byte b, spelled with GPT-2's `bytes_to_unicode` alphabet (byte 32 is 'Ġ', 10 is
 * 'Ċ'); then three control tokens; optionally the three fill-in-the-middle control tokens; then,
 * for large vocabularies, extra multi-byte normal tokens with the BPE merges that produce them.
 * Every string of bytes is encodable.
 */

/** Number of single-byte tokens (ids 0..255, id = byte value). */
export const BYTE_TOKEN_COUNT = 256;

/** `<|endoftext|>`: BOS and EOS. */
export const ENDOFTEXT_TOKEN_ID = 256;

/** `<|im_start|>`: opens a ChatML message. */
export const IM_START_TOKEN_ID = 257;

/** `<|im_end|>`: closes a ChatML message; the EOT token. */
export const IM_END_TOKEN_ID = 258;

/** Size of the vocabulary without extra tokens: 256 bytes + 3 control tokens. */
export const BASE_VOCAB_SIZE = 259;

/** `<|fim_prefix|>` (Qwen's spelling), in a vocabulary built with fill-in-the-middle tokens. */
export const FIM_PREFIX_TOKEN_ID = 259;

/** `<|fim_suffix|>`, in a vocabulary built with fill-in-the-middle tokens. */
export const FIM_SUFFIX_TOKEN_ID = 260;

/** `<|fim_middle|>`, in a vocabulary built with fill-in-the-middle tokens. */
export const FIM_MIDDLE_TOKEN_ID = 261;

/** Size of the vocabulary with the fill-in-the-middle tokens and no extra tokens. */
export const FIM_VOCAB_SIZE = 262;

/** Texts of the fill-in-the-middle control tokens, by id. */
export const FIM_TOKENS: Readonly<Record<number, string>> = {
  [FIM_PREFIX_TOKEN_ID]: '<|fim_prefix|>',
  [FIM_SUFFIX_TOKEN_ID]: '<|fim_suffix|>',
  [FIM_MIDDLE_TOKEN_ID]: '<|fim_middle|>',
};

/** Texts of the control tokens, by id. */
export const CONTROL_TOKENS: Readonly<Record<number, string>> = {
  [ENDOFTEXT_TOKEN_ID]: '<|endoftext|>',
  [IM_START_TOKEN_ID]: '<|im_start|>',
  [IM_END_TOKEN_ID]: '<|im_end|>',
};

/** llama.cpp's `llama_token_type` values stored in `tokenizer.ggml.token_type`. */
export const TOKEN_TYPE = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

/** A tokenizer vocabulary as stored in GGUF (`tokenizer.ggml.*`). */
export interface Vocabulary {
  /** Token texts in the byte-unicode alphabet (control tokens verbatim), index = id. */
  readonly tokens: readonly string[];
  /** `TOKEN_TYPE` of each token. */
  readonly tokenTypes: Int32Array;
  /** BPE merges "left right", highest priority first. */
  readonly merges: readonly string[];
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly eotTokenId: number;
  /**
   * The fill-in-the-middle tokens (GGUF `tokenizer.ggml.fim_{pre,suf,mid}_token_id`), or null
   * when the vocabulary has none.
   */
  readonly fillInTheMiddle: { prefix: number; suffix: number; middle: number } | null;
}

/** Options of {@link buildByteVocabulary}. */
export interface ByteVocabularyOptions {
  /** Add `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>` as ids 259-261. Default false. */
  readonly fillInTheMiddle?: boolean;
}

/** GPT-2's `bytes_to_unicode()`: the printable character standing for each byte. */
function buildByteAlphabet(): readonly string[] {
  const table = new Array<string>(256);
  const isPrintable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(isPrintable(b) ? b : next++);
  return table;
}

const BYTE_ALPHABET = buildByteAlphabet();

/** The character GPT-2's byte-level BPE uses for byte `byte` (0..255). */
export function byteToUnicode(byte: number): string {
  const ch = BYTE_ALPHABET[byte];
  if (ch === undefined) throw new RangeError(`not a byte: ${byte}`);
  return ch;
}

/** Spells UTF-8 text (or raw bytes) in the byte-unicode alphabet, as vocabulary entries are. */
export function bytesToTokenText(bytes: string | Uint8Array): string {
  const raw = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  let out = '';
  for (const b of raw) out += byteToUnicode(b);
  return out;
}

/**
 * Characters extra tokens are built from: 'Ġ' (space) only as a first character, then letters,
 * digits and '.', so tokens look like words ("Ġab", "xyz").
 */
const EXTRA_ALPHABET = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.'].map(
  (c) => byteToUnicode(c.charCodeAt(0)),
);
const EXTRA_FIRST = [byteToUnicode(32), ...EXTRA_ALPHABET];

/**
 * Appends extra tokens until `tokens.length === size`: first every 2-character token (first
 * character from EXTRA_FIRST, second from EXTRA_ALPHABET), merge "x y"; then each existing extra
 * token extended by one character, merge "prefix c"; and so on. Every merge's parts are tokens,
 * and merge ranks follow creation order.
 */
function addExtraTokens(tokens: string[], merges: string[], size: number): void {
  let previous = EXTRA_FIRST;
  while (tokens.length < size) {
    const level: string[] = [];
    for (const prefix of previous) {
      for (const c of EXTRA_ALPHABET) {
        if (tokens.length >= size) return;
        tokens.push(prefix + c);
        merges.push(`${prefix} ${c}`);
        level.push(prefix + c);
      }
    }
    previous = level;
  }
}

/**
 * Builds the byte vocabulary with `size` tokens (default and minimum 259, or 262 with the
 * fill-in-the-middle tokens): bytes, the control tokens, then extra normal tokens.
 */
export function buildByteVocabulary(
  size: number = BASE_VOCAB_SIZE,
  options: ByteVocabularyOptions = {},
): Vocabulary {
  const fim = options.fillInTheMiddle ?? false;
  const controlEnd = fim ? FIM_VOCAB_SIZE : BASE_VOCAB_SIZE;
  if (!Number.isSafeInteger(size) || size < controlEnd) {
    throw new RangeError(`vocabulary size must be an integer >= ${controlEnd}, got ${size}`);
  }
  const controls = { ...CONTROL_TOKENS, ...(fim ? FIM_TOKENS : {}) };
  const tokens: string[] = [...BYTE_ALPHABET];
  for (let id = BYTE_TOKEN_COUNT; id < controlEnd; id++) tokens.push(controls[id] ?? '');
  const merges: string[] = [];
  addExtraTokens(tokens, merges, size);
  const tokenTypes = new Int32Array(size).fill(TOKEN_TYPE.normal);
  for (let id = BYTE_TOKEN_COUNT; id < controlEnd; id++) tokenTypes[id] = TOKEN_TYPE.control;
  return {
    tokens,
    tokenTypes,
    merges,
    bosTokenId: ENDOFTEXT_TOKEN_ID,
    eosTokenId: ENDOFTEXT_TOKEN_ID,
    eotTokenId: IM_END_TOKEN_ID,
    fillInTheMiddle: fim
      ? { prefix: FIM_PREFIX_TOKEN_ID, suffix: FIM_SUFFIX_TOKEN_ID, middle: FIM_MIDDLE_TOKEN_ID }
      : null,
  };
}
