/**
 * Rendering an untrusted chat template (a request's own, with --trust-request-chat-template)
 * with the template engine's globals re-declared so none can exhaust memory: `range` refuses
 * more than MAX_RANGE_LENGTH items (vLLM's sandbox caps it at 100,000 too), where
 * @huggingface/jinja's would build an array of any length at once, faster than the time bound
 * of bounded-render.ts can stop it (`range(10**9)` killed the process out of memory).
 *
 * Owns: that render path (an Environment with our globals, then the items, then the
 * interpreter, as `Template.render` does) and the globals: the boolean and none constants,
 * `raise_exception`, `range`, and `strftime_now` (%Y %m %d %b %B %H %M %%, as the library's).
 */
import * as jinja from '@huggingface/jinja';
import type { Template } from '@huggingface/jinja';

// The package's declarations import its runtime module without an extension, which this
// project's module resolution does not follow: the two classes are typed here by what we use.
interface JinjaEnvironment {
  set(name: string, value: unknown): unknown;
}
interface JinjaInterpreter {
  run(program: Template['parsed']): { value: unknown };
}
const { Environment, Interpreter } = jinja as unknown as {
  Environment: new () => JinjaEnvironment;
  Interpreter: new (env: JinjaEnvironment) => JinjaInterpreter;
};

/** The most items `range` may produce in an untrusted template. */
export const MAX_RANGE_LENGTH = 100_000;

function cappedRange(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error('range() step must not be zero');
  const length = Math.max(0, Math.ceil((to - from) / step));
  if (!Number.isFinite(length) || length > MAX_RANGE_LENGTH) {
    throw new Error(`range() is limited to ${MAX_RANGE_LENGTH} items in a request's template`);
  }
  return Array.from({ length }, (_, i) => from + i * step);
}

function strftimeNow(format: string): string {
  const now = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return format.replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case '%Y':
        return String(now.getFullYear());
      case '%m':
        return pad(now.getMonth() + 1);
      case '%d':
        return pad(now.getDate());
      case '%b':
        return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(now);
      case '%B':
        return new Intl.DateTimeFormat(undefined, { month: 'long' }).format(now);
      case '%H':
        return pad(now.getHours());
      case '%M':
        return pad(now.getMinutes());
      default:
        return '%';
    }
  });
}

/** `template` rendered with `items`, under the capped globals. */
export function renderWithCappedGlobals(
  template: Template,
  items: Record<string, unknown>,
): string {
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (message: unknown) => {
      throw new Error(String(message));
    },
    range: cappedRange,
    strftime_now: strftimeNow,
  };
  // As Template.render: globals first, then the items (one that redeclares a global throws).
  for (const [key, value] of Object.entries(globals)) env.set(key, value);
  for (const [key, value] of Object.entries(items)) env.set(key, value);
  const result = new Interpreter(env).run(template.parsed);
  return result.value as string;
}
