/**
 * Structured outputs through the engine, on the scripted successor model (logit 5 on the
 * successor of the last token, 0 elsewhere): greedy under a grammar takes the successor when the
 * grammar allows it, else the lowest allowed id; end-of-generation tokens only once the output is
 * a whole member. Random draws are checked against a RegExp of the same language.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGrammar } from '../grammar/automaton/byte-nfa.ts';
import { alt, chars, grammarOf, literal, repeat, seq } from '../grammar/grammar-ir.ts';
import type { SamplingParams } from './engine-types.ts';
import {
  bytesOf,
  collect,
  EOS,
  params,
  StrictBackend,
  successorLogits,
  textOf,
} from './engine-test-fixtures.ts';
import { LlmEngine } from './llm-engine.ts';
import {
  GrammarMatchers,
  MATCHER_CACHE_BYTES,
  MAX_MATCHER_CONFIGURATIONS,
  MAX_MATCHERS,
} from './structured-output.ts';

/** The fake model's end-of-generation tokens: <|endoftext|> and <|im_end|>. */
const END_TOKENS = [EOS, 258];
const choices = compileGrammar(grammarOf(alt(literal('bcd'), literal('xyz'))));
const digits = compileGrammar(grammarOf(seq(repeat(chars([[0x30, 0x39]]), 1, 3), literal('!'))));

async function generate(prompt: string, overrides: Partial<SamplingParams>, count = 1) {
  const backend = new StrictBackend({ logits: successorLogits() });
  const engine = new LlmEngine(backend, {
    maxModelLen: 64,
    maxNumSeqs: 4,
    maxNumBatchedTokens: 64,
  });
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      collect(
        engine.add({
          id: `r${i}`,
          promptTokens: bytesOf(prompt),
          params: params({ ...overrides, seed: BigInt(i + 1) }),
        }),
      ),
    ),
  );
  await engine.whenIdle();
  engine.resetPrefixCache();
  assert.equal(backend.fake.kv.usedCells(), 0);
  return results;
}

describe('LlmEngine structured outputs', { timeout: 20_000 }, () => {
  it('greedy follows the successor where the grammar allows it and ends with EOS once complete', async () => {
    const [result] = await generate('a', { maxTokens: 10, structuredOutput: choices });
    assert.equal(textOf(result!.tokenIds.slice(0, -1)), 'bcd');
    assert.equal(result!.tokenIds.at(-1), EOS);
    assert.equal(result!.final.finishReason, 'stop');
  });

  it('takes the lowest allowed token when the successor is not allowed', async () => {
    // After 'm' the successor 'n' is masked; 'b' (0x62) and 'x' (0x78) both have logit 0.
    const [result] = await generate('m', { maxTokens: 10, structuredOutput: choices });
    assert.equal(textOf(result!.tokenIds.slice(0, -1)), 'bcd');
  });

  it('random draws at temperature 1 are always members of the language', async () => {
    const results = await generate(
      'a',
      { temperature: 1, maxTokens: 8, structuredOutput: digits },
      4,
    );
    for (let round = 0; round < 5; round++) {
      results.push(
        ...(await generate('q', { temperature: 1, maxTokens: 8, structuredOutput: digits }, 4)),
      );
    }
    const seen = new Set<string>();
    for (const result of results) {
      assert.equal(result.final.finishReason, 'stop');
      assert.ok(END_TOKENS.includes(result.tokenIds.at(-1)!));
      const text = textOf(result.tokenIds.slice(0, -1));
      assert.match(text, /^[0-9]{1,3}!$/);
      seen.add(text);
    }
    assert.ok(seen.size > 1, 'draws differ');
  });

  it('a complete output is followed by end tokens while min_tokens holds the stop back', async () => {
    // The grammar allows only end tokens after 'bcd'; min_tokens masks them; the grammar wins,
    // and the output processor stops at the first end token once min_tokens are reached.
    const [result] = await generate('a', {
      maxTokens: 10,
      minTokens: 6,
      structuredOutput: choices,
    });
    assert.equal(textOf(result!.tokenIds.slice(0, 3)), 'bcd');
    assert.deepEqual(result!.tokenIds.slice(3), [EOS, EOS, EOS]);
    assert.equal(result!.final.finishReason, 'stop');
  });

  it('with ignore_eos only end tokens follow a finished output, up to max_tokens', async () => {
    const [result] = await generate('a', {
      maxTokens: 6,
      ignoreEos: true,
      structuredOutput: choices,
    });
    assert.equal(textOf(result!.tokenIds.slice(0, 3)), 'bcd');
    assert.equal(result!.tokenIds.length, 6);
    assert.equal(result!.final.finishReason, 'length');
    // Only the model's end tokens (EOS 256, <|im_end|> 258) after the output is complete.
    for (const token of result!.tokenIds.slice(3))
      assert.ok(token === EOS || token === 258, String(token));
  });

  it('cuts a constrained output at max_tokens with finish reason length', async () => {
    const [result] = await generate('a', { maxTokens: 2, structuredOutput: choices });
    assert.equal(textOf(result!.tokenIds), 'bc');
    assert.equal(result!.final.finishReason, 'length');
  });
});

describe('GrammarMatchers', () => {
  it('gives new cursors a fresh matcher once one has interned too many configurations', () => {
    const backend = new StrictBackend({ logits: successorLogits() });
    const matchers = new GrammarMatchers(backend.info, backend.tokenizer);
    // Each count of 'a's is a configuration of its own.
    const grammar = compileGrammar(
      grammarOf(repeat(literal('a'), 0, MAX_MATCHER_CONFIGURATIONS + 50)),
    );
    const first = matchers.matcher(grammar);
    const cursor = matchers.cursor(grammar);
    for (let i = 0; i < MAX_MATCHER_CONFIGURATIONS + 10; i++) cursor.advance(0x61);
    assert.ok(first.cacheSizes.configurations >= MAX_MATCHER_CONFIGURATIONS);
    const second = matchers.matcher(grammar);
    assert.notEqual(second, first);
    assert.equal(second.cacheSizes.configurations, 1);
    // The cursor in flight keeps its matcher and goes on.
    cursor.advance(0x61);
    assert.equal(cursor.complete, true);
    assert.equal(matchers.matcher(grammar), second);
  });

  it('keeps at most MAX_MATCHERS grammars and MATCHER_CACHE_BYTES of caches, dropping the least recently used', () => {
    const backend = new StrictBackend({ logits: successorLogits() });
    const matchers = new GrammarMatchers(backend.info, backend.tokenizer);
    const grammars = Array.from({ length: MAX_MATCHERS + 6 }, (_, i) =>
      compileGrammar(grammarOf(literal(`choice ${i}`))),
    );
    for (const grammar of grammars) matchers.matcher(grammar);
    assert.equal(matchers.matcherCount, MAX_MATCHERS);
    const kept = matchers.matcher(grammars.at(-1)!);
    assert.equal(matchers.matcher(grammars.at(-1)!), kept, 'a recent grammar keeps its matcher');
    // Grammars whose caches grow large: each count of 'a's is a configuration (about 1.3 KB).
    const perGrammar = 4_000;
    const big = Array.from({ length: 8 }, (_, i) =>
      compileGrammar(grammarOf(seq(literal(String(i)), repeat(literal('a'), 0, perGrammar + 10)))),
    );
    for (const [i, grammar] of big.entries()) {
      const cursor = matchers.cursor(grammar);
      cursor.advance(0x30 + i);
      for (let j = 0; j < perGrammar; j++) cursor.advance(0x61);
    }
    // 8 x 4,000 configurations are about 42 MB: the oldest went once past the budget.
    matchers.matcher(big.at(-1)!);
    assert.ok(matchers.cacheBytes <= MATCHER_CACHE_BYTES, `${matchers.cacheBytes} bytes`);
    assert.ok(matchers.cacheBytes > MATCHER_CACHE_BYTES / 2, 'the budget is used, not emptied');
    assert.ok(matchers.matcherCount < MAX_MATCHERS, `${matchers.matcherCount} matchers`);
  });
});
