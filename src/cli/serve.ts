// placeholder until the engine and app land
import type { ServeOptions } from './serve-options.ts';
export function serve(_options: ServeOptions): Promise<void> {
  return Promise.reject(new Error('not yet'));
}
