/**
 * Lark grammars (the subset vLLM and outlines users write), compiled to the grammar IR.
 *
 * Owns: Lark's syntax above the tokens. `start` is the start rule; definitions are rules
 * `name: alternatives` (lowercase; the `?` and `!` prefixes only shape Lark's parse tree and are
 * ignored) and terminals `NAME: ...` (uppercase); priorities `.n` and aliases `-> name` are
 * ignored. Expressions: string literals, `/regex/` terminals, `"a".."z"` ranges, references,
 * `( )`, `[ ]` (optional), `*`, `+`, `?`, `~ n` and `~ n..m`, and `%import common.NAME` (also
 * `-> ALIAS` and `common (A, B)`) for the terminals in lark-common.ts.
 *
 * Refused, with a GrammarError: `%ignore` (we generate exactly the text the grammar describes,
 * so ignored whitespace must be written into the rules), other directives, imports from other
 * modules, rule templates, literal flags (`"..."i`) and regex flags.
 */
import {
  alt,
  chars,
  type Expr,
  type Grammar,
  GrammarError,
  literal,
  optional,
  plus,
  ref,
  repeat,
  seq,
  star,
} from '../grammar-ir.ts';
import { reachableGrammar } from '../reachable-rules.ts';
import { regexToExpr } from '../regex/parse-regex.ts';
import { SourceText } from '../source-text.ts';
import { COMMON_TERMINAL_NAMES, commonTerminal } from './lark-common.ts';
import { describeToken, isTerminalName, type LarkToken, lexLark } from './lark-lexer.ts';

/**
 * Compiles a Lark grammar to the IR; its start rule is `start`.
 *
 * @throws GrammarError for a syntax error, an unsupported feature, a name defined twice, an
 *   undefined name or a missing `start` (with the line and column where one applies).
 */
export function larkToGrammar(source: string): Grammar {
  return new LarkParser(source).parse();
}

const START_RULE = 'start';

/** Deepest nesting of `( )` and `[ ]` groups (as the regex front end allows). */
const MAX_GROUP_DEPTH = 200;

class LarkParser {
  readonly #text: SourceText;
  readonly #tokens: readonly LarkToken[];
  #index = 0;
  /** Groups open at the read position. */
  #depth = 0;
  readonly #definitions = new Map<string, Expr>();
  /** Every reference with where it was written, checked once all definitions are known. */
  readonly #references: { name: string; at: number }[] = [];

  constructor(source: string) {
    this.#text = new SourceText(source);
    this.#tokens = lexLark(this.#text);
  }

  parse(): Grammar {
    for (;;) {
      const token = this.#peek();
      if (token.kind === 'end') break;
      if (token.kind === 'nl') this.#index++;
      else if (token.kind === 'directive') this.#directive();
      else this.#definition();
    }
    for (const { name, at } of this.#references) {
      if (!this.#definitions.has(name)) {
        const kind = isTerminalName(name) ? 'terminal' : 'rule';
        throw this.#text.error(`undefined ${kind} "${name}"`, at);
      }
    }
    if (!this.#definitions.has(START_RULE)) {
      throw new GrammarError(`grammar: there is no "${START_RULE}" rule (the start rule)`);
    }
    return reachableGrammar(START_RULE, this.#definitions);
  }

  #peek(): LarkToken {
    return this.#tokens[this.#index]!;
  }

  #isOp(text: string): boolean {
    const token = this.#peek();
    return token.kind === 'op' && token.text === text;
  }

  #eatOp(text: string): boolean {
    const found = this.#isOp(text);
    if (found) this.#index++;
    return found;
  }

  #unexpected(token = this.#peek(), expected = ''): GrammarError {
    const suffix = expected === '' ? '' : `, expected ${expected}`;
    return this.#text.error(`unexpected ${describeToken(token)}${suffix}`, token.at);
  }

  #expectName(expected: string): Extract<LarkToken, { kind: 'name' }> {
    const token = this.#peek();
    if (token.kind !== 'name') throw this.#unexpected(token, expected);
    this.#index++;
    return token;
  }

  #endOfLine(): void {
    const token = this.#peek();
    if (token.kind === 'nl' || token.kind === 'end') return;
    throw this.#unexpected(token);
  }

  #define(name: string, body: Expr, at: number): void {
    if (this.#definitions.has(name)) {
      throw this.#text.error(`"${name}" is defined more than once`, at);
    }
    this.#definitions.set(name, body);
  }

  /** `[?!]name[.priority]: alternatives` up to the line end. */
  #definition(): void {
    while (this.#eatOp('?') || this.#eatOp('!'));
    const nameToken = this.#expectName('a rule or terminal name');
    if (this.#isOp('{')) {
      throw this.#text.error('rule templates are not supported', this.#peek().at);
    }
    if (this.#eatOp('.')) {
      const priority = this.#peek();
      if (priority.kind !== 'number') throw this.#unexpected(priority, 'a priority number');
      this.#index++;
    }
    if (!this.#eatOp(':')) throw this.#unexpected(this.#peek(), `":" after "${nameToken.text}"`);
    const body = this.#alternatives();
    this.#endOfLine();
    this.#define(nameToken.text, body, nameToken.at);
  }

  #alternatives(): Expr {
    const items = [this.#alias()];
    for (;;) {
      const token = this.#peek();
      if (token.kind === 'or' || (token.kind === 'op' && token.text === '|')) this.#index++;
      else break;
      items.push(this.#alias());
    }
    return alt(...items);
  }

  /** A sequence and its ignored `-> alias`. */
  #alias(): Expr {
    const expansion = this.#sequence();
    if (this.#eatOp('->')) this.#expectName('an alias name');
    return expansion;
  }

  #sequence(): Expr {
    const items: Expr[] = [];
    for (;;) {
      const token = this.#peek();
      const startsAtom =
        token.kind === 'name' ||
        token.kind === 'string' ||
        token.kind === 'regex' ||
        (token.kind === 'op' && (token.text === '(' || token.text === '['));
      if (!startsAtom) return seq(...items);
      items.push(this.#quantified(this.#atom()));
    }
  }

  /** `item` under at most one quantifier: `*`, `+`, `?`, `~ n` or `~ n..m`. */
  #quantified(item: Expr): Expr {
    if (this.#eatOp('*')) return star(item);
    if (this.#eatOp('+')) return plus(item);
    if (this.#eatOp('?')) return optional(item);
    const at = this.#peek().at;
    if (!this.#eatOp('~')) return item;
    const min = this.#count();
    const max = this.#eatOp('..') ? this.#count() : min;
    if (max < min) {
      throw this.#text.error(
        `invalid repetition ~ ${min}..${max}: the maximum is less than the minimum`,
        at,
      );
    }
    return repeat(item, min, max);
  }

  #count(): number {
    const token = this.#peek();
    if (token.kind !== 'number' || token.value < 0) throw this.#unexpected(token, 'a count');
    this.#index++;
    return token.value;
  }

  #atom(): Expr {
    const token = this.#peek();
    this.#index++;
    switch (token.kind) {
      case 'name':
        this.#references.push({ name: token.text, at: token.at });
        return ref(token.text);
      case 'string':
        return this.#literalOrRange(token);
      case 'regex':
        return this.#regex(token);
      case 'op': {
        const close = token.text === '(' ? ')' : ']';
        // The IR and its lowering recurse once per group: a deeper nesting would overflow the stack.
        if (++this.#depth > MAX_GROUP_DEPTH) {
          throw this.#text.error(
            `groups nested deeper than ${MAX_GROUP_DEPTH} are not supported`,
            token.at,
          );
        }
        const inner = this.#alternatives();
        this.#depth--;
        if (!this.#eatOp(close)) {
          const next = this.#peek();
          if (next.kind !== 'nl' && next.kind !== 'end') throw this.#unexpected(next, `"${close}"`);
          throw this.#text.error(`unclosed "${token.text}"`, token.at);
        }
        return token.text === '(' ? inner : optional(inner);
      }
      case 'number':
      case 'directive':
      case 'or':
      case 'nl':
      case 'end':
        throw this.#unexpected(token);
    }
  }

  #literalOrRange(token: Extract<LarkToken, { kind: 'string' }>): Expr {
    if (!this.#eatOp('..')) return literal(token.value);
    const end = this.#peek();
    if (end.kind !== 'string') throw this.#unexpected(end, 'a string ending the range');
    this.#index++;
    const from = Array.from(token.value);
    const to = Array.from(end.value);
    if (from.length !== 1 || to.length !== 1) {
      throw this.#text.error('a range "a".."z" needs one character at each end', token.at);
    }
    const [low, high] = [from[0]!.codePointAt(0)!, to[0]!.codePointAt(0)!];
    if (high < low) throw this.#text.error('range end comes before its start', token.at);
    return chars([[low, high]]);
  }

  #regex(token: Extract<LarkToken, { kind: 'regex' }>): Expr {
    try {
      return regexToExpr(token.pattern);
    } catch (error) {
      if (!(error instanceof GrammarError)) throw error;
      throw this.#text.error(`in ${token.source}: ${error.message}`, token.at);
    }
  }

  /** `%import common.NAME [-> ALIAS]` or `%import common (A, B)`; other directives refused. */
  #directive(): void {
    const directive = this.#peek() as Extract<LarkToken, { kind: 'directive' }>;
    this.#index++;
    if (directive.text === '%ignore') {
      throw this.#text.error(
        '%ignore is not supported: the output is exactly the text the grammar describes, so ' +
          'write optional whitespace into the rules where it may appear',
        directive.at,
      );
    }
    if (directive.text !== '%import') {
      throw this.#text.error(`${directive.text} is not supported`, directive.at);
    }
    const module = this.#peek();
    if (module.kind !== 'name' || module.text !== 'common') {
      throw this.#text.error('only imports from Lark\'s "common" module are supported', module.at);
    }
    this.#index++;
    const imports: { name: Extract<LarkToken, { kind: 'name' }>; as: string }[] = [];
    if (this.#eatOp('(')) {
      do {
        const name = this.#expectName('a terminal name');
        imports.push({ name, as: name.text });
      } while (this.#eatOp(','));
      if (!this.#eatOp(')')) throw this.#unexpected(this.#peek(), '")"');
    } else {
      if (!this.#eatOp('.')) throw this.#unexpected(this.#peek(), '"." and a terminal name');
      const name = this.#expectName('a terminal name');
      const as = this.#eatOp('->') ? this.#expectName('an alias name').text : name.text;
      imports.push({ name, as });
    }
    this.#endOfLine();
    for (const { name, as } of imports) {
      const body = commonTerminal(name.text);
      if (body === undefined) {
        throw this.#text.error(
          `"common.${name.text}" is not supported; the supported terminals are ` +
            COMMON_TERMINAL_NAMES.join(', '),
          name.at,
        );
      }
      this.#define(as, body, name.at);
    }
  }
}
