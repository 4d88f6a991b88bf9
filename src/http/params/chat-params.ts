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
 * prompt is added, else the last message's role).
 */
import { BadRequestError } from '../errors.ts';
import type { ChatTemplate } from '../chat/chat-template.ts';
import { toTemplateMessages } from '../chat/chat-messages.ts';
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
  readonly logprobs: LogprobsPlan | null;
  /** return_token_ids: answer the prompt's and the choices' token ids. */
  readonly returnTokenIds: boolean;
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
  | 'continue_final_message'
  | 'tools'
  | 'documents'
  | 'add_special_tokens'
  | 'chat_template_kwargs'
  | 'reasoning_effort'
>;

/**
 * The prompt tokens of a chat request: rendered through the server's template, tokenized with
 * special tokens parsed and `add_special_tokens` (default false). BadRequestError without a
 * usable template.
 */
export function renderChatPrompt(
  request: ChatRenderInput,
  context: Pick<ChatPlanContext, 'chatTemplate' | 'tokenizer'>,
  addGenerationPrompt: boolean,
): number[] {
  const template = requireTemplate(context.chatTemplate);
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
  rejectUnsupportedChat(request);
  const sample =
    request.logprobs === true
      ? resolveLogprobsCount(request.top_logprobs ?? 0, 'sample', 'top_logprobs', context)
      : null;
  const prompt = resolvePromptLogprobs(request, stream.stream, context);
  const addGenerationPrompt = request.add_generation_prompt ?? true;
  const maxCompletionTokens = request.max_completion_tokens ?? null;
  const requested = maxCompletionTokens ?? request.max_tokens ?? null;
  const maxTokensParam = maxCompletionTokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const promptTokens = truncatePrompt(
    renderChatPrompt(request, context, addGenerationPrompt),
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
  const role = addGenerationPrompt
    ? context.responseRole
    : (request.messages.at(-1)?.role ?? context.responseRole);
  const params = resolveSamplingParams(request, maxTokens, context.vocabSize, {
    defaults: context.generationDefaults,
    logprobs: { sample, prompt },
    badWords: resolveBadWords(request.bad_words, context.tokenizer),
  });
  const n = resolveN(request.n, context.maxN);
  const beamSearch = resolveBeamSearch(request, n, stream.stream);
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
    logprobs: logprobsPlan(sample, request, context),
    returnTokenIds: request.return_token_ids === true,
  };
}
