/**
 * Arbitraries of whole fuzz cases: JSON bodies for each endpoint under right and wrong content
 * types, raw-byte bodies (malformed JSON, invalid UTF-8, non-object JSON, prototype keys),
 * bodies over the target's size limit, and the GET routes with junk query strings.
 *
 * Owns: the mix of case kinds and endpoints a target is fuzzed with (`fuzzCases`).
 */
import fc from 'fast-check';
import { FUZZ_MODEL_NAMES } from './field-values.ts';
import { FuzzCase, type Endpoint } from './fuzz-case.ts';
import { jsonText } from './json-text.ts';
import { BODIES } from './request-bodies.ts';

const JSON_TYPE = 'application/json';

/** Content types: mostly JSON (in its accepted spellings), sometimes wrong or absent. */
const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { arbitrary: fc.constant(JSON_TYPE), weight: 30 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/json;charset=UTF-8',
      'application/json; charset=latin1',
      'application/json; foo="bar"',
    ),
    weight: 3,
  },
  {
    arbitrary: fc.constantFrom<string | null>(
      null,
      '',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonl',
      'application/json-patch+json',
      'application/octet-stream',
      '*/*',
      ';;;==',
      'application/',
      'json',
      '\u00e9/\u00e9',
    ),
    weight: 4,
  },
);

function headersWith(type: string | null): Record<string, string> {
  return type === null ? {} : { 'content-type': type };
}

/** A JSON body for `endpoint` under a content type. */
function jsonCase(endpoint: Endpoint): fc.Arbitrary<FuzzCase> {
  return fc
    .tuple(BODIES[endpoint], contentType)
    .map(
      ([body, type]) =>
        new FuzzCase(
          'POST',
          endpoint,
          headersWith(type),
          Buffer.from(jsonText(body), 'utf8'),
          `json ${endpoint}`,
        ),
    );
}

/** Byte sequences that are not UTF-8, or are UTF-8 only to a lenient decoder. */
const BAD_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** JSON texts that are not request objects, or that JSON parsers disagree on. */
const ODD_JSON: readonly string[] = [
  '',
  ' ',
  '\n',
  'null',
  'true',
  '0',
  '-1',
  '1e999',
  '"a string"',
  '[]',
  '[{}]',
  '{}',
  '{"__proto__": {"prompt": "x"}}',
  '{"prompt": "a", "__proto__": {"max_tokens": 5}}',
  '{"constructor": {"prototype": {"x": 1}}, "prompt": "a"}',
  '{"prompt": "a", "prompt": 5}',
  '{"prompt": "a"} trailing',
  '{"prompt": "a",}',
  "{'prompt': 'a'}",
  '{"prompt": NaN}',
  '{"temperature": Infinity, "prompt": "a"}',
  '{"prompt": "a" /* comment */}',
  '{"prompt": "\\ud800"}',
  '{"prompt": "\\u0000"}',
  '{"prompt": "\\x41"}',
  '{"prompt": "a\u0000b"}',
  '{"prompt": "a\nb"}',
  '\ufeff{"prompt": "a"}',
  '{"messages": [{"role": "user", "content": "\\udc00\\ud800"}]}',
  '{"seed": 1e2, "prompt": "a"}',
  '{"seed": 12345678901234567890123, "prompt": "a"}',
  '{"seed": -0, "prompt": "a"}',
  '{"seed": 1.0, "prompt": "a"}',
  '{"tokens": [1e2, 97]}',
];

/** A raw payload: a JSON text cut short, bytes that are not UTF-8, odd JSON, random bytes. */
const rawPayload: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(...ODD_JSON).map((text) => Buffer.from(text, 'utf8')),
  fc.tuple(BODIES['/v1/completions'], fc.nat()).map(([body, cut]) => {
    const text = Buffer.from(jsonText(body), 'utf8');
    return text.subarray(0, cut % Math.max(1, text.length));
  }),
  fc
    .tuple(fc.constantFrom(...BAD_UTF8), fc.constantFrom('prompt', 'x', 'model'))
    .map(([bytes, key]) =>
      Buffer.concat([Buffer.from(`{"${key}": "a`), Buffer.from(bytes), Buffer.from('b"}')]),
    ),
  fc.tuple(fc.constantFrom(...BAD_UTF8), fc.nat(30)).map(([bytes, at]) => {
    const text = Buffer.from('{"messages": [{"role": "user", "content": "hello"}]}');
    const cut = at % text.length;
    return Buffer.concat([text.subarray(0, cut), Buffer.from(bytes), text.subarray(cut)]);
  }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

/** A raw payload to any endpoint, mostly under the JSON content type. */
function rawCase(endpoints: readonly Endpoint[]): fc.Arbitrary<FuzzCase> {
  return fc
    .tuple(fc.constantFrom(...endpoints), rawPayload, contentType)
    .map(
      ([endpoint, payload, type]) =>
        new FuzzCase('POST', endpoint, headersWith(type), payload, 'raw bytes'),
    );
}

/** A body larger than `limit` bytes (valid JSON, so only the size is wrong). */
function oversizedCase(endpoints: readonly Endpoint[], limit: number): fc.Arbitrary<FuzzCase> {
  return fc
    .tuple(fc.constantFrom(...endpoints), fc.integer({ min: 1, max: 4096 }), contentType)
    .map(([endpoint, extra, type]) => {
      const payload = Buffer.from(`{"prompt": "${'a'.repeat(limit + extra)}"}`, 'utf8');
      return new FuzzCase('POST', endpoint, headersWith(type), payload, 'oversized');
    });
}

/** GET routes (vLLM's), the model card under served, unknown and undecodable names. */
const GET_PATHS: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '/v1/models',
    '/health',
    '/ping',
    '/version',
    '/load',
    '/metrics',
    '/openapi.json',
    '/docs',
    '/redoc',
  ),
  fc
    .oneof(
      fc.constantFrom(...FUZZ_MODEL_NAMES, 'missing', '', '%ff', '%', '%00', 'a%2Fb', '..%2F..'),
      fc.string({ maxLength: 12 }).map((name) => encodeURIComponent(name)),
      fc.string({ unit: 'binary', maxLength: 12 }).map((name) => encodeURIComponent(name)),
    )
    .map((name) => `/v1/models/${name}`),
);

/** A query string: key-value pairs, encoded or raw, with broken percent escapes. */
const queryString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?', '?&&&', '?=', '?a', '?a=%zz', '?%', '?%ff%fe=1', '?a=1&a=2', '?stream=true'),
  fc
    .array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 })), {
      maxLength: 4,
    })
    .map(
      (pairs) =>
        '?' + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
    ),
  fc.integer({ min: 1000, max: 6000 }).map((length) => `?q=${'a'.repeat(length)}`),
);

const getCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(GET_PATHS, queryString)
  .map(([path, query]) => new FuzzCase('GET', `${path}${query}`, {}, null, 'get'));

/** What a target serves and how big a body it takes. */
export interface CaseMix {
  /** Endpoints, each with its weight among JSON cases. */
  readonly endpoints: readonly { readonly endpoint: Endpoint; readonly weight: number }[];
  /** The target's body limit (--max-request-body). */
  readonly bodyLimit: number;
}

/** The cases a target is fuzzed with: JSON bodies 80%, raw bytes 10%, GETs 8%, oversized 2%. */
export function fuzzCases(mix: CaseMix): fc.Arbitrary<FuzzCase> {
  const endpoints = mix.endpoints.map((entry) => entry.endpoint);
  const json = fc.oneof(
    ...mix.endpoints.map(({ endpoint, weight }) => ({ arbitrary: jsonCase(endpoint), weight })),
  );
  return fc.oneof(
    { arbitrary: json, weight: 80 },
    { arbitrary: rawCase(endpoints), weight: 10 },
    { arbitrary: getCase, weight: 8 },
    { arbitrary: oversizedCase(endpoints, mix.bodyLimit), weight: 2 },
  );
}
