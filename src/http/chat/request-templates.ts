/**
 * Chat templates that requests bring (`chat_template`, or `chat_template_kwargs.chat_template`).
 * A template is code the server runs, so, as in vLLM, they are refused unless the server runs
 * with `--trust-request-chat-template`.
 *
 * Owns: which template a request asks for (vLLM's precedence: `chat_template_kwargs.chat_template`
 * over `chat_template`; an empty `chat_template` means the server's), the refusal with vLLM's
 * message, and compiling trusted ones (the most recent few kept compiled; one that does not parse
 * is a 400), each rendered within `REQUEST_TEMPLATE_LIMITS` (time and output length; see
 * bounded-render.ts). A template cannot reach files, the process or modules: @huggingface/jinja
 * has no include/import/extends and no access to JavaScript objects' prototypes
 * (request-template-sandbox.test.ts).
 */
import { BadRequestError } from '../errors.ts';
import { REQUEST_TEMPLATE_LIMITS, type RenderLimits } from './bounded-render.ts';
import { ChatTemplate, type SpecialTokenStrings } from './chat-template.ts';

/** vLLM's answer to a request template on a server without --trust-request-chat-template. */
export const UNTRUSTED_CHAT_TEMPLATE_MESSAGE =
  'Chat template is passed with request, but --trust-request-chat-template is not set. ' +
  'Refused request with untrusted chat template.';

/** The fields that carry a request's template. */
export interface RequestTemplateFields {
  readonly chat_template?: string | null | undefined;
  readonly chat_template_kwargs?: Readonly<Record<string, unknown>> | null | undefined;
}

/** Whether the request brings a template at all (vLLM refuses even an empty one untrusted). */
export function bringsTemplate(request: RequestTemplateFields): boolean {
  const fromKwargs = request.chat_template_kwargs?.['chat_template'];
  return (
    (request.chat_template !== null && request.chat_template !== undefined) ||
    (fromKwargs !== null && fromKwargs !== undefined)
  );
}

/** The template source the request asks for, or null for the server's. */
export function requestTemplateSource(request: RequestTemplateFields): string | null {
  const fromKwargs = request.chat_template_kwargs?.['chat_template'];
  if (fromKwargs !== null && fromKwargs !== undefined) {
    if (typeof fromKwargs !== 'string') {
      throw new BadRequestError(
        '`chat_template_kwargs.chat_template` must be a string.',
        'chat_template_kwargs',
      );
    }
    return fromKwargs;
  }
  const fromRequest = request.chat_template ?? '';
  return fromRequest === '' ? null : fromRequest;
}

/** Most compiled request templates kept (clients usually send the same few). */
const DEFAULT_CAPACITY = 16;

/** Compiles trusted request templates, keeping the most recently used few. */
export class RequestTemplates {
  readonly #specialTokens: SpecialTokenStrings;
  readonly #capacity: number;
  readonly #compiled = new Map<string, ChatTemplate>();
  readonly #limits: RenderLimits;

  constructor(
    specialTokens: SpecialTokenStrings,
    capacity: number = DEFAULT_CAPACITY,
    limits: RenderLimits = REQUEST_TEMPLATE_LIMITS,
  ) {
    this.#specialTokens = specialTokens;
    this.#capacity = capacity;
    this.#limits = limits;
  }

  /** The compiled template; BadRequestError when it does not parse. */
  compile(source: string): ChatTemplate {
    const cached = this.#compiled.get(source);
    if (cached !== undefined) {
      // Map order is insertion order: re-inserting marks it the most recent.
      this.#compiled.delete(source);
      this.#compiled.set(source, cached);
      return cached;
    }
    let template: ChatTemplate;
    try {
      template = new ChatTemplate(source, this.#specialTokens, this.#limits);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BadRequestError(
        `The chat template could not be parsed: ${reason}`,
        'chat_template',
      );
    }
    this.#compiled.set(source, template);
    if (this.#compiled.size > this.#capacity) {
      const oldest = this.#compiled.keys().next();
      if (oldest.done !== true) this.#compiled.delete(oldest.value);
    }
    return template;
  }

  /** How many compiled templates are kept now. */
  get size(): number {
    return this.#compiled.size;
  }
}
