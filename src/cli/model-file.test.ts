/**
 * The model file's checks and the rewording of llama.cpp's load failures into one line (the
 * real process is tested in test/model-file-faults.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelFileError, modelLoadError } from './model-file.ts';

const PATH = '/models/m.gguf';

describe('model load errors', () => {
  it("keep llama.cpp's reasons, without function names and boilerplate", () => {
    const error = modelLoadError(
      PATH,
      new Error(
        `loadModel: llama.cpp could not load '${PATH}': llama_model_load: error loading model: ` +
          "unknown model architecture: 'nosuch'; llama_model_load_from_file_impl: failed to load model",
      ),
    );
    assert.ok(error instanceof ModelFileError);
    assert.equal(
      error.message,
      `cannot load model '${PATH}': unknown model architecture: 'nosuch'`,
    );
  });

  it('say when a read ran past the end of the file', () => {
    const error = modelLoadError(
      PATH,
      new Error(
        `loadModel: llama.cpp could not load '${PATH}': read: string length 28 exceeds remaining ` +
          'file size 8 bytes; gguf_init_from_reader: failed to read key-value pairs; ' +
          `llama_model_load: error loading model: llama_model_loader: failed to load model from ${PATH}`,
      ),
    ) as Error;
    assert.equal(
      error.message,
      `cannot load model '${PATH}': string length 28 exceeds remaining file size 8 bytes; ` +
        'failed to read key-value pairs (the file is truncated or corrupted)',
    );
  });

  it('are one line even without a reason, and leave other errors alone', () => {
    const bare = modelLoadError(PATH, new Error(`loadModel: llama.cpp could not load '${PATH}'`));
    assert.equal(
      (bare as Error).message,
      `cannot load model '${PATH}': llama.cpp could not load it`,
    );
    const other = new Error('createContext: out of memory');
    assert.equal(modelLoadError(PATH, other), other);
    assert.equal(new ModelFileError(PATH, 'a\nb').message.includes('\n'), false);
  });
});
