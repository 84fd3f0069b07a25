// Tokens of the .abit language. Keywords are declared with `longer_alt: Ident` so `letter` is
// an identifier, not `let` + `ter`. `//` followed by whitespace, `/` or end of line starts a
// comment; `//` glued to its right operand (`c //2`, `c//2`) is floor division — see README.

import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /\/\/(?![^\s/])[^\n]*/, group: Lexer.SKIPPED });

export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
const kw = (name: string, word: string): TokenType => createToken({ name, pattern: new RegExp(word), longer_alt: Ident });
export const Model = kw('Model', 'model');
export const Block = kw('Block', 'block');
export const Let = kw('Let', 'let');
export const Param = kw('Param', 'param');
export const Repeat = kw('Repeat', 'repeat');
export const In = kw('In', 'in');
export const Return = kw('Return', 'return');
export const Import = kw('Import', 'import');
export const As = kw('As', 'as');
export const True = kw('True', 'true');
export const False = kw('False', 'false');

export const Float = createToken({ name: 'Float', pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/ });
export const Int = createToken({ name: 'Int', pattern: /\d+/ });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/ });

export const Arrow = createToken({ name: 'Arrow', pattern: /->/ });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
export const FloorDiv = createToken({ name: 'FloorDiv', pattern: /\/\// });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const At = createToken({ name: 'At', pattern: /@/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /}/ });

// Order matters: comments before `//`, keywords before identifiers, floats before ints.
export const ALL_TOKENS: TokenType[] = [
  WhiteSpace, Comment,
  Model, Block, Let, Param, Repeat, In, Return, Import, As, True, False, Ident,
  Float, Int, StringLit,
  Arrow, DotDot, Dot, FloorDiv, Slash, Star, Plus, Minus, Equals, Colon, Comma, At,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace,
];

export const abitLexer = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: false });
