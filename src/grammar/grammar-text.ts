/**
 * vLLM's `structured_outputs.grammar` (and `guided_grammar`) text: GBNF or Lark.
 *
 * Owns: telling the two syntaxes apart (GBNF when a line defines a rule with `::=`, otherwise
 * Lark) and refusing a blank grammar.
 */
import { gbnfToGrammar } from './gbnf/parse-gbnf.ts';
import { type Grammar, GrammarError } from './grammar-ir.ts';
import { larkToGrammar } from './lark/parse-lark.ts';

/** A line that starts with `name ::=`: a GBNF rule definition. */
const GBNF_RULE = /^[ \t]*[A-Za-z0-9_-]+[ \t]*::=/m;

/**
 * Compiles a grammar text: GBNF (start rule `root`) when it has a `name ::=` rule definition,
 * otherwise Lark (start rule `start`).
 *
 * @throws GrammarError for a blank text or anything the chosen parser refuses.
 */
export function grammarFromText(source: string): Grammar {
  if (source.trim() === '') throw new GrammarError('grammar cannot be an empty string');
  return GBNF_RULE.test(source) ? gbnfToGrammar(source) : larkToGrammar(source);
}
