/**
 * The HTTP application: vLLM's OpenAI-compatible surface on Fastify.
 *
 * Owns: building the app from its options (served names, chat template compiled once, API key,
 * limits), the body parsers, the one error handler that renders every failure (via
 * `errors.ts`), the 404 for unknown routes, and registering the routes. It does not listen:
 * the caller (the CLI, a test) does.
 */
import { NO_TOOL_SETTINGS, type ToolServerSettings } from './tools/tool-choice.ts';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import type { ModelInfo, Tokenizer } from '../backend/model-backend.ts';
import type { EmbeddingRunner } from '../engine/embedding-runner.ts';
import type { EngineClient } from '../engine/engine-types.ts';
import { apiKeyHook } from './auth.ts';
import { ChatTemplate, type SpecialTokenStrings } from './chat/chat-template.ts';
import { registerDrainGate, type DrainGate } from './draining.ts';
import { RequestTemplates } from './chat/request-templates.ts';
import {
  DEFAULT_CONNECTION_TIMEOUTS,
  nodeTimeoutOptions,
  type ConnectionTimeouts,
} from './connection-timeouts.ts';
import { errorResponse } from './errors.ts';
import { fromBodyParser, installBodyParsers } from './json-body.ts';
import { TokenTexts } from './logprobs/token-texts.ts';
import type { ChatTemplateState } from './params/chat-params.ts';
import { NO_GENERATION_DEFAULTS, type GenerationDefaults } from './params/generation-defaults.ts';
import { DEFAULT_MAX_LOGPROBS } from './params/logprobs-params.ts';
import { DEFAULT_MAX_N_SEQUENCES } from './params/n-samples.ts';
import { registerChatCompletionsRoute } from './routes/chat-completions.ts';
import { registerCompletionsRoute } from './routes/completions.ts';
import { registerInfoRoutes } from './routes/info-routes.ts';
import { registerDocsRoutes } from './routes/docs-routes.ts';
import { registerEmbeddingsRoute, registerUnsupportedRoutes } from './routes/embeddings.ts';
import { registerMetricsRoute } from './routes/metrics-route.ts';
import { captureInvocationHandlers, registerInvocationsRoute } from './routes/invocations.ts';
import { registerTokenizeRoutes } from './routes/tokenize-routes.ts';
import { DEFAULT_MAX_STREAM_BUFFER } from './stream/sse.ts';
import type { VllmMetrics } from './metrics/vllm-metrics.ts';
import { HttpMetrics, registerHttpMetrics } from './metrics/http-metrics.ts';
import { ServedModels } from './served-models.ts';
import {
  DEFAULT_CORS,
  registerCors,
  registerRequestIdHeaders,
  registerServerLoad,
  rootPathRewrite,
  type CorsSettings,
} from './server-options.ts';
import type { ServingBasics, ServingContext } from './serving-context.ts';

/** Everything `createApp` needs; the CLI resolves them (see each field for defaults). */
export interface AppOptions {
  /** The generation engine, or null for an embedding model (its generation routes refuse). */
  readonly engine: EngineClient | null;
  /** An embedding model's runner: serves /v1/embeddings (a generation model refuses it). */
  readonly embeddingRunner?: EmbeddingRunner;
  readonly tokenizer: Tokenizer;
  readonly model: ModelInfo;
  /** Names the model answers to; the first is primary and is what responses carry. At least one. */
  readonly servedModelNames: readonly string[];
  /** The resolved chat template (--chat-template, else the model's), or null: chat answers 400. */
  readonly chatTemplate: string | null;
  /**
   * vLLM's --trust-request-chat-template: render chat requests with the template they bring
   * (`chat_template`, `chat_template_kwargs.chat_template`). Default false: such requests get 400.
   */
  readonly trustRequestChatTemplate?: boolean;
  /** Role of chat answers when a generation prompt is added (vLLM's --response-role). Default "assistant". */
  readonly responseRole?: string;
  /** When set, every /v1 route requires `Authorization: Bearer <apiKey>`. Default: none. */
  readonly apiKey?: string | null;
  /** Several accepted keys (vLLM's `--api-key a b`), in addition to `apiKey`. Default: none. */
  readonly apiKeys?: readonly string[];
  /** Longest prompt + output of one request (vLLM's max_model_len). */
  readonly maxModelLen: number;
  /** Fastify's logger option (pino options, or a boolean). Default: off. */
  readonly logger?: FastifyServerOptions['logger'];
  /** servellm's version, for /version and system_fingerprint. */
  readonly version: string;
  /** What the model was loaded from (the model cards' `root`). Default: the primary served name. */
  readonly modelRoot?: string;
  /** Largest request body in bytes (`--max-request-body`); larger answers 413. Default 32 MiB. */
  readonly bodyLimit?: number;
  /** Most logprobs a request may ask for (vLLM's --max-logprobs; -1 = vocabulary). Default 20. */
  readonly maxLogprobs?: number;
  /** Name logprobs tokens `token_id:<id>` unless a request says otherwise. Default false. */
  readonly returnTokensAsTokenIds?: boolean;
  /** Tool calling: --enable-auto-tool-choice, --tool-call-parser and friends. Default: none. */
  readonly tools?: ToolServerSettings;
  /** The largest `n` (vLLM's VLLM_MAX_N_SEQUENCES). Default 16384. */
  readonly maxNSequences?: number;
  /**
   * vLLM's --enable-prompt-tokens-details: usage.prompt_tokens_details is
   * `{cached_tokens}` when some prompt tokens were found in the prefix cache. Default false
   * (always null).
   */
  readonly enablePromptTokensDetails?: boolean;
  /** The metrics `GET /metrics` exposes (the engine reports to them). Default: no route. */
  readonly metrics?: VllmMetrics;
  /** vLLM's CORS flags. Default: any origin, method and header, no credentials. */
  readonly cors?: CorsSettings;
  /** `--root-path`: requests under this prefix are served as without it. Default: none. */
  readonly rootPath?: string | null;
  /** `--enable-request-id-headers`: every response carries X-Request-Id. Default false. */
  readonly requestIdHeaders?: boolean;
  /** Serve /openapi.json, /docs and /redoc (not with `--disable-fastapi-docs`). Default true. */
  readonly docs?: boolean;
  /** `--enable-server-load-tracking`: /load counts generation requests in flight. Default false. */
  readonly serverLoadTracking?: boolean;
  /** `--max-log-len`: prompt ids in each request's log line (null, the default: all). */
  readonly maxLogLen?: number | null;
  /** `--enable-force-include-usage`: every stream carries usage on every chunk. Default false. */
  readonly forceIncludeUsage?: boolean;
  /** TLS (`--ssl-keyfile`, `--ssl-certfile`, `--ssl-ca-certs`, `--ssl-cert-reqs`): serve HTTPS. */
  readonly tls?: TlsSettings;
  /**
   * Sampling defaults for fields a request leaves out (`--generation-config`,
   * `--override-generation-config`, resolved by the CLI). Default: none (vLLM's own defaults).
   */
  readonly generationDefaults?: GenerationDefaults;
  /**
   * Header, whole-request and keep-alive timeouts (`--timeout-request-headers`,
   * `--timeout-request-body`, `--timeout-keep-alive`). Default DEFAULT_CONNECTION_TIMEOUTS.
   */
  readonly connectionTimeouts?: ConnectionTimeouts;
  /**
   * `--max-stream-buffer`: most unsent bytes a stream's connection may hold before its request
   * is aborted and the connection closed (see stream/sse.ts). Default 4 MiB.
   */
  readonly maxStreamBuffer?: number;
  /**
   * Graceful shutdown: every request counts in flight on it, and once it drains new ones answer
   * 503 (see draining.ts). Default: none (closing the app aborts what is in flight).
   */
  readonly drain?: DrainGate;
}

/** PEM contents and the client-certificate requirement (vLLM's ssl.CERT_NONE/OPTIONAL/REQUIRED). */
export interface TlsSettings {
  readonly key: string;
  readonly cert: string;
  readonly ca?: string;
  /** 0: no client certificate asked; 1: asked, optional; 2: required. */
  readonly certReqs: 0 | 1 | 2;
}

/** Default largest request body. */
export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

function tokenText(tokenizer: Tokenizer, token: number | null): string {
  return token === null ? '' : new TextDecoder().decode(tokenizer.tokenBytes(token));
}

/** The bos/eos strings every chat template reads. */
function specialTokenStrings(options: AppOptions): SpecialTokenStrings {
  return {
    bos_token: tokenText(options.tokenizer, options.model.bosToken),
    eos_token: tokenText(options.tokenizer, options.model.eosToken),
  };
}

/** Compiles the chat template once; a template that does not parse answers chat requests with 400. */
function compileChatTemplate(options: AppOptions): ChatTemplateState {
  if (options.chatTemplate === null) return { kind: 'missing' };
  const specialTokens = specialTokenStrings(options);
  try {
    return { kind: 'ready', template: new ChatTemplate(options.chatTemplate, specialTokens) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'invalid', message: `The chat template could not be parsed: ${reason}` };
  }
}

/** Builds the app (routes registered, not listening). */
export function createApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const timeouts = nodeTimeoutOptions(options.connectionTimeouts ?? DEFAULT_CONNECTION_TIMEOUTS);
  const common = {
    logger: options.logger ?? false,
    bodyLimit,
    // Against slowloris clients (connection-timeouts.ts): Node's server options, and the two
    // that Fastify sets on the server afterwards from its own options (else 72 s and none).
    http: timeouts,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    requestTimeout: timeouts.requestTimeout,
    // A URL Fastify cannot decode (`/v1/models/%ff`) answers the API's error body too.
    frameworkErrors: (error: Error, _request: unknown, reply: FastifyReply) => {
      const { status, body } = errorResponse(error);
      return reply.code(status).type('application/json; charset=utf-8').send(body);
    },
    // Closing the server drops open connections (in-flight requests are aborted, as vLLM does
    // with its default --shutdown-timeout 0) instead of waiting out their keep-alive.
    forceCloseConnections: true,
    ...(options.rootPath != null && options.rootPath !== ''
      ? {
          rewriteUrl: (request: { url?: string | undefined }) =>
            rootPathRewrite(options.rootPath!)(request.url ?? '/'),
        }
      : {}),
  };
  const tls = options.tls;
  // One app type for both: the routes do not depend on the transport.
  const app =
    tls === undefined
      ? Fastify(common)
      : (Fastify({
          ...common,
          https: {
            ...timeouts,
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
            requestCert: tls.certReqs > 0,
            rejectUnauthorized: tls.certReqs === 2,
          },
        }) as unknown as FastifyInstance);
  // First: every request is timed from its arrival, also those the hooks below answer.
  if (options.metrics !== undefined) {
    registerHttpMetrics(app, new HttpMetrics(options.metrics.registry));
  }
  if (options.drain !== undefined) registerDrainGate(app, options.drain);
  registerCors(app, options.cors ?? DEFAULT_CORS);
  if (options.requestIdHeaders === true) registerRequestIdHeaders(app);
  const models = new ServedModels(
    options.servedModelNames,
    options.modelRoot ?? options.servedModelNames[0] ?? '',
    options.maxModelLen,
  );
  const chatTemplate = compileChatTemplate(options);
  if (chatTemplate.kind === 'invalid') app.log.warn(chatTemplate.message);
  const basics: ServingBasics = {
    models,
    plan: {
      tokenizer: options.tokenizer,
      vocabSize: options.model.vocabSize,
      maxModelLen: options.maxModelLen,
      maxLogprobs: options.maxLogprobs ?? DEFAULT_MAX_LOGPROBS,
      returnTokensAsTokenIds: options.returnTokensAsTokenIds ?? false,
      maxN: options.maxNSequences ?? DEFAULT_MAX_N_SEQUENCES,
      forceIncludeUsage: options.forceIncludeUsage ?? false,
      generationDefaults: options.generationDefaults ?? NO_GENERATION_DEFAULTS,
      chatTemplate,
      responseRole: options.responseRole ?? 'assistant',
      tools: options.tools ?? NO_TOOL_SETTINGS,
      requestTemplates:
        options.trustRequestChatTemplate === true
          ? new RequestTemplates(specialTokenStrings(options))
          : null,
      infill:
        options.model.fillInTheMiddle === null
          ? null
          : {
              ...options.model.fillInTheMiddle,
              bos: options.model.addBos ? options.model.bosToken : null,
            },
    },
    texts: new TokenTexts(options.tokenizer),
    fingerprint: `servellm-${options.version}`,
    promptTokensDetails: options.enablePromptTokensDetails ?? false,
    maxLogLen: options.maxLogLen ?? null,
  };

  installBodyParsers(app);
  const apiKeys = [...(options.apiKeys ?? []), ...(options.apiKey != null ? [options.apiKey] : [])];
  if (apiKeys.length > 0) app.addHook('onRequest', apiKeyHook(apiKeys));
  app.setErrorHandler((error, request, reply) => {
    const { status, body, headers } = errorResponse(fromBodyParser(error, bodyLimit));
    if (reply.raw.destroyed) request.log.info({ err: error }, 'client went away');
    // A 503 (overload) is counted in the metrics, not logged: a flood would flood the log.
    else if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
    return reply.code(status).headers(headers).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));

  const invocationHandlers = captureInvocationHandlers(app);
  const engine = options.engine;
  if (engine !== null) {
    const maxStreamBuffer = options.maxStreamBuffer ?? DEFAULT_MAX_STREAM_BUFFER;
    const context: ServingContext = { ...basics, engine, maxStreamBuffer };
    registerCompletionsRoute(app, context);
    registerChatCompletionsRoute(app, context);
  } else {
    registerUnsupportedRoutes(app, [
      { url: '/v1/completions', api: 'Completions' },
      { url: '/v1/chat/completions', api: 'Chat Completions' },
    ]);
  }
  if (options.embeddingRunner !== undefined) {
    registerEmbeddingsRoute(app, basics, options.embeddingRunner);
  } else {
    registerUnsupportedRoutes(app, [{ url: '/v1/embeddings', api: 'Embeddings' }]);
  }
  registerInfoRoutes(app, models, options.version);
  registerTokenizeRoutes(app, basics);
  if (options.docs ?? true) {
    registerDocsRoutes(app, options.version, options.metrics !== undefined);
  }
  registerInvocationsRoute(app, invocationHandlers, {
    generate: engine !== null,
    embed: options.embeddingRunner !== undefined,
  });
  registerServerLoad(app, options.serverLoadTracking ?? false);
  if (options.metrics !== undefined) registerMetricsRoute(app, options.metrics);
  return app;
}
