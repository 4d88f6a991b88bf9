/**
 * Fuzzed JSON bodies per endpoint: a mostly valid request, then zero to three mutations.
 *
 * Owns: each endpoint's base request (small and cheap to answer: a few output tokens, n <= 2),
 * the field list mutations pick from (the endpoint's schema fields, so a new field is fuzzed as
 * soon as it exists, plus an unknown one), and the mutations: set a field to one of its edge
 * values or to junk, or delete it.
 */
import fc from 'fast-check';
import { chatRequestSchema } from '../../../src/http/schemas/chat-request.ts';
import { completionRequestSchema } from '../../../src/http/schemas/completion-request.ts';
import {
  embeddingChatSchema,
  embeddingCompletionSchema,
} from '../../../src/http/schemas/embedding-request.ts';
import {
  detokenizeSchema,
  tokenizeChatSchema,
  tokenizeCompletionSchema,
} from '../../../src/http/schemas/tokenize-request.ts';
import { FUZZ_MODEL_NAMES, fieldValue, message, shortText, tokenIds } from './field-values.ts';
import type { Endpoint } from './fuzz-case.ts';
import type { FuzzJson } from './json-text.ts';

type Body = Record<string, FuzzJson | undefined>;

/** A field that no schema knows (vLLM ignores unknown fields). */
const UNKNOWN_FIELD = 'x_unknown_field';

function fieldsOf(...schemas: { shape: object }[]): string[] {
  return [...new Set(schemas.flatMap((schema) => Object.keys(schema.shape))), UNKNOWN_FIELD];
}

const COMPLETION_FIELDS = fieldsOf(completionRequestSchema);
const CHAT_FIELDS = fieldsOf(chatRequestSchema);
const EMBEDDING_FIELDS = fieldsOf(embeddingCompletionSchema, embeddingChatSchema);
const TOKENIZE_FIELDS = fieldsOf(tokenizeCompletionSchema, tokenizeChatSchema);
const DETOKENIZE_FIELDS = fieldsOf(detokenizeSchema);

const modelName = fc.option(fc.constantFrom(...FUZZ_MODEL_NAMES), { nil: undefined });

/** Sampling that vLLM accepts: n > 1 only when not greedy (absent temperature is 1). */
const sampling = fc.oneof(
  fc.record({ temperature: fc.constantFrom(0, undefined), n: fc.constant(undefined) }),
  fc.record({
    temperature: fc.constantFrom(0.5, 1, undefined),
    n: fc.constantFrom(1, 2, undefined),
  }),
);

/** A valid prompt in one of its four forms, small. */
const validPrompt: fc.Arbitrary<FuzzJson> = fc.oneof(
  { arbitrary: shortText.filter((text) => text.trim() !== ''), weight: 4 },
  { arbitrary: fc.array(shortText, { minLength: 1, maxLength: 2 }), weight: 1 },
  { arbitrary: tokenIds, weight: 2 },
  { arbitrary: fc.array(tokenIds, { minLength: 1, maxLength: 2 }), weight: 1 },
);

const validMessages = fc.oneof(
  { arbitrary: shortText.map((content) => [{ role: 'user', content }]), weight: 4 },
  { arbitrary: fc.array(message, { minLength: 1, maxLength: 3 }), weight: 1 },
);

/** A streaming request sometimes asks for usage. */
function withStream(body: Body, stream: boolean | undefined, usage: boolean): Body {
  if (stream === undefined) return body;
  return usage && stream
    ? { ...body, stream, stream_options: { include_usage: true } }
    : { ...body, stream };
}

const completionBase: fc.Arbitrary<Body> = fc
  .record({
    model: modelName,
    prompt: validPrompt,
    max_tokens: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    sampling,
    seed: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
    logprobs: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    echo: fc.option(fc.boolean(), { nil: undefined }),
    stop: fc.option(fc.constantFrom('d', ['x', 'y']), { nil: undefined }),
    stream: fc.option(fc.boolean(), { nil: undefined }),
    usage: fc.boolean(),
  })
  .map(({ stream, usage, sampling: drawn, ...body }) =>
    withStream({ ...body, ...drawn }, stream, usage),
  );

const chatBase: fc.Arbitrary<Body> = fc
  .record({
    model: modelName,
    messages: validMessages,
    max_tokens: fc.integer({ min: 1, max: 8 }),
    max_completion_tokens: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    sampling,
    logprobs: fc.option(
      fc.oneof(
        fc.constant({ logprobs: false }),
        fc.record({ logprobs: fc.constant(true), top_logprobs: fc.integer({ min: 0, max: 3 }) }),
      ),
      { nil: undefined },
    ),
    stream: fc.option(fc.boolean(), { nil: undefined }),
    usage: fc.boolean(),
  })
  .map(({ stream, usage, sampling: drawn, logprobs, ...body }) =>
    withStream({ ...body, ...drawn, ...logprobs }, stream, usage),
  );

const embeddingBase: fc.Arbitrary<Body> = fc.oneof(
  fc.record({
    model: modelName,
    input: validPrompt,
    encoding_format: fc.option(fc.constantFrom('float', 'base64'), { nil: undefined }),
  }),
  fc.record({ model: modelName, messages: validMessages }),
);

const tokenizeBase: fc.Arbitrary<Body> = fc.oneof(
  fc.record({
    model: modelName,
    prompt: shortText,
    add_special_tokens: fc.option(fc.boolean(), { nil: undefined }),
    return_token_strs: fc.option(fc.boolean(), { nil: undefined }),
  }),
  fc.record({
    model: modelName,
    messages: validMessages,
    add_generation_prompt: fc.option(fc.boolean(), { nil: undefined }),
    return_token_strs: fc.option(fc.boolean(), { nil: undefined }),
  }),
);

const detokenizeBase: fc.Arbitrary<Body> = fc.record({ model: modelName, tokens: tokenIds });

/** One mutation: set a field to a value, or delete it (value undefined). */
function mutation(fields: readonly string[]): fc.Arbitrary<[string, FuzzJson | undefined]> {
  return fc.constantFrom(...fields).chain((name) =>
    fc.oneof(
      {
        arbitrary: fieldValue(name).map((value): [string, FuzzJson] => [name, value]),
        weight: 9,
      },
      { arbitrary: fc.constant<[string, undefined]>([name, undefined]), weight: 1 },
    ),
  );
}

/**
 * `base` with 0-3 mutations of `fields` applied: none for a fifth of the bodies, one for half
 * (so the rest of the body stays valid and the mutated value reaches the deeper checks).
 */
function mutated(base: fc.Arbitrary<Body>, fields: readonly string[]): fc.Arbitrary<Body> {
  const mutations = fc.oneof(
    { arbitrary: fc.constant([]), weight: 2 },
    { arbitrary: fc.tuple(mutation(fields)), weight: 5 },
    { arbitrary: fc.array(mutation(fields), { minLength: 2, maxLength: 3 }), weight: 3 },
  );
  return fc.tuple(base, mutations).map(([body, changes]) => {
    const result: Body = { ...body };
    for (const [name, value] of changes) {
      if (value === undefined) delete result[name];
      else result[name] = value;
    }
    return result;
  });
}

/** The fuzzed bodies of each endpoint. */
export const BODIES: Readonly<Record<Endpoint, fc.Arbitrary<Body>>> = {
  '/v1/completions': mutated(completionBase, COMPLETION_FIELDS),
  '/v1/chat/completions': mutated(chatBase, CHAT_FIELDS),
  '/v1/embeddings': mutated(embeddingBase, EMBEDDING_FIELDS),
  '/tokenize': mutated(tokenizeBase, TOKENIZE_FIELDS),
  '/detokenize': mutated(detokenizeBase, DETOKENIZE_FIELDS),
  '/invocations': fc.oneof(
    mutated(chatBase, CHAT_FIELDS),
    mutated(completionBase, COMPLETION_FIELDS),
    mutated(embeddingBase, EMBEDDING_FIELDS),
  ),
};
