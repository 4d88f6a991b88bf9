/**
 * A model file that cannot be served makes the real `servellm serve` process print one clear
 * line on stderr and exit with code 1: a missing path, a directory, a file that is not GGUF, a
 * generated model cut short (in its header, and in its tensor data), and a GGUF whose
 * architecture llama.cpp does not know. No stack trace, no llama.cpp log, no crash.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ggufValue } from '../src/gguf/gguf-metadata.ts';
import { writeGgufFile } from '../src/gguf/gguf-writer.ts';
import { ensureModel } from '../src/gguf/model-cache.ts';
import { serveArgs, spawnServellm } from './support/serve-process.ts';

interface Fault {
  readonly name: string;
  readonly path: string;
  /** What the one line must say after "cannot load model '<path>': ". */
  readonly reason: RegExp;
}

describe('model file faults', () => {
  let folder: string;
  const faults: Fault[] = [];

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'servellm-faults-'));
    const model = readFileSync(await ensureModel({ preset: 'successor', weightType: 'f16' }));
    const file = (name: string, content: Uint8Array | string): string => {
      const path = join(folder, name);
      writeFileSync(path, content);
      return path;
    };
    const unknownArchitecture = join(folder, 'nosuch.gguf');
    await writeGgufFile(
      unknownArchitecture,
      [
        { key: 'general.architecture', value: ggufValue.string('nosuch') },
        { key: 'general.name', value: ggufValue.string('no such architecture') },
      ],
      [{ name: 'weight', type: 'f32', dims: [8], fillRow: (row) => row.fill(1) }],
    );
    const directory = join(folder, 'model-folder');
    mkdirSync(directory);
    faults.push(
      { name: 'a missing path', path: join(folder, 'missing.gguf'), reason: /^no such file$/ },
      { name: 'a directory', path: directory, reason: /^it is a directory/ },
      {
        name: 'a file that is not GGUF',
        path: file('notes.gguf', 'These are not the weights you are looking for.\n'),
        reason: /^not a GGUF file \(it does not start with "GGUF"\)$/,
      },
      {
        name: 'an empty file',
        path: file('empty.gguf', ''),
        reason: /^not a GGUF file \(it is empty\)$/,
      },
      {
        name: 'a model cut in its header',
        path: file('cut-header.gguf', model.subarray(0, 200)),
        reason: /truncated or corrupted/,
      },
      {
        name: 'a model cut in its tensor data',
        path: file('cut-data.gguf', model.subarray(0, model.length >> 1)),
        reason: /not within the file bounds, model is corrupted or incomplete$/,
      },
      {
        name: 'an unsupported architecture',
        path: unknownArchitecture,
        reason: /^unknown model architecture: 'nosuch'$/,
      },
    );
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('each gives one line on stderr naming the file and the reason, and exit code 1', async () => {
    // All at once: each process is short-lived.
    const runs = faults.map(async (fault) => {
      const server = spawnServellm(serveArgs(fault.path));
      let stderr = '';
      server.child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
      const exit = await server.exited();
      return { fault, exit, stderr, output: server.output() };
    });
    for (const { fault, exit, stderr, output } of await Promise.all(runs)) {
      assert.deepEqual(exit, { code: 1, signal: null }, `${fault.name}:\n${output}`);
      assert.equal(output, stderr, `${fault.name}: nothing on stdout`);
      const lines = stderr.split('\n');
      assert.equal(lines.length, 2, `${fault.name}: one line:\n${stderr}`);
      assert.equal(lines[1], '');
      const prefix = `servellm: cannot load model '${fault.path}': `;
      assert.ok(lines[0]!.startsWith(prefix), `${fault.name}: ${lines[0]}`);
      assert.match(lines[0]!.slice(prefix.length), fault.reason, fault.name);
    }
  });
});
