import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MarkerScanner } from './marker-scanner.ts';

describe('MarkerScanner', () => {
  it('holds back a possible marker start until the next text decides it', () => {
    const scanner = new MarkerScanner(['<tool_call>']);
    assert.deepEqual(scanner.push('Hi <tool'), { text: 'Hi ', marker: null, rest: '' });
    assert.deepEqual(scanner.push('box>'), { text: '<toolbox>', marker: null, rest: '' });
    assert.deepEqual(scanner.push('a<'), { text: 'a', marker: null, rest: '' });
    assert.deepEqual(scanner.push('tool_call>{"x"'), {
      text: '',
      marker: '<tool_call>',
      rest: '{"x"',
    });
  });

  it('finds the earliest of several markers, and flushes held text at the end', () => {
    const scanner = new MarkerScanner(['<tool_call>', '</tool_call>']);
    assert.deepEqual(scanner.push('x</tool_call><tool_call>'), {
      text: 'x',
      marker: '</tool_call>',
      rest: '<tool_call>',
    });
    assert.deepEqual(scanner.push('ab</tool_'), { text: 'ab', marker: null, rest: '' });
    assert.equal(scanner.flush(), '</tool_');
    assert.equal(scanner.flush(), '');
  });

  it('finds a marker however the text is cut (overlapping prefixes included)', () => {
    const text = 'a [[TOOL_CALLS [[TOOL_CALLS]rest';
    for (let size = 1; size <= text.length; size++) {
      const scanner = new MarkerScanner(['[TOOL_CALLS]']);
      let before = '';
      let found: { marker: string | null; rest: string } = { marker: null, rest: '' };
      for (let at = 0; at < text.length && found.marker === null; at += size) {
        const scan = scanner.push(text.slice(at, at + size));
        before += scan.text;
        found = { marker: scan.marker, rest: scan.rest + text.slice(at + size) };
      }
      assert.equal(before, 'a [[TOOL_CALLS [', `size ${size}`);
      assert.deepEqual(found, { marker: '[TOOL_CALLS]', rest: 'rest' }, `size ${size}`);
    }
  });
});
