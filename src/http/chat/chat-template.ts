/**
 * Chat templates: a model's Jinja template compiled once and rendered per request with
 * @huggingface/jinja, following Hugging Face's `apply_chat_template`.
 *
 * Owns: the render context (messages, tools, documents, add_generation_prompt, the tokenizer's
 * bos/eos strings, then the request's template kwargs), `continue_final_message` (cut the
 * rendered text right after the last message's content, HF's rule), the content format the
 * template expects (vLLM's "auto": "openai" when it loops over `message.content`, else
 * "string"), template errors as 400s (vLLM answers Jinja errors with BadRequestError), and,
 * for a template given limits (a request's own), a rendering stopped past its time or output
 * length as a 400 too (see bounded-render.ts).
 */
import { renderWithCappedGlobals } from './capped-globals.ts';
import { Template } from '@huggingface/jinja';
import { BadRequestError } from '../errors.ts';
import { runWithTimeout, type RenderLimits } from './bounded-render.ts';

/** How list content reaches the template: joined text, or OpenAI-style part lists. */
export type ContentFormat = 'string' | 'openai';

/** Everything one rendering needs besides the template. */
export interface ChatTemplateInput {
  /** Messages as the template sees them (see `chat-messages.ts`). */
  readonly messages: readonly Readonly<Record<string, unknown>>[];
  readonly addGenerationPrompt: boolean;
  /** Leave the last message open (no end-of-turn) so generation continues it. */
  readonly continueFinalMessage: boolean;
  /** Tool definitions ({"type":"function","function":{...}}), or null. */
  readonly tools: readonly unknown[] | null;
  readonly documents: readonly unknown[] | null;
  /** Extra variables (chat_template_kwargs and the like); they override the special tokens. */
  readonly kwargs: Readonly<Record<string, unknown>>;
}

/** The special-token strings templates read. */
export interface SpecialTokenStrings {
  readonly bos_token: string;
  readonly eos_token: string;
}

const LOOPS_OVER_CONTENT = /\bfor\s+\w+\s+in\s+\w+\s*(?:\[\s*['"]content['"]\s*\]|\.content\b)/;

/** A compiled chat template. */
export class ChatTemplate {
  readonly contentFormat: ContentFormat;
  readonly #template: Template;
  readonly #specialTokens: SpecialTokenStrings;
  readonly #limits: RenderLimits | null;

  /**
   * Parses `source`; throws (at startup) when it is not a template the engine can run. With
   * `limits`, each rendering is bounded in time and output length (default: unbounded, for the
   * server's own template).
   */
  constructor(
    source: string,
    specialTokens: SpecialTokenStrings,
    limits: RenderLimits | null = null,
  ) {
    this.#template = new Template(source);
    this.#specialTokens = specialTokens;
    this.#limits = limits;
    this.contentFormat = LOOPS_OVER_CONTENT.test(source) ? 'openai' : 'string';
  }

  /** The prompt text for a conversation. Template errors become BadRequestError. */
  render(input: ChatTemplateInput): string {
    let rendered: string;
    const limits = this.#limits;
    const items = {
      ...this.#specialTokens,
      ...input.kwargs,
      messages: input.messages,
      tools: input.tools,
      documents: input.documents,
      add_generation_prompt: input.addGenerationPrompt,
    };
    // An untrusted template gets globals that cannot exhaust memory (capped-globals.ts).
    const render = (): string =>
      limits === null
        ? this.#template.render(items)
        : renderWithCappedGlobals(this.#template, items);
    try {
      rendered = limits === null ? render() : runWithTimeout(render, limits.timeoutMs);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new BadRequestError(message);
    }
    if (limits !== null && rendered.length > limits.maxLength) {
      throw new BadRequestError(
        `The chat template rendered ${rendered.length} characters, more than the limit of ${limits.maxLength}.`,
      );
    }
    return input.continueFinalMessage ? cutAfterFinalMessage(rendered, input.messages) : rendered;
  }
}

/** The text of the last message that continue_final_message extends. */
function finalMessageText(messages: ChatTemplateInput['messages']): string {
  const content = messages.at(-1)?.['content'];
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    for (const part of [...(content as unknown[])].reverse()) {
      if (typeof part === 'object' && part !== null && 'text' in part) {
        const text = part.text;
        if (typeof text === 'string') return text;
      }
    }
  }
  throw new BadRequestError(
    'continue_final_message is set but we could not find any text to continue in the final message!',
  );
}

/** HF's continue_final_message: drop everything the template put after the last message. */
function cutAfterFinalMessage(rendered: string, messages: ChatTemplateInput['messages']): string {
  const final = finalMessageText(messages);
  const at = rendered.lastIndexOf(final.trim());
  if (at < 0) {
    throw new BadRequestError(
      'continue_final_message is set but the final message does not appear in the chat after ' +
        'applying the chat template! This can happen if the chat template deletes portions of ' +
        'the final message. Please verify the chat template and final message in your chat to ' +
        'ensure they are compatible.',
    );
  }
  const kept = final.trimStart();
  return rendered.slice(at, at + kept.length) === final
    ? rendered.slice(0, at + kept.length)
    : rendered.slice(0, at + final.trim().length);
}
