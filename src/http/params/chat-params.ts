/**
 * `/v1/chat/completions`: a validated request to the one engine request it becomes (vLLM's
 * ChatCompletionRequest.to_sampling_params plus prompt rendering), every default resolved.
 *
 * Owns: rendering through the chat template (add_generation_prompt default true), tokenizing
 * the rendered text with special-token parsing and `add_special_tokens` default false (the
 * template adds the specials), the output budget (`max_completion_tokens` over `max_tokens`;
 * none: the generation-config default, else the rest of the context), logprobs (`logprobs` with
 * `top_logprobs`, default 0) and
 * prompt_logprobs, and the response role (`--response-role` when a generation
 * prompt is added, else the last message's role), the template a request brings (only with
 * --trust-request-chat-template, see chat/request-templates.ts), and `echo` (the last message's
 * text, prepended to every choice when it has the answer's role; non-streaming, it also makes
 * `prompt_logprobs` default to `top_logprobs`, as vLLM).
 */
import { BadRequestError } from '../errors.ts';
import type { ChatTemplate } from '../chat/chat-template.ts';
import { messageText, toTemplateMessages } from '../chat/chat-messages.ts';
import {
  bringsTemplate,
  requestTemplateSource,
  UNTRUSTED_CHAT_TEMPLATE_MESSAGE,
  type RequestTemplates,
} from '../chat/request-templates.ts';
import type { ChatRequest } from '../schemas/chat-request.ts';
import { rejectUnsupportedChat, templateKwargs } from './chat-checks.ts';
import type { PlanContext, PlannedRequest } from './completion-params.ts';
import { checkPromptTokens, resolveMaxTokens } from './context-limit.ts';
import {
  logprobsPlan,
  resolveLogprobsCount,
  resolvePromptLogprobs,
  type LogprobsPlan,
} from './logprobs-params.ts';
import { rejectUnsupportedCommon, resolveStreamMode, type StreamMode } from './request-checks.ts';
import { resolveBadWords } from './bad-words.ts';
import { resolveBeamSearch, resolveN, samplesOf, type BeamSearchPlan } from './n-samples.ts';
import { truncatePrompt } from './prompt-truncation.ts';
import { compileForPlan, structuredOutputFor } from './structured-outputs.ts';
import {
  NO_TOOL_SETTINGS,
  resolveToolMode,
  templateTools,
  toolChoiceSchema,
  type ToolMode,
  type ToolServerSettings,
} from '../tools/tool-choice.ts';
import type { CompiledGrammar } from '../../grammar/automaton/byte-nfa.ts';
import { resolveSamplingParams } from './sampling-params.ts';

/** The server's chat template: compiled, absent, or present but unparseable. */
export type ChatTemplateState =
  | { readonly kind: 'ready'; readonly template: ChatTemplate }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly message: string };

/** What a chat request is checked against and rendered with. */
export interface ChatPlanContext extends PlanContext {
  readonly chatTemplate: ChatTemplateState;
  /** `--response-role`. */
  readonly responseRole: string;
  /**
   * `--trust-request-chat-template`: compiles the templates requests bring. Absent or null (vLLM's
   * default): a request that brings one is refused.
   */
  readonly requestTemplates?: RequestTemplates | null;
  /** The server's tool-calling flags. Default: none (no parser). */
  readonly tools?: ToolServerSettings;
}

/** The engine requests of one chat call (one per choice) and how to deliver them. */
export interface ChatPlan {
  /** `n` samples of the one prompt (choice index = position), or the one beam search. */
  readonly requests: readonly PlannedRequest[];
  /** use_beam_search: `requests` holds the one request, answering n beams. */
  readonly beamSearch: BeamSearchPlan | null;
  /** Choices in the answer (`n`). */
  readonly choiceCount: number;
  readonly stream: StreamMode;
  /** The role of the answer message. */
  readonly role: string;
  /** `echo`: the text every choice's content starts with (the last message's), or null. */
  readonly echo: string | null;
  readonly logprobs: LogprobsPlan | null;
  /** return_token_ids: answer the prompt's and the choices' token ids. */
  readonly returnTokenIds: boolean;
  /** How outputs become tool calls, and `parallel_tool_calls`. */
  readonly tools: { readonly mode: ToolMode; readonly parallelToolCalls: boolean };
}

/** vLLM's answer to a chat request when neither the server nor the model has a template. */
export const NO_CHAT_TEMPLATE_MESSAGE =
  'As of transformers v4.44, default chat template is no longer allowed, so you must provide ' +
  'a chat template if the tokenizer does not define one.';

function requireTemplate(state: ChatTemplateState): ChatTemplate {
  switch (state.kind) {
    case 'ready':
      return state.template;
    case 'missing':
      throw new BadRequestError(NO_CHAT_TEMPLATE_MESSAGE);
    case 'invalid':
      throw new BadRequestError(state.message);
  }
}

/** What rendering a chat prompt reads of a request (chat completions, /tokenize's chat form). */
export type ChatRenderInput = Pick<
  ChatRequest,
  | 'messages'
  | 'chat_template'
  | 'continue_final_message'
  | 'tools'
  | 'documents'
  | 'add_special_tokens'
  | 'chat_template_kwargs'
  | 'reasoning_effort'
>;

/** The request's own template (trusted servers only), else the server's. */
function chooseTemplate(
  request: ChatRenderInput,
  context: Pick<ChatPlanContext, 'chatTemplate' | 'requestTemplates'>,
): ChatTemplate {
  const requestTemplates = context.requestTemplates ?? null;
  if (requestTemplates === null) {
    if (bringsTemplate(request)) {
      throw new BadRequestError(UNTRUSTED_CHAT_TEMPLATE_MESSAGE, 'chat_template');
    }
    return requireTemplate(context.chatTemplate);
  }
  const source = requestTemplateSource(request);
  return source === null ? requireTemplate(context.chatTemplate) : requestTemplates.compile(source);
}

/**
 * The prompt tokens of a chat request: rendered through the request's template (trusted servers
 * only) or the server's, tokenized with special tokens parsed and `add_special_tokens` (default
 * false). BadRequestError without a usable template, or for a template the server does not trust.
 */
export function renderChatPrompt(
  request: ChatRenderInput,
  context: Pick<ChatPlanContext, 'chatTemplate' | 'tokenizer' | 'requestTemplates'>,
  addGenerationPrompt: boolean,
): number[] {
  const template = chooseTemplate(request, context);
  const prompt = template.render({
    messages: toTemplateMessages(request.messages, template.contentFormat),
    addGenerationPrompt,
    continueFinalMessage: request.continue_final_message ?? false,
    tools: request.tools ?? null,
    documents: request.documents ?? null,
    kwargs: templateKwargs(request),
  });
  return context.tokenizer.tokenize(prompt, {
    addSpecial: request.add_special_tokens ?? false,
    parseSpecial: true,
  });
}

/** The engine request of a chat request; throws BadRequestError for any bad input. */
export function toChatPlan(request: ChatRequest, context: ChatPlanContext): ChatPlan {
  const stream = resolveStreamMode(request, context.forceIncludeUsage);
  rejectUnsupportedCommon(request);
  const toolSettings = context.tools ?? NO_TOOL_SETTINGS;
  rejectUnsupportedChat(request, toolSettings);
  const toolMode = resolveToolMode(request, toolSettings);
  const sample =
    request.logprobs === true
      ? resolveLogprobsCount(request.top_logprobs ?? 0, 'sample', 'top_logprobs', context)
      : null;
  // vLLM: echo makes prompt_logprobs default to top_logprobs (0 unless set); streamed chat
  // answers carry no prompt_logprobs, so a stream skips them.
  const echoPromptLogprobs =
    request.echo === true && !stream.stream && request.top_logprobs !== null
      ? (request.top_logprobs ?? 0)
      : null;
  const prompt = resolvePromptLogprobs(
    { ...request, prompt_logprobs: request.prompt_logprobs ?? echoPromptLogprobs },
    stream.stream,
    context,
  );
  const addGenerationPrompt = request.add_generation_prompt ?? true;
  const maxCompletionTokens = request.max_completion_tokens ?? null;
  const requested = maxCompletionTokens ?? request.max_tokens ?? null;
  const maxTokensParam = maxCompletionTokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const promptTokens = truncatePrompt(
    renderChatPrompt(
      { ...request, tools: templateTools(request, toolSettings) },
      context,
      addGenerationPrompt,
    ),
    request,
    {
      maxModelLen: context.maxModelLen,
      maxTokens: requested,
      maxTokensParam,
    },
  );
  checkPromptTokens(promptTokens, context.vocabSize);
  const maxTokens = resolveMaxTokens({
    requested,
    param: maxTokensParam,
    promptTokens: promptTokens.length,
    maxModelLen: context.maxModelLen,
    defaults: context.generationDefaults,
  });
  const last = request.messages.at(-1);
  const role = addGenerationPrompt ? context.responseRole : (last?.role ?? context.responseRole);
  const echoed = request.echo === true && last?.role === role ? messageText(last) : '';
  const n = resolveN(request.n, context.maxN);
  const beamSearch = resolveBeamSearch(request, n, stream.stream);
  const resolved = resolveSamplingParams(request, maxTokens, context.vocabSize, {
    defaults: context.generationDefaults,
    logprobs: { sample, prompt },
    badWords: resolveBadWords(request.bad_words, context.tokenizer),
    structuredOutput: chatStructuredOutput(request, toolMode, beamSearch !== null),
  });
  // A parser whose markers are special tokens must see them in the text.
  const keepSpecial = toolMode.kind === 'auto' && toolMode.parser.needsSpecialTokens;
  const params = keepSpecial ? { ...resolved, skipSpecialTokens: false } : resolved;
  return {
    // A beam search is one engine request answering n beams.
    requests:
      beamSearch === null
        ? samplesOf(promptTokens, params, n, 0)
        : [{ promptTokens, params, sharesPromptWith: null }],
    beamSearch,
    choiceCount: n,
    stream,
    role,
    echo: echoed === '' ? null : echoed,
    logprobs: logprobsPlan(sample, request, context),
    returnTokenIds: request.return_token_ids === true,
    tools: { mode: toolMode, parallelToolCalls: request.parallel_tool_calls ?? true },
  };
}

/**
 * The grammar a chat request decodes under: a named or required tool choice's schema (it
 * replaces any structured output the request asked for, as in vLLM), else the request's own.
 */
function chatStructuredOutput(
  request: ChatRequest,
  mode: ToolMode,
  beamSearch: boolean,
): CompiledGrammar | null {
  const schema = toolChoiceSchema(request, mode);
  if (schema === null) return structuredOutputFor(request, beamSearch);
  return compileForPlan(
    { spec: { kind: 'json', schema }, options: {}, param: 'tool_choice' },
    beamSearch,
  );
}
