import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineRequestError, type EngineRequest } from '../../engine/engine-types.ts';
import { resolveSamplingParams } from '../params/sampling-params.ts';
import { ScriptedEngine } from '../testing/scripted-engine.ts';
import { startGeneration, type IndexedOutput } from './generation.ts';

function request(id: string, maxTokens = 2): EngineRequest {
  return { id, promptTokens: [1, 2], params: resolveSamplingParams({}, maxTokens, 259) };
}

async function collect(outputs: AsyncIterable<IndexedOutput>): Promise<IndexedOutput[]> {
  const all: IndexedOutput[] = [];
  for await (const output of outputs) all.push(output);
  return all;
}

describe('startGeneration', () => {
  it('merges the outputs of every request, tagged by position, until all finish', async () => {
    const engine = new ScriptedEngine();
    const generation = startGeneration(engine, [request('a', 3), request('b', 1)]);
    const outputs = await collect(generation.outputs);
    assert.equal(outputs.length, 4);
    assert.deepEqual(
      outputs.filter((o) => o.index === 0).map((o) => o.output.completionTokens),
      [1, 2, 3],
    );
    assert.deepEqual(
      outputs
        .filter((o) => o.output.finishReason !== null)
        .map((o) => o.index)
        .sort(),
      [0, 1],
    );
    assert.deepEqual(engine.aborted, [], 'finished requests are not aborted');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      [...engine.ended].sort(),
      ['a', 'b'],
      'finished streams are read to their end',
    );
  });

  it('aborts every unfinished request when the consumer stops early', async () => {
    const engine = new ScriptedEngine();
    const generation = startGeneration(engine, [request('a', 5), request('b', 5)]);
    for await (const output of generation.outputs) {
      assert.equal(output.output.finishReason, null);
      break;
    }
    assert.deepEqual([...engine.aborted].sort(), ['a', 'b']);
  });

  it('abort() ends queued requests at once with finish "abort"', async () => {
    const engine = new ScriptedEngine({ gate: new Promise(() => undefined) });
    const generation = startGeneration(engine, [request('a', 5)]);
    const done = collect(generation.outputs);
    generation.abort();
    generation.abort();
    const outputs = await done;
    assert.deepEqual(engine.aborted, ['a']);
    assert.deepEqual(
      outputs.map((o) => o.output.finishReason),
      ['abort'],
    );
  });

  it('aborts the requests already added when the engine refuses a later one', () => {
    const engine = new ScriptedEngine({
      refuse: (r) => (r.id === 'c' ? new EngineRequestError('too long', 'prompt') : null),
    });
    assert.throws(
      () => startGeneration(engine, [request('a'), request('b'), request('c')]),
      EngineRequestError,
    );
    assert.deepEqual(engine.aborted, ['a', 'b']);
  });

  it('propagates an engine failure and aborts the others', async () => {
    const engine = new ScriptedEngine({
      script: (r) =>
        r.id === 'bad'
          ? { pieces: ['x', 'y'], error: new Error('boom'), failAfter: 1 }
          : { pieces: ['1', '2', '3', '4'] },
      delayMs: 1,
    });
    const generation = startGeneration(engine, [request('good'), request('bad')]);
    await assert.rejects(collect(generation.outputs), /boom/);
    assert.ok(engine.aborted.includes('good'));
  });

  it('fails when a stream ends without a finish reason', async () => {
    const engine = new ScriptedEngine();
    engine.add = (): AsyncIterable<never> => ({
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: true, value: undefined }),
      }),
    });
    const generation = startGeneration(engine, [request('a')]);
    await assert.rejects(collect(generation.outputs), /without a finish reason/);
  });

  it('streams a single request the same way: to its end, aborted when left early, failures raised', async () => {
    const finished = new ScriptedEngine();
    const outputs = await collect(startGeneration(finished, [request('a', 3)]).outputs);
    assert.deepEqual(
      outputs.map((o) => [o.index, o.output.completionTokens, o.output.finishReason]),
      [
        [0, 1, null],
        [0, 2, null],
        [0, 3, 'length'],
      ],
    );
    assert.deepEqual(finished.aborted, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([...finished.ended], ['a'], 'the finished stream is read to its end');

    const left = new ScriptedEngine();
    for await (const output of startGeneration(left, [request('b', 5)]).outputs) {
      assert.equal(output.output.finishReason, null);
      break;
    }
    assert.deepEqual(left.aborted, ['b']);

    const failing = new ScriptedEngine({
      script: () => ({ pieces: ['x', 'y'], error: new Error('boom'), failAfter: 1 }),
    });
    await assert.rejects(collect(startGeneration(failing, [request('c')]).outputs), /boom/);
    assert.deepEqual(failing.aborted, ['c']);
  });
});
