/**
 * `POST /v1/completions`: validate, plan, run, then stream (SSE) or assemble (JSON).
 *
 * Owns: the order of the steps (media type, schema, model, plan, engine) and wiring the
 * client's disconnect to the engine. Every failure before the 200 is thrown to the app's error
 * handler; failures after it are in-stream error events.
 */
import type { FastifyInstance } from 'fastify';
import { assertJsonMediaType } from '../json-body.ts';
import { toCompletionPlan } from '../params/completion-params.ts';
import { completionRequestSchema } from '../schemas/completion-request.ts';
import { parseRequest } from '../schemas/parse-request.ts';
import { requestIdHeader, responseHeader } from '../served-models.ts';
import { logReceivedRequests } from '../request-log.ts';
import type { ServingContext } from '../serving-context.ts';
import {
  assembleCompletion,
  CompletionStreamState,
  completionUsageChunk,
} from '../stream/completion-stream.ts';
import { keepBestOf } from '../stream/best-of.ts';
import {
  abortOnDisconnect,
  startBeamGeneration,
  startGeneration,
  toEngineRequests,
} from '../stream/generation.ts';
import { sendSse, sseFrames } from '../stream/sse.ts';
import { streamEvents } from '../stream/stream-events.ts';

/** Registers `POST /v1/completions`. */
export function registerCompletionsRoute(app: FastifyInstance, context: ServingContext): void {
  app.post('/v1/completions', async (request, reply) => {
    assertJsonMediaType(request.headers['content-type']);
    const body = parseRequest(completionRequestSchema, request.body);
    const model = context.models.resolve(body.model);
    const plan = toCompletionPlan(body, context.plan);
    const base = { header: requestIdHeader(request.headers), requestId: body.request_id };
    const header = responseHeader('cmpl', base, model);
    const requests = toEngineRequests(header.id, plan.requests, body.priority);
    logReceivedRequests(request.log, requests, context.maxLogLen);
    const generation =
      plan.beamSearch === null
        ? startGeneration(context.engine, requests)
        : startBeamGeneration(context.engine, requests, plan.beamSearch);
    abortOnDisconnect(reply.raw, generation);
    const state = new CompletionStreamState(header, {
      choicesPerPrompt: plan.choicesPerPrompt,
      logprobs: plan.logprobs === null ? null : { ...plan.logprobs, texts: context.texts },
      echo: plan.echo,
      promptTokenIds: plan.returnTokenIds ? plan.choicePrompts : undefined,
      texts: context.texts,
      promptTokensDetails: context.promptTokensDetails,
    });
    const events = streamEvents(generation.outputs, state);
    if (!plan.stream.stream) {
      const response = await assembleCompletion(events, state, header, context.fingerprint);
      return plan.answersPerPrompt === plan.choicesPerPrompt
        ? response
        : keepBestOf(response, state, plan.choicesPerPrompt, plan.answersPerPrompt);
    }
    const frames = sseFrames(events, {
      mode: plan.stream,
      usageChunk: (usage) => completionUsageChunk(header, usage, context.fingerprint),
      onError: (error) => request.log.error({ err: error }, 'completion stream failed'),
    });
    return sendSse(reply, frames, context.maxStreamBuffer);
  });
}
