/**
 * Chat-only request rules, with vLLM's messages: the logprobs/top_logprobs pairing, tools and tool_choice
 * (without a tool-call parser, as vLLM answers a server started without one), template controls
 * (`tokenize` is no template kwarg, `continue_final_message` excludes `add_generation_prompt`;
 * request templates are checked where the template is chosen, in chat-params.ts), and the
 * template kwargs a request contributes.
 */
import { NO_TOOL_SETTINGS, type ToolServerSettings } from '../tools/tool-choice.ts';
import { BadRequestError, requestModelError } from '../errors.ts';
import type { ChatRequest } from '../schemas/chat-request.ts';

function checkLogprobs(request: ChatRequest): void {
  const top = request.top_logprobs ?? null;
  if (top !== null && top < 0 && top !== -1) {
    throw requestModelError('`top_logprobs` must be a positive value or -1.', 'top_logprobs');
  }
  if (top !== null && (top > 0 || top === -1) && request.logprobs !== true) {
    throw requestModelError(
      'when using `top_logprobs`, `logprobs` must be set to true.',
      'top_logprobs',
    );
  }
}

/** A value as Python's str() prints it in vLLM's f-strings: strings bare, None for null. */
function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  return JSON.stringify(value);
}

const NAMED_USAGE = 'Correct usage: `{"type": "function", "function": {"name": "my_function"}}`';

function checkNamedToolChoice(
  choice: Readonly<Record<string, unknown>>,
  request: ChatRequest,
  settings: ToolServerSettings,
): void {
  const fn = choice['function'];
  if (typeof fn !== 'object' || fn === null || Array.isArray(fn)) {
    throw requestModelError(
      `Invalid value for \`function\`: \`${pythonStr(fn)}\` in \`tool_choice\`! ${NAMED_USAGE}`,
      'tool_choice',
    );
  }
  if (!('name' in fn)) {
    throw requestModelError(
      `Expected field \`name\` in \`function\` in \`tool_choice\`! ${NAMED_USAGE}`,
      'tool_choice',
    );
  }
  const name = fn.name;
  if (typeof name !== 'string' || name === '') {
    throw requestModelError(
      `Invalid \`name\` in \`function\`: \`${pythonStr(name)}\` in \`tool_choice\`! ${NAMED_USAGE}`,
      'tool_choice',
    );
  }
  if (!(request.tools ?? []).some((tool) => tool.function.name === name)) {
    throw requestModelError(
      'The tool specified in `tool_choice` does not match any of the specified `tools`',
      'tool_choice',
    );
  }
  if (settings.parser !== null) return;
  throw new BadRequestError(
    `tool_choice=${JSON.stringify(choice)} requires --tool-call-parser to be set`,
    'tool_choice',
  );
}

/**
 * vLLM's tool rules: "auto" (also implied by tools without tool_choice) needs
 * --enable-auto-tool-choice and --tool-call-parser; "required" and named choices need
 * --tool-call-parser.
 */
function checkTools(request: ChatRequest, settings: ToolServerSettings): void {
  const tools = request.tools ?? null;
  if (tools !== null && tools.length === 0) {
    throw requestModelError(
      '`tools` must not be an empty array. Either provide at least one tool or omit the field entirely.',
      'tools',
    );
  }
  const choice = request.tool_choice ?? (tools !== null ? 'auto' : 'none');
  if (choice === 'none') return;
  if (tools === null) {
    throw requestModelError('When using `tool_choice`, `tools` must be set.', 'tool_choice');
  }
  if (typeof choice !== 'string') {
    checkNamedToolChoice(choice, request, settings);
    return;
  }
  if (choice === 'auto') {
    if (settings.autoToolChoice && settings.parser !== null) return;
    throw new BadRequestError(
      '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
      'tool_choice',
    );
  }
  if (choice === 'required') {
    if (settings.parser !== null) return;
    throw new BadRequestError(
      'tool_choice="required" requires --tool-call-parser to be set',
      'tool_choice',
    );
  }
  throw requestModelError(
    `Invalid value for \`tool_choice\`: ${choice}! Only named tools, "none", "auto" or "required" are supported.`,
    'tool_choice',
  );
}

/** The fields that steer the chat template (chat requests and /tokenize's chat form). */
export type TemplateControls = Pick<
  ChatRequest,
  'chat_template' | 'chat_template_kwargs' | 'continue_final_message' | 'add_generation_prompt'
>;

/** `tokenize` is not a template kwarg; one of the two modes. */
export function checkTemplateControls(request: TemplateControls): void {
  const kwargs = request.chat_template_kwargs ?? {};
  if ('tokenize' in kwargs) {
    throw new BadRequestError(
      "Found unexpected chat template kwargs from request: ['tokenize']",
      'chat_template_kwargs',
    );
  }
  if (request.continue_final_message === true && request.add_generation_prompt !== false) {
    throw requestModelError(
      'Cannot set both `continue_final_message` and `add_generation_prompt` to True.',
    );
  }
}

/** Throws for any chat-only field that is invalid or asks for what is not implemented yet. */
export function rejectUnsupportedChat(
  request: ChatRequest,
  settings: ToolServerSettings = NO_TOOL_SETTINGS,
): void {
  checkLogprobs(request);
  checkTools(request, settings);
  checkTemplateControls(request);
}

/**
 * The request's extra template variables: chat_template_kwargs (less `chat_template`, which
 * chooses the template), plus `reasoning_effort` and, when the request set an effort but not
 * `enable_thinking`, `enable_thinking = effort != "none"`.
 */
export function templateKwargs(
  request: Pick<ChatRequest, 'chat_template_kwargs' | 'reasoning_effort'>,
): Record<string, unknown> {
  const kwargs: Record<string, unknown> = { ...(request.chat_template_kwargs ?? {}) };
  delete kwargs['chat_template'];
  const effort = request.reasoning_effort ?? null;
  if (effort !== null) {
    kwargs['reasoning_effort'] = effort;
    if (!('enable_thinking' in kwargs)) kwargs['enable_thinking'] = effort !== 'none';
  }
  return kwargs;
}
