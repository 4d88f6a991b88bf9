/**
 * The names the model is served under, and the ids and timestamps of responses.
 *
 * Owns: resolving a request's `model` (missing or empty: the primary name; any served name is
 * accepted; anything else is vLLM's 404) to the name responses carry (vLLM answers with the
 * first served name, whichever alias was asked for), the `/v1/models` cards, and response ids
 * (`<prefix>-<base>`, base = the X-Request-Id header, else the body's request_id, else 16
 * random hex digits) with unique engine request ids derived from them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { NotFoundError } from './errors.ts';
import type { ModelCard, ModelList, ResponseHeader } from './wire-types.ts';

/** The served names of the one loaded model. */
export class ServedModels {
  readonly names: readonly string[];
  readonly #root: string;
  readonly #maxModelLen: number;

  /**
   * @param names served names, the first one primary (at least one)
   * @param root what the model was loaded from (the cards' `root`)
   */
  constructor(names: readonly string[], root: string, maxModelLen: number) {
    if (names.length === 0) throw new RangeError('at least one served model name is required');
    this.names = [...names];
    this.#root = root;
    this.#maxModelLen = maxModelLen;
  }

  get primary(): string {
    return this.names[0]!;
  }

  /** The name to answer with; throws NotFoundError for a name that is not served. */
  resolve(requested: string | null | undefined): string {
    if (requested === null || requested === undefined || requested === '') return this.primary;
    if (!this.names.includes(requested)) {
      throw new NotFoundError(`The model \`${requested}\` does not exist.`, 'model');
    }
    return this.primary;
  }

  /** The `/v1/models` body: one card per served name. */
  list(created: number): ModelList {
    return { object: 'list', data: this.names.map((name) => this.#card(name, created)) };
  }

  /** `GET /v1/models/{model}`: the card of a served name; NotFoundError for any other. */
  card(name: string, created: number): ModelCard {
    if (!this.names.includes(name)) {
      throw new NotFoundError(`The model \`${name}\` does not exist.`, 'model');
    }
    return this.#card(name, created);
  }

  #card(name: string, created: number): ModelCard {
    return {
      id: name,
      object: 'model',
      created,
      owned_by: 'vllm',
      root: this.#root,
      parent: null,
      max_model_len: this.#maxModelLen,
      permission: [
        {
          id: `modelperm-${randomHex()}`,
          object: 'model_permission',
          created,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    };
  }
}

/** 16 random lowercase hex digits (vLLM's random_uuid). */
export function randomHex(): string {
  return randomBytes(8).toString('hex');
}

/** Unix seconds now. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The header every response and chunk of one request shares. */
export function responseHeader(
  prefix: 'cmpl' | 'chatcmpl',
  base: { readonly header: string | undefined; readonly requestId: string | undefined },
  model: string,
): ResponseHeader {
  const id =
    base.header !== undefined && base.header !== '' ? base.header : (base.requestId ?? randomHex());
  return { id: `${prefix}-${id}`, created: unixSeconds(), model };
}

/** The client's `X-Request-Id` header, or undefined when absent or repeated. */
export function requestIdHeader(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-request-id'];
  return typeof value === 'string' ? value : undefined;
}

/** A unique engine request id for prompt `index` of a response (clients may reuse X-Request-Id). */
export function engineRequestId(responseId: string, index: number): string {
  return `${responseId}-${index}-${randomBytes(4).toString('hex')}`;
}
