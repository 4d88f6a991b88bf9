/**
 * vLLM's `structured_outputs.choice` (and `guided_choice`): the output is exactly one of the
 * given strings.
 *
 * Owns: that grammar and the refusal of an empty list.
 */
import { alt, type Grammar, GrammarError, grammarOf, literal } from './grammar-ir.ts';

/**
 * The grammar whose language is exactly the strings of `choices`.
 *
 * @throws GrammarError when `choices` is empty.
 */
export function choiceGrammar(choices: readonly string[]): Grammar {
  if (choices.length === 0) throw new GrammarError("Choice '[]' cannot be an empty list");
  return grammarOf(alt(...choices.map(literal)));
}
