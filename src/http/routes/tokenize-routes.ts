/**
 * `POST /tokenize` and `POST /detokenize` (vLLM's tokenization endpoints; no API key needed).
 *
 * Owns: the two forms of /tokenize (a text prompt, `add_special_tokens` default true; chat
 * messages rendered through the chat template as chat completions render them,
 * `add_generation_prompt` default true, `add_special_tokens` default false), the answer
 * `{count, max_model_len, tokens, token_strs}` (token_strs: the vocabulary's token texts when
 * `return_token_strs`, else null), and /detokenize's `{prompt}` (special tokens kept), which
 * refuses ids outside the vocabulary.
 */
import type { FastifyInstance } from 'fastify';
import { assertJsonMediaType } from '../json-body.ts';
import { checkTemplateControls } from '../params/chat-checks.ts';
import { renderChatPrompt } from '../params/chat-params.ts';
import { checkTokenIds } from '../params/context-limit.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import {
  detokenizeSchema,
  isTokenizeChat,
  tokenizeChatSchema,
  tokenizeCompletionSchema,
} from '../schemas/tokenize-request.ts';
import type { ServingBasics } from '../serving-context.ts';

/** /tokenize's answer. */
interface TokenizeResponse {
  readonly count: number;
  readonly max_model_len: number;
  readonly tokens: number[];
  readonly token_strs: string[] | null;
}

/** The prompt tokens of a /tokenize body, and whether it asked for the token texts. */
function tokenizeBody(
  body: unknown,
  context: ServingBasics,
): { tokens: number[]; returnStrings: boolean } {
  const { plan, models } = context;
  if (isTokenizeChat(body)) {
    const request = parseRequest(tokenizeChatSchema, body);
    models.resolve(request.model);
    checkTemplateControls(request);
    const addGenerationPrompt = request.add_generation_prompt ?? true;
    return {
      tokens: renderChatPrompt(request, plan, addGenerationPrompt),
      returnStrings: request.return_token_strs === true,
    };
  }
  const request = parseRequest(tokenizeCompletionSchema, body);
  models.resolve(request.model);
  const tokens = plan.tokenizer.tokenize(request.prompt, {
    addSpecial: request.add_special_tokens ?? true,
    parseSpecial: true,
  });
  return { tokens, returnStrings: request.return_token_strs === true };
}

/** Registers /tokenize and /detokenize. */
export function registerTokenizeRoutes(app: FastifyInstance, context: ServingBasics): void {
  const { tokenizer, maxModelLen, vocabSize } = context.plan;
  app.post('/tokenize', (request): TokenizeResponse => {
    assertJsonMediaType(request.headers['content-type']);
    const { tokens, returnStrings } = tokenizeBody(request.body, context);
    return {
      count: tokens.length,
      max_model_len: maxModelLen,
      tokens,
      token_strs: returnStrings ? tokens.map((token) => tokenizer.tokenText(token)) : null,
    };
  });
  app.post('/detokenize', (request) => {
    assertJsonMediaType(request.headers['content-type']);
    const body = parseRequest(detokenizeSchema, request.body);
    context.models.resolve(body.model);
    checkTokenIds(body.tokens, vocabSize, 'tokens');
    return { prompt: tokenizer.detokenize(body.tokens, { skipSpecial: false }) };
  });
}
