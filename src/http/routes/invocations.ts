/**
 * `POST /invocations` (SageMaker; vLLM's sagemaker router): one URL for every request type the
 * loaded model serves. The body is tried against the request types in vLLM's order (chat
 * completion, completion, embeddings), only those of the endpoints this model serves; the first
 * that validates is handed to that endpoint's own route handler, so the answer is exactly the
 * endpoint's (streaming included). None validates: 400 `Cannot find suitable handler for
 * request. Expected one of: [...]`. Malformed JSON is refused by the app's JSON parser with
 * `JSON decode error: ...`, a body that is not JSON with vLLM's media-type 400.
 *
 * Owns: the list of invocation types, what "validates" means for each (its schema, plus the
 * rules vLLM's pydantic models check while validating: a completion needs a prompt), and
 * capturing the endpoints' handlers as Fastify registers them (`onRoute`), so nothing of a
 * route is written twice. Open without an API key, as in vLLM (only `/v1` paths need one).
 */
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { BadRequestError } from '../errors.ts';
import { assertJsonMediaType } from '../json-body.ts';
import { chatRequestSchema } from '../schemas/chat-request.ts';
import { completionRequestSchema } from '../schemas/completion-request.ts';
import { embeddingRequestSchema } from '../schemas/embedding-request.ts';

/** One request type /invocations can serve, and the endpoint that serves it. */
interface InvocationType {
  /** The type's name in the "Expected one of" list (vLLM's class names). */
  readonly name: string;
  /** The endpoint whose handler serves it. */
  readonly url: string;
  /** Whether a body validates as this type. */
  readonly accepts: (body: unknown) => boolean;
}

/** vLLM's CompletionRequest validator: a prompt (or prompt_embeds) must be given, non-empty. */
function hasPrompt(body: { prompt?: unknown; prompt_embeds?: unknown }): boolean {
  const { prompt, prompt_embeds: embeds } = body;
  const noPrompt = prompt === undefined || prompt === null || prompt === '';
  const noEmbeds =
    embeds === undefined || embeds === null || (Array.isArray(embeds) && embeds.length === 0);
  return !(noPrompt && noEmbeds);
}

/** vLLM's INVOCATION_TYPES order: earlier types win. */
const INVOCATION_TYPES: readonly InvocationType[] = [
  {
    name: 'ChatCompletionRequest',
    url: '/v1/chat/completions',
    accepts: (body) => chatRequestSchema.safeParse(body).success,
  },
  {
    name: 'CompletionRequest',
    url: '/v1/completions',
    accepts: (body) => {
      const parsed = completionRequestSchema.safeParse(body);
      return parsed.success && hasPrompt(parsed.data);
    },
  },
  {
    // vLLM prints its EmbeddingRequest union (module paths left out here).
    name: 'EmbeddingCompletionRequest | EmbeddingChatRequest',
    url: '/v1/embeddings',
    accepts: (body) => embeddingRequestSchema.safeParse(body).success,
  },
];

/** Which endpoints the loaded model serves (the others answer vLLM's refusal). */
export interface ServedTasks {
  /** A generation model: chat completions and completions. */
  readonly generate: boolean;
  /** An embedding model: embeddings. */
  readonly embed: boolean;
}

const TASK_URLS: Readonly<Record<string, keyof ServedTasks>> = {
  '/v1/chat/completions': 'generate',
  '/v1/completions': 'generate',
  '/v1/embeddings': 'embed',
};

/**
 * Starts recording the POST handlers of the invocation endpoints as they are registered; call
 * before registering them. The map fills as routes are added.
 */
export function captureInvocationHandlers(
  app: FastifyInstance,
): ReadonlyMap<string, RouteHandlerMethod> {
  const handlers = new Map<string, RouteHandlerMethod>();
  const urls = new Set(INVOCATION_TYPES.map((type) => type.url));
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('POST') && urls.has(route.url)) handlers.set(route.url, route.handler);
  });
  return handlers;
}

/**
 * Registers `POST /invocations` over the handlers `captureInvocationHandlers` recorded, for the
 * endpoints of the served tasks.
 */
export function registerInvocationsRoute(
  app: FastifyInstance,
  handlers: ReadonlyMap<string, RouteHandlerMethod>,
  tasks: ServedTasks,
): void {
  const served = INVOCATION_TYPES.filter((type) => tasks[TASK_URLS[type.url]!]).map((type) => {
    const handler = handlers.get(type.url);
    if (handler === undefined) throw new Error(`${type.url} is served but was not registered`);
    return { ...type, handler };
  });
  const expected = `[${served.map((type) => `'${type.name}'`).join(', ')}]`;
  app.post('/invocations', function (request, reply) {
    assertJsonMediaType(request.headers['content-type']);
    const type = served.find((candidate) => candidate.accepts(request.body));
    if (type === undefined) {
      throw new BadRequestError(
        `Cannot find suitable handler for request. Expected one of: ${expected}`,
      );
    }
    return type.handler.call(this, request, reply);
  });
}
