/**
 * The built-in demo model served when no MODEL is given: the successor model (each token is
 * followed by the next letter or digit; "abc" continues "defgh"), generated once into the model
 * cache. It proves the whole stack works without downloading anything; it is not a language model.
 *
 * Owns: where the demo comes from and the start-up notice that says what it is.
 */
import { ensureModel } from '../gguf/model-cache.ts';

export const DEMO_MODEL_NAME = 'servellm-demo';

/** Generate (first time) and return the demo model's path. */
export function ensureDemoModel(): Promise<string> {
  return ensureModel({ preset: 'successor', weightType: 'f16' });
}

export const DEMO_NOTICE = [
  'No MODEL given: serving the built-in demo model "servellm-demo".',
  'It is a tiny generated "successor" model (after "abc" it writes "defgh", after "5" it writes',
  '"6789." and stops), useful to check that clients and the server work, not a language model.',
  'To serve a real model: servellm serve /path/to/model.gguf',
].join('\n');
