/**
 * Shared pieces of the engine's tests (not a test file itself): scripted models with closed-form
 * outputs, a backend wrapper that enforces the real backend's threading rules and injects
 * failures, resolved sampling parameters and stream collection.
 *
 * Owns: nothing the engine uses at run time.
 */
import {
  FakeBackend,
  type FakeBackendOptions,
  type ScriptedLogits,
} from '../backend/fake-backend.ts';
import type {
  DecodeRequest,
  DecodeResult,
  KvSequenceOperations,
  ModelBackend,
} from '../backend/model-backend.ts';
import type { RequestOutput, SamplingParams } from './engine-types.ts';

/** The fake vocabulary: bytes 0..255, then <|endoftext|> (256, EOS), <|im_start|> (257), <|im_end|> (258, EOT). */
export const VOCAB = 259;
export const EOS = 256;
export const IM_START = 257;
/** The token a successor model emits after a special token. */
export const AFTER_SPECIAL = 0x58; // 'X'

/** Greedy, no stops, 16 tokens: vLLM's defaults as the HTTP layer resolves them. */
export function params(overrides: Partial<SamplingParams> = {}): SamplingParams {
  return {
    temperature: 0,
    topP: 1,
    topK: 0,
    minP: 0,
    seed: null,
    maxTokens: 16,
    stop: [],
    stopTokenIds: [],
    includeStopStrInOutput: false,
    ignoreEos: false,
    skipSpecialTokens: true,
    logitBias: null,
    logprobs: null,
    promptLogprobs: null,
    presencePenalty: 0,
    frequencyPenalty: 0,
    repetitionPenalty: 1,
    minTokens: 0,
    allowedTokenIds: null,
    badWords: [],
    structuredOutput: null,
    ...overrides,
  };
}

/** The token the successor model puts its logit margin on after `last`. */
export function successorOf(last: number, eosAfter: number | null = null): number {
  if (last === eosAfter) return EOS;
  return last >= 256 ? AFTER_SPECIAL : (last + 1) % 256;
}

/** Logit 5 on successorOf(last token), 0 elsewhere: greedy decoding follows the successor chain. */
export function successorLogits(eosAfter: number | null = null): ScriptedLogits {
  return (tokens) => {
    const logits = new Float32Array(VOCAB);
    logits[successorOf(tokens[tokens.length - 1]!, eosAfter)] = 5;
    return logits;
  };
}

/** The successor chain of `count` tokens after `last` (the expected greedy output). */
export function successorChain(
  last: number,
  count: number,
  eosAfter: number | null = null,
): number[] {
  const tokens: number[] = [];
  for (let i = 0; i < count; i++) tokens.push((last = successorOf(last, eosAfter)));
  return tokens;
}

/** A model that emits `script` after any prompt of `promptLength` tokens (greedy). */
export function scriptedLogits(promptLength: number, script: readonly number[]): ScriptedLogits {
  return (tokens) => {
    const logits = new Float32Array(VOCAB);
    logits[script[tokens.length - promptLength] ?? EOS] = 5;
    return logits;
  };
}

/** Token ids of an ASCII/UTF-8 string in the byte vocabulary. */
export function bytesOf(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

/** Where a decode failure is injected: before the backend runs, or after it wrote the KV cells. */
export type FailureMode = 'before' | 'after';

/**
 * A ModelBackend around FakeBackend that behaves like the llama backend's threading rules: KV
 * operations and a second decode while one is in flight are recorded as violations (and throw).
 */
export class StrictBackend implements ModelBackend {
  readonly fake: FakeBackend;
  readonly violations: string[] = [];
  readonly kv: KvSequenceOperations;
  /** decode number (1-based) -> injected failure. */
  readonly failures = new Map<number, FailureMode>();
  /** Runs while each decode is in flight (after it started), with its 1-based number. */
  onDecode: ((decodeNumber: number, request: DecodeRequest) => void) | null = null;
  /** Rewrites each decode's result (a backend that returns a bad row for one sequence). */
  onResult:
    ((decodeNumber: number, request: DecodeRequest, result: DecodeResult) => DecodeResult) | null =
    null;
  #inFlight = false;
  #calls = 0;

  constructor(options: FakeBackendOptions) {
    this.fake = new FakeBackend(options);
    const guard = <A extends unknown[], R>(name: string, fn: (...args: A) => R) => {
      return (...args: A): R => {
        if (this.#inFlight) this.#violation(`kv.${name} while a decode is in flight`);
        return fn(...args);
      };
    };
    const kv = this.fake.kv;
    this.kv = {
      remove: guard('remove', kv.remove.bind(kv)),
      copy: guard('copy', kv.copy.bind(kv)),
      keepOnly: guard('keepOnly', kv.keepOnly.bind(kv)),
      shift: guard('shift', kv.shift.bind(kv)),
      positions: guard('positions', kv.positions.bind(kv)),
      clear: guard('clear', kv.clear.bind(kv)),
    };
  }

  get info() {
    return this.fake.info;
  }

  get tokenizer() {
    return this.fake.tokenizer;
  }

  get kvLayout() {
    return this.fake.kvLayout;
  }

  /** Every decode the fake backend executed (failed-before ones are not in it). */
  get decodeLog(): readonly DecodeRequest[] {
    return this.fake.decodeLog;
  }

  async decode(request: DecodeRequest): Promise<DecodeResult> {
    if (this.#inFlight) this.#violation('a second decode while one is in flight');
    const number = ++this.#calls;
    this.#inFlight = true;
    try {
      this.onDecode?.(number, request);
      const failure = this.failures.get(number);
      if (failure === 'before') {
        await new Promise<void>((resolve) => setImmediate(resolve));
        throw new Error(`injected failure of decode ${number}`);
      }
      const result = await this.fake.decode(request);
      if (failure === 'after') throw new Error(`injected failure of decode ${number}`);
      return this.onResult?.(number, request, result) ?? result;
    } finally {
      this.#inFlight = false;
    }
  }

  idle(): void {
    if (this.#inFlight) this.#violation('idle() while a decode is in flight');
    this.fake.idle();
  }

  dispose(): Promise<void> {
    return this.fake.dispose();
  }

  #violation(message: string): never {
    this.violations.push(message);
    throw new Error(message);
  }
}

/** Everything a stream produced, assembled. */
export interface Collected {
  readonly outputs: RequestOutput[];
  readonly text: string;
  readonly tokenIds: number[];
  readonly final: RequestOutput;
}

/** Consume a stream to its end. */
export async function collect(stream: AsyncIterable<RequestOutput>): Promise<Collected> {
  const outputs: RequestOutput[] = [];
  for await (const output of stream) outputs.push(output);
  const final = outputs[outputs.length - 1];
  if (final === undefined) throw new Error('the stream ended without an output');
  return {
    outputs,
    text: outputs.map((o) => o.text).join(''),
    tokenIds: outputs.flatMap((o) => o.tokenIds),
    final,
  };
}

/** The string of a list of byte tokens. */
export function textOf(tokens: readonly number[]): string {
  return new TextDecoder().decode(Uint8Array.from(tokens));
}
