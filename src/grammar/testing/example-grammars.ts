/**
 * Test-only: example languages written both in GBNF and in Lark, each with an independent judge
 * (a hand-written RegExp, JSON.parse or a small recognizer) and strings that must and must not
 * match. The GBNF, Lark and grammar-text tests check both parsers against them.
 *
 * Owns: that data and the judges; nothing in src imports it but tests.
 */

export interface ExampleGrammar {
  readonly name: string;
  readonly gbnf: string;
  readonly lark: string;
  /** Decides membership without the grammar code. */
  readonly judge: (text: string) => boolean;
  readonly members: readonly string[];
  readonly nonMembers: readonly string[];
  /** Whether the Lark text uses `/regex/` terminals. */
  readonly larkUsesRegex?: boolean;
}

/** `text` is a whole match of `regexp` (which must be anchored with ^ and $). */
const regexJudge =
  (regexp: RegExp) =>
  (text: string): boolean =>
    regexp.test(text);

/**
 * Arithmetic: expr = term (('+'|'-') term)*, term = factor (('*'|'/') factor)*,
 * factor = number | '(' expr ')' | '-' factor, number = digits ('.' digits)?.
 */
export function isArithmetic(text: string): boolean {
  let at = 0;
  const digits = (): boolean => {
    const start = at;
    while (at < text.length && text[at]! >= '0' && text[at]! <= '9') at++;
    return at > start;
  };
  const factor = (): boolean => {
    if (text[at] === '-') {
      at++;
      return factor();
    }
    if (text[at] === '(') {
      at++;
      if (!expr() || text[at] !== ')') return false;
      at++;
      return true;
    }
    if (!digits()) return false;
    if (text[at] === '.') {
      at++;
      return digits();
    }
    return true;
  };
  const chain = (item: () => boolean, operators: string): boolean => {
    if (!item()) return false;
    while (at < text.length && operators.includes(text[at]!)) {
      at++;
      if (!item()) return false;
    }
    return true;
  };
  const term = (): boolean => chain(factor, '*/');
  const expr = (): boolean => chain(term, '+-');
  return expr() && at === text.length;
}

/** Balanced `()` and `[]` with nothing else. */
export function isBalanced(text: string): boolean {
  const open: string[] = [];
  for (const c of text) {
    if (c === '(' || c === '[') open.push(c);
    else if (c === ')' || c === ']') {
      if (open.pop() !== (c === ')' ? '(' : '[')) return false;
    } else return false;
  }
  return open.length === 0;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const CSV_FIELD = '(?:[^,"\\r\\n]*|"(?:[^"]|"")*")';
const SAN_MOVE =
  '(?:(?:(?:[a-h]x)?[a-h][1-8](?:=[QRBN])?|[KQRBN][a-h]?[1-8]?x?[a-h][1-8]|O-O(?:-O)?)[+#]?)';

export const EXAMPLE_GRAMMARS: readonly ExampleGrammar[] = [
  {
    name: 'arithmetic',
    gbnf: String.raw`
# Arithmetic over decimal numbers, no spaces.
root   ::= expr
expr   ::= term (("+" | "-") term)*
term   ::= factor (("*" | "/") factor)*
factor ::= number | "(" expr ")" | "-" factor
number ::= [0-9]+ ("." [0-9]+)?
`,
    lark: String.raw`
// Arithmetic over decimal numbers, no spaces.
?start: expr
?expr: term (("+" | "-") term)*
?term: factor (("*" | "/") factor)*
?factor: NUMBER
       | "(" expr ")"
       | "-" factor -> neg
NUMBER: DIGIT+ ("." DIGIT+)?
%import common.DIGIT
`,
    judge: isArithmetic,
    members: ['1', '1+2*3', '(1+2)*3', '-(4/2)', '3.14*-2', '((7))', '10-2-3', '--1'],
    nonMembers: ['', '1+', '(1', '1..2', '1 + 2', '+1', '()', '1.', '.5', '2)'],
  },
  {
    name: 'JSON',
    gbnf: String.raw`
root    ::= ws value ws
value   ::= object | array | string | number | "true" | "false" | "null"
object  ::= "{" ws "}"
          | "{" ws member (ws "," ws member)* ws "}"
member  ::= string ws ":" ws value
array   ::= "[" ws "]" | "[" ws value (ws "," ws value)* ws "]"
string  ::= "\"" char* "\""
char    ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
number  ::= "-"? ("0" | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [-+]? [0-9]+)?
ws      ::= [ \t\n\r]*
`,
    lark: String.raw`
start: WS? value WS?
?value: object | array | STRING | NUMBER | "true" | "false" | "null"
object: "{" WS? "}"
      | "{" WS? pair (WS? "," WS? pair)* WS? "}"
pair: STRING WS? ":" WS? value
array: "[" WS? "]" | "[" WS? value (WS? "," WS? value)* WS? "]"
STRING: "\"" (CHAR | "\\" ESCAPE)* "\""
CHAR: " ".."!" | "#".."[" | "]".."\U0010FFFF"
ESCAPE: "\"" | "\\" | "/" | "b" | "f" | "n" | "r" | "t" | "u" HEXDIGIT ~ 4
NUMBER: "-"? ("0" | "1".."9" DIGIT*) ("." DIGIT+)? (("e" | "E") ("+" | "-")? DIGIT+)?
WS: (" " | "\t" | "\n" | "\r")+
%import common (DIGIT, HEXDIGIT)
`,
    judge: isJson,
    members: [
      '{}',
      ' [ ] ',
      '{"a": [1, -2.5e+3, true, null], "b": {"c": "d\\n\\u00e9"}}',
      '"\\"quoted\\""',
      '0',
      '[[[]]]',
    ],
    nonMembers: ['', '{', '[1,]', '{"a" 1}', '01', '1.', "'x'", '"\\x"', '"a\nb"', '\f1', 'nul'],
  },
  {
    name: 'list of items',
    gbnf: String.raw`
root ::= item{1,5}
item ::= "- " word (" " word)* "\n"
word ::= [a-z]+
`,
    lark: String.raw`
start: item ~ 1..5
item: "- " WORD (" " WORD)* "\n"
WORD: LCASE_LETTER+
%import common.LCASE_LETTER
`,
    judge: regexJudge(/^(?:- [a-z]+(?: [a-z]+)*\n){1,5}$/),
    members: ['- milk\n', '- two eggs\n- bread\n', '- a\n- b\n- c\n- d\n- e\n'],
    nonMembers: ['', '- milk', '-milk\n', '- Milk\n', '- a\n- b\n- c\n- d\n- e\n- f\n', '- a  b\n'],
  },
  {
    name: 'chess moves',
    gbnf: String.raw`
root   ::= move (" " move)*
move   ::= (pawn | piece | castle) ("+" | "#")?
pawn   ::= ([a-h] "x")? [a-h] [1-8] ("=" [QRBN])?
piece  ::= [KQRBN] [a-h]? [1-8]? "x"? [a-h] [1-8]
castle ::= "O-O" "-O"?
`,
    lark: String.raw`
start: move (" " move)*
move: (pawn | piece | castle) ["+" | "#"]
pawn: [FILE "x"] FILE RANK ["=" PROMOTION]
piece: PIECE FILE? RANK? "x"? FILE RANK
castle: "O-O" "-O"?
FILE: "a".."h"
RANK: "1".."8"
PIECE: "K" | PROMOTION
PROMOTION: "Q" | "R" | "B" | "N"
`,
    judge: regexJudge(new RegExp(`^${SAN_MOVE}(?: ${SAN_MOVE})*$`)),
    members: ['e4', 'e4 e5 Nf3 Nc6', 'exd5', 'e8=Q+', 'O-O-O#', 'Nbd7', 'R1xa3'],
    nonMembers: ['', 'e9', 'i4', 'Ke', 'O-O-O-O', 'e4  e5', 'e8=K', 'Nf3 '],
  },
  {
    name: 'CSV line',
    gbnf: String.raw`
root  ::= field ("," field)*
field ::= [^,"\r\n]* | "\"" ([^"] | "\"\"")* "\""
`,
    lark: String.raw`
start: field ("," field)*
field: UNQUOTED? | QUOTED
UNQUOTED: /[^,"\r\n]+/
QUOTED: /"([^"]|"")*"/
`,
    larkUsesRegex: true,
    judge: regexJudge(new RegExp(`^${CSV_FIELD}(?:,${CSV_FIELD})*$`, 'u')),
    members: ['', 'a,b,c', ',,', '"x, y",2', '"say ""hi"""', 'é,ü', '"multi\nline"'],
    nonMembers: ['"', 'a"b', '"x"y', 'a\nb', '"""', '"a",b"'],
  },
  {
    name: 'date',
    gbnf: String.raw`
root  ::= year "-" month "-" day
year  ::= [0-9]{4}
month ::= "0" [1-9] | "1" [0-2]
day   ::= "0" [1-9] | [12] [0-9] | "3" [01]
`,
    lark: String.raw`
start: YEAR "-" MONTH "-" DAY
YEAR: DIGIT ~ 4
MONTH: /0[1-9]|1[0-2]/
DAY: /0[1-9]|[12]\d|3[01]/
%import common.DIGIT
`,
    larkUsesRegex: true,
    judge: regexJudge(/^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$/),
    members: ['2024-02-29', '1999-12-31', '0000-01-01', '2030-10-20'],
    nonMembers: [
      '',
      '2024-13-01',
      '2024-00-10',
      '2024-01-32',
      '24-01-01',
      '2024-1-01',
      '2024/01/01',
    ],
  },
  {
    name: 'nested parentheses',
    gbnf: String.raw`
root  ::= group*
group ::= "(" root ")" | "[" root "]"
`,
    lark: String.raw`
start: group*
group: "(" start ")"
     | "[" start "]"
`,
    judge: isBalanced,
    members: ['', '()', '([])', '()[]((()))', '[()()]'],
    nonMembers: ['(', ')(', '([)]', '(]', '(()', 'a'],
  },
];
