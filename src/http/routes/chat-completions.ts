/**
 * `POST /v1/chat/completions`: validate, render and plan, run, then stream (SSE) or assemble
 * (JSON).
 *
 * Owns: the order of the steps (media type, schema, model, plan, engine) and wiring the
 * client's disconnect to the engine. Every failure before the 200 is thrown to the app's error
 * handler; failures after it are in-stream error events.
 */
import type { FastifyInstance } from 'fastify';
import { assertJsonMediaType } from '../json-body.ts';
import { toChatPlan } from '../params/chat-params.ts';
import { chatRequestSchema } from '../schemas/chat-request.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import { requestIdHeader, responseHeader } from '../served-models.ts';
import { logReceivedRequests } from '../request-log.ts';
import type { ServingContext } from '../serving-context.ts';
import { assembleChat, ChatStreamState, chatUsageChunk } from '../stream/chat-stream.ts';
import {
  abortOnDisconnect,
  startBeamGeneration,
  startGeneration,
  toEngineRequests,
} from '../stream/generation.ts';
import { sendSse, sseFrames } from '../stream/sse.ts';
import { streamEvents } from '../stream/stream-events.ts';

/** Registers `POST /v1/chat/completions`. */
export function registerChatCompletionsRoute(app: FastifyInstance, context: ServingContext): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    assertJsonMediaType(request.headers['content-type']);
    const body = parseRequest(chatRequestSchema, request.body);
    const model = context.models.resolve(body.model);
    const plan = toChatPlan(body, context.plan);
    const base = { header: requestIdHeader(request.headers), requestId: body.request_id };
    const header = responseHeader('chatcmpl', base, model);
    const requests = toEngineRequests(header.id, plan.requests, body.priority);
    logReceivedRequests(request.log, requests, context.maxLogLen);
    const generation =
      plan.beamSearch === null
        ? startGeneration(context.engine, requests)
        : startBeamGeneration(context.engine, requests, plan.beamSearch);
    abortOnDisconnect(reply.raw, generation);
    const state = new ChatStreamState(header, {
      role: plan.role,
      echo: plan.echo,
      choiceCount: plan.choiceCount,
      promptTokenIds: plan.returnTokenIds ? plan.requests[0]!.promptTokens : undefined,
      logprobs: plan.logprobs === null ? null : { ...plan.logprobs, texts: context.texts },
      texts: context.texts,
      promptTokensDetails: context.promptTokensDetails,
      tools: plan.tools,
    });
    const events = streamEvents(generation.outputs, state);
    if (!plan.stream.stream) return assembleChat(events, state, header, context.fingerprint);
    const frames = sseFrames(events, {
      mode: plan.stream,
      usageChunk: (usage) => chatUsageChunk(header, usage, context.fingerprint),
      onError: (error) => request.log.error({ err: error }, 'chat stream failed'),
    });
    return sendSse(reply, frames, context.maxStreamBuffer);
  });
}
