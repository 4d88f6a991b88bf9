import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStreaming, counterIds } from '../testing/tool-stream-checks.ts';
import {
  assembleToolUpdates,
  randomMistralToolCallId,
  randomToolCallId,
  streamingToolCallParser,
  ToolUpdateBuilder,
  type ToolCallStream,
} from './tool-call-parser.ts';
import {
  TOOL_CALL_PARSER_NAMES,
  toolCallParser,
  unknownToolCallParserMessage,
} from './tool-parsers.ts';

describe('tool-call ids', () => {
  it("follow vLLM's formats and differ", () => {
    const ids = new Set(Array.from({ length: 50 }, () => randomToolCallId()));
    assert.equal(ids.size, 50);
    for (const id of ids) assert.match(id, /^chatcmpl-tool-[0-9a-f]{16}$/);
    const mistral = new Set(Array.from({ length: 50 }, () => randomMistralToolCallId()));
    assert.equal(mistral.size, 50);
    for (const id of mistral) assert.match(id, /^[A-Za-z0-9]{9}$/);
  });
});

describe('ToolUpdateBuilder', () => {
  it('announces a call once and merges its fragments within a step', () => {
    const builder = new ToolUpdateBuilder(counterIds('id'));
    builder.content('Hi');
    const first = builder.beginCall('f');
    builder.appendArguments(first, '{"a"');
    builder.appendArguments(first, ':1');
    builder.appendArguments(first, '');
    assert.equal(builder.callCount, 1);
    assert.deepEqual(builder.take(), {
      content: 'Hi',
      toolCalls: [
        { index: 0, id: 'id0', type: 'function', function: { name: 'f', arguments: '{"a":1' } },
      ],
    });
    builder.appendArguments(first, '}');
    const second = builder.beginCall('g');
    builder.appendArguments(second, '{}');
    assert.deepEqual(builder.take(), {
      content: '',
      toolCalls: [
        { index: 0, function: { arguments: '}' } },
        { index: 1, id: 'id1', type: 'function', function: { name: 'g', arguments: '{}' } },
      ],
    });
    assert.deepEqual(builder.take(), { content: '', toolCalls: [] });
  });

  it('assembles updates into a result (empty content is null)', () => {
    const builder = new ToolUpdateBuilder(counterIds('id'));
    const index = builder.beginCall('f');
    const updates = [builder.take()];
    builder.appendArguments(index, '{}');
    updates.push(builder.take());
    assert.deepEqual(assembleToolUpdates(updates), {
      content: null,
      toolCalls: [{ id: 'id0', name: 'f', arguments: '{}' }],
    });
    assert.deepEqual(assembleToolUpdates([{ content: 'x', toolCalls: [] }]), {
      content: 'x',
      toolCalls: [],
    });
  });

  it('makes parse() the stream fed the whole text', () => {
    const pushed: string[] = [];
    const parser = streamingToolCallParser('echo', false, (): ToolCallStream => ({
      push: (delta) => {
        pushed.push(delta);
        return { content: delta.toUpperCase(), toolCalls: [] };
      },
      finish: () => ({ content: '!', toolCalls: [] }),
    }));
    assert.deepEqual(parser.parse('abc'), { content: 'ABC!', toolCalls: [] });
    assert.deepEqual(pushed, ['abc']);
  });
});

describe('tool parser registry', () => {
  it("knows vLLM's names for the formats servellm parses", () => {
    assert.deepEqual(TOOL_CALL_PARSER_NAMES, [
      'hermes',
      'llama3_json',
      'llama4_json',
      'mistral',
      'pythonic',
    ]);
    for (const name of TOOL_CALL_PARSER_NAMES) assert.equal(toolCallParser(name)?.name, name);
  });

  it('answers unknown names with undefined and a vLLM-style message', () => {
    assert.equal(toolCallParser('qwen3_coder'), undefined);
    assert.equal(toolCallParser('constructor'), undefined);
    assert.equal(
      unknownToolCallParserMessage('nope'),
      'invalid tool call parser: nope (chose from { hermes,llama3_json,llama4_json,mistral,pythonic })',
    );
  });

  it('passes the id generator to the parser', () => {
    const parser = toolCallParser('pythonic', { newId: counterIds('t') });
    assert.equal(parser?.parse('[f()]').toolCalls[0]?.id, 't0');
  });

  it('gives every parser an independent state per stream (n > 1 choices)', () => {
    for (const name of TOOL_CALL_PARSER_NAMES) {
      const parser = toolCallParser(name, { newId: counterIds() });
      assert.ok(parser !== undefined);
      const a = parser.stream();
      const b = parser.stream();
      a.push('<tool_call>{"name": "x", "arguments": {"k": ');
      assert.deepEqual(b.finish(), { content: '', toolCalls: [] });
    }
  });

  it('treats plain prose as content in every format', () => {
    for (const name of TOOL_CALL_PARSER_NAMES) {
      const parser = toolCallParser(name, { newId: counterIds() });
      assert.ok(parser !== undefined);
      const text = 'The capital of France is Paris; its population is about 2.1 million.';
      assert.deepEqual(parser.parse(text), { content: text, toolCalls: [] });
      checkStreaming(parser, text, []);
    }
  });
});
