import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choiceGrammar } from './choice.ts';
import { GrammarError } from './grammar-ir.ts';
import { randomMember } from './random-member.ts';
import { matchesGrammar } from './reference-matcher.ts';

describe('choiceGrammar', () => {
  it('matches exactly one of the strings', () => {
    const choices = ['yes', 'no', 'no way', '', 'é😀', 'a|b', '.*'];
    const grammar = choiceGrammar(choices);
    for (const text of choices) assert.ok(matchesGrammar(grammar, text), JSON.stringify(text));
    for (const text of ['yesno', 'ye', 'no way!', 'a', '..', 'x', 'é']) {
      assert.ok(!matchesGrammar(grammar, text), JSON.stringify(text));
    }
    const drawn = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const member = randomMember(grammar, { seed });
      assert.ok(member !== null && choices.includes(member), JSON.stringify(member));
      drawn.add(member);
    }
    assert.equal(drawn.size, choices.length);
  });

  it('refuses an empty list', () => {
    assert.throws(
      () => choiceGrammar([]),
      (error: unknown) =>
        error instanceof GrammarError && error.message === "Choice '[]' cannot be an empty list",
    );
  });
});
