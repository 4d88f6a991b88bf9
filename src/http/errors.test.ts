/**
 * errors.ts: the engine's overload becomes a 503 with Retry-After in vLLM's error body; other
 * failures carry no extra header.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineOverloadedError, EngineRequestError } from '../engine/engine-types.ts';
import { errorResponse, OVERLOAD_RETRY_AFTER_S, ServiceUnavailableError } from './errors.ts';

describe('errorResponse', () => {
  it('answers an engine overload with 503, Retry-After and the OpenAI error shape', () => {
    const { status, body, headers } = errorResponse(new EngineOverloadedError('too busy'));
    assert.equal(status, 503);
    assert.deepEqual(headers, { 'retry-after': String(OVERLOAD_RETRY_AFTER_S) });
    assert.deepEqual(body, {
      error: { message: 'too busy', type: 'ServiceUnavailableError', param: null, code: 503 },
    });
    assert.deepEqual(errorResponse(new ServiceUnavailableError('later', 7)).headers, {
      'retry-after': '7',
    });
  });

  it('adds no header to other failures', () => {
    assert.deepEqual(errorResponse(new EngineRequestError('bad', 'n')).headers, {});
    assert.deepEqual(errorResponse(new Error('boom')).headers, {});
  });
});
