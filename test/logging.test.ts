/**
 * llama.cpp's log lines reach a JS callback (they are produced on worker threads) at the chosen
 * level, whole lines at a time, and stop when the logger is reset.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAddon } from '../src/backend/llama/load-addon.ts';
import { loadTestBackend, TEST_KERNEL_VARIANT } from './support/models.ts';

describe('llama.cpp logging', () => {
  it('forwards lines at or below the level to the callback', async () => {
    const lines: [number, string][] = [];
    const backend = await loadTestBackend(
      { preset: 'successor', weightType: 'f16' },
      { logLevel: 3, log: (level, text) => lines.push([level, text]) },
    );
    await backend.dispose();
    // The callback runs on the JS thread after the worker posts it: let queued calls arrive.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(lines.length > 0, 'model loading logs at info level');
    assert.ok(lines.every(([level]) => level >= 1 && level <= 3));
    assert.ok(lines.some(([, text]) => /llama_model_loader|print_info|load_tensors/.test(text)));
    assert.ok(lines.every(([, text]) => !text.includes('\n') || text.endsWith('\n')));

    loadAddon(TEST_KERNEL_VARIANT).addon.setLogger(1, null);
    const before = lines.length;
    const quiet = await loadTestBackend({ preset: 'successor', weightType: 'f16' });
    await quiet.dispose();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, before);
  });
});
