import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testTokenizer } from '../testing/test-app.ts';
import { candidatesAt } from './candidates.ts';
import { chatLogprobContent } from './chat-logprobs.ts';
import { completionLogprobs, joinCompletionLogprobs } from './completion-logprobs.ts';
import { promptLogprobsField } from './prompt-logprobs.ts';
import { codePointLength, TokenTexts, utf8Bytes } from './token-texts.ts';

const texts = new TokenTexts(testTokenizer());
const A = 0x61;
const B = 0x62;
/** Two bytes that are not UTF-8 on their own: both decode to U+FFFD. */
const LONE_1 = 0xe2;
const LONE_2 = 0xe3;

function position(token: number, logprob: number, rank: number, top: [number, number][]) {
  return { token, logprob, rank, top: top.map(([t, lp]) => ({ token: t, logprob: lp })) };
}

describe('candidatesAt', () => {
  it("lists the position's token first, then the top tokens, each token once", () => {
    assert.deepEqual(
      candidatesAt(
        position(5, -3, 7, [
          [2, -0.1],
          [3, -0.2],
        ]),
      ),
      [
        { token: 5, logprob: -3, rank: 7 },
        { token: 2, logprob: -0.1, rank: 1 },
        { token: 3, logprob: -0.2, rank: 2 },
      ],
    );
    // The token is also second of the top: first place, the top entry's rank (a dict update).
    assert.deepEqual(
      candidatesAt(
        position(3, -0.2, 3, [
          [2, -0.1],
          [3, -0.2],
        ]),
      ),
      [
        { token: 3, logprob: -0.2, rank: 2 },
        { token: 2, logprob: -0.1, rank: 1 },
      ],
    );
  });
});

describe('token texts', () => {
  it('names tokens by their own decoded text or by id, and counts code points', () => {
    assert.equal(texts.name(A, false), 'a');
    assert.equal(texts.name(LONE_1, false), '\ufffd');
    assert.equal(texts.name(258, false), '<|im_end|>', 'special tokens keep their text');
    assert.equal(texts.name(A, true), 'token_id:97');
    assert.equal(codePointLength('a\u{1f600}b'), 3);
    assert.equal(codePointLength('\ud800x'), 2, 'a lone surrogate is one code point');
    assert.deepEqual(utf8Bytes('\ufffd'), [0xef, 0xbf, 0xbd]);
  });
});

describe('completionLogprobs', () => {
  it('gives k + 1 candidates, null for a position without logprobs, offsets from the names', () => {
    const lp = completionLogprobs(
      [A, LONE_1, B],
      [
        null,
        position(LONE_1, -Infinity, 259, [[LONE_2, -0.25]]),
        position(B, -0.5, 1, [[B, -0.5]]),
      ],
      { topCount: 1, texts, asIds: false },
      5,
    );
    assert.deepEqual(lp, {
      text_offset: [5, 6, 7],
      token_logprobs: [null, -9999, -0.5],
      tokens: ['a', '\ufffd', 'b'],
      // Position 1: the token (-inf) and the top one share the name U+FFFD: one key, later value.
      top_logprobs: [null, { '\ufffd': -0.25 }, { b: -0.5 }],
    });
  });

  it('names by id when asked, and joins chunks with offsets counted again from 0', () => {
    const first = completionLogprobs(
      [A],
      [position(A, -1, 2, [[B, -0.5]])],
      { topCount: 1, texts, asIds: true },
      0,
    );
    assert.deepEqual(first.tokens, ['token_id:97']);
    assert.deepEqual(first.top_logprobs, [{ 'token_id:97': -1, 'token_id:98': -0.5 }]);
    const second = completionLogprobs(
      [B],
      [position(B, -0.5, 1, [[B, -0.5]])],
      { topCount: 1, texts, asIds: true },
      1,
    );
    const joined = joinCompletionLogprobs([first, second]);
    assert.deepEqual(joined.text_offset, [0, 11], '"token_id:97" is 11 characters');
    assert.deepEqual(joined.tokens, ['token_id:97', 'token_id:98']);
    assert.deepEqual(joined.token_logprobs, [-1, -0.5]);
  });
});

describe('chatLogprobContent', () => {
  it('gives the first k candidates (the token first) with bytes', () => {
    const pos = position(A, -1, 2, [
      [B, -0.5],
      [A, -1],
    ]);
    assert.deepEqual(chatLogprobContent([A], [pos], { topCount: 2, texts, asIds: false }), [
      {
        token: 'a',
        logprob: -1,
        bytes: [97],
        top_logprobs: [
          { token: 'a', logprob: -1, bytes: [97] },
          { token: 'b', logprob: -0.5, bytes: [98] },
        ],
      },
    ]);
    const [asIds] = chatLogprobContent([A], [pos], { topCount: 0, texts, asIds: true });
    assert.deepEqual(asIds, {
      token: 'token_id:97',
      logprob: -1,
      bytes: [97],
      top_logprobs: [],
    });
  });
});

describe('promptLogprobsField', () => {
  it('maps token ids to logprob, rank and decoded text; the first position is null', () => {
    const field = promptLogprobsField(
      [
        null,
        position(B, -2, 4, [
          [A, -0.5],
          [B, -2],
        ]),
        position(A, -Infinity, 259, []),
      ],
      texts,
    );
    assert.deepEqual(field, [
      null,
      {
        '98': { logprob: -2, rank: 2, decoded_token: 'b' },
        '97': { logprob: -0.5, rank: 1, decoded_token: 'a' },
      },
      { '97': { logprob: -9999, rank: 259, decoded_token: 'a' } },
    ]);
  });
});
