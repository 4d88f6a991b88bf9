/**
 * Request messages to the dictionaries a chat template reads (vLLM's message parsing, text only).
 *
 * Owns: content normalization (a string, null or a list of parts; text-like parts `text`,
 * `input_text`, `output_text`, `refusal`, `thinking` and bare strings; joined with "\n" for
 * "string" templates, kept as `{"type":"text","text"}` lists for "openai" ones; tool messages
 * always flattened), the optional keys a template may test with `is defined` (present only when
 * set), assistant tool calls (arguments decoded from JSON), and reasoning under both names.
 * Media parts are refused: servellm serves text-only models.
 */
import { BadRequestError } from '../errors.ts';
import type { ChatRequestMessage } from '../schemas/chat-request.ts';
import type { ContentFormat } from './chat-template.ts';

/** One message as the template sees it. */
export type TemplateMessage = Readonly<Record<string, unknown>>;

/** Part types whose text is taken, and the key that holds it. */
const TEXT_KEYS: Readonly<Record<string, string>> = {
  text: 'text',
  input_text: 'text',
  output_text: 'text',
  refusal: 'refusal',
  thinking: 'thinking',
};

const MEDIA_TYPES = new Set([
  'image_url',
  'input_image',
  'image_embeds',
  'image_pil',
  'audio_url',
  'input_audio',
  'audio_embeds',
  'video_url',
  'prompt_embeds',
  'tool_reference',
]);

type Content = ChatRequestMessage['content'];

/** The texts of a message's content, in order (null parts skipped). */
function contentTexts(content: Content): string[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return [content];
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') {
      texts.push(part);
      continue;
    }
    const key = TEXT_KEYS[part.type];
    if (key === undefined) {
      if (MEDIA_TYPES.has(part.type)) {
        throw new BadRequestError(
          `Content parts of type '${part.type}' are not supported by this server: it serves text-only models.`,
          'messages',
        );
      }
      throw new BadRequestError(
        `Unsupported chat content part type: '${part.type}'. Supported types: ` +
          `${Object.keys(TEXT_KEYS).join(', ')}.`,
        'messages',
      );
    }
    const text = part[key];
    if (text === null || text === undefined) continue;
    if (typeof text !== 'string') {
      throw new BadRequestError(`Content part '${part.type}' needs a string '${key}'.`, 'messages');
    }
    texts.push(text);
  }
  return texts;
}

/** A message's text as chat `echo` repeats it: its text parts joined with "\n". */
export function messageText(message: ChatRequestMessage): string {
  return contentTexts(message.content).join('\n');
}

function templateContent(message: ChatRequestMessage, format: ContentFormat): unknown {
  const texts = contentTexts(message.content);
  if (format === 'string' || message.role === 'tool') return texts.join('\n');
  return texts.map((text) => ({ type: 'text', text }));
}

function decodeArguments(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError(
      `assistant tool_calls arguments must be a JSON string, got ${JSON.stringify(text)}.`,
      'messages',
    );
  }
}

function templateToolCalls(calls: NonNullable<ChatRequestMessage['tool_calls']>): unknown[] {
  return calls.map((call) => {
    if ((call.type ?? 'function') !== 'function') {
      throw new BadRequestError(
        "chat completions only support assistant tool_calls of type 'function'.",
        'messages',
      );
    }
    return {
      ...call,
      type: 'function',
      function: { ...call.function, arguments: decodeArguments(call.function.arguments) },
    };
  });
}

/** One request message as a template message. */
export function toTemplateMessage(
  message: ChatRequestMessage,
  format: ContentFormat,
): TemplateMessage {
  const result: Record<string, unknown> = {
    role: message.role,
    content: templateContent(message, format),
  };
  if (message.name !== null && message.name !== undefined) result['name'] = message.name;
  if (message.role === 'assistant' && message.tool_calls && message.tool_calls.length > 0) {
    result['tool_calls'] = templateToolCalls(message.tool_calls);
  }
  if (message.tool_call_id !== null && message.tool_call_id !== undefined) {
    result['tool_call_id'] = message.tool_call_id;
  }
  const reasoning = message.reasoning ?? message.reasoning_content ?? null;
  if (reasoning !== null) {
    result['reasoning'] = reasoning;
    result['reasoning_content'] = reasoning;
  }
  return result;
}

/** The conversation as template messages. */
export function toTemplateMessages(
  messages: readonly ChatRequestMessage[],
  format: ContentFormat,
): TemplateMessage[] {
  return messages.map((message) => toTemplateMessage(message, format));
}
