// Source text -> AST plus diagnostics. Lexer and parser errors become Diagnostics with spans
// and compiler-style messages ("expected ')' to close call to conv2d"); all of them are
// returned, and the AST is produced only when there are none. Never throws on any input.

import type { IRecognitionException, IToken, TokenType } from 'chevrotain';
import { diag, type Diagnostic, type Span } from '../src/diag/diagnostic.ts';
import type { Program } from './ast.ts';
import { CstToAst } from './cst-to-ast.ts';
import { abitParser } from './parser.ts';
import { abitLexer } from './tokens.ts';

const SPELLING: Readonly<Record<string, string>> = {
  LParen: "'('", RParen: "')'", LBracket: "'['", RBracket: "']'", LBrace: "'{'", RBrace: "'}'", Comma: "','",
  Colon: "':'", Equals: "'='", Arrow: "'->'", DotDot: "'..'", Dot: "'.'", At: "'@'", Ident: 'a name',
  Int: 'an integer', Float: 'a number', StringLit: 'a string', EOF: 'end of file',
};

function spell(t: TokenType | undefined): string {
  if (!t) return 'something else';
  return SPELLING[t.name] ?? `'${t.name.toLowerCase()}'`;
}

function found(t: IToken): string {
  return t.tokenType.name === 'EOF' ? 'end of file' : `'${t.image}'`;
}

export interface ParseResult {
  readonly program: Program | null;
  readonly diagnostics: Diagnostic[];
}

export function parseAbit(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = abitLexer.tokenize(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(diag('syntax', `unexpected character ${JSON.stringify(ch)}`, { file, line: e.line ?? 1, col: e.column ?? 1, length: e.length }));
  }
  abitParser.input = lexed.tokens;
  const cst = abitParser.program();
  const tokens = lexed.tokens;
  // Recovery resyncs token by token, so one mistake can cascade into several errors on its
  // line (`f(a, b c=1, d=2)`); keep the first per line, a real second one shows after the fix.
  let lastLine = -1;
  for (const e of abitParser.errors) {
    const d = parseError(e, tokens, file, text);
    if (d.span.line === lastLine) continue;
    lastLine = d.span.line;
    diagnostics.push(d);
  }
  if (diagnostics.length) return { program: null, diagnostics };
  try {
    return { program: new CstToAst(file).program(cst), diagnostics };
  } catch (e) {
    // A recovered tree slipped through without a reported error: still never throw.
    diagnostics.push(diag('syntax', `malformed program (${(e as Error).message})`, { file, line: 1, col: 1, length: 1 }));
    return { program: null, diagnostics };
  }
}

function tokenSpan(t: IToken, tokens: readonly IToken[], file: string, text: string): Span {
  if (t.tokenType.name !== 'EOF' && Number.isFinite(t.startOffset)) {
    return { file, line: t.startLine ?? 1, col: t.startColumn ?? 1, length: t.image.length };
  }
  const last = tokens[tokens.length - 1];
  if (last) return { file, line: last.endLine ?? 1, col: (last.endColumn ?? 0) + 1, length: 1 };
  const lines = text.split('\n');
  return { file, line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1, length: 1 };
}

/** The callee of the innermost '(' still open before `pos`, for "to close call to f". */
function openCall(tokens: readonly IToken[], pos: number): string | null {
  let depth = 0;
  for (let i = pos - 1; i >= 0; i--) {
    const n = (tokens[i] as IToken).tokenType.name;
    if (n === 'RParen') depth++;
    else if (n === 'LParen') {
      if (depth === 0) {
        const prev = tokens[i - 1];
        return prev?.tokenType.name === 'Ident' ? prev.image : null;
      }
      depth--;
    }
  }
  return null;
}

function parseError(e: IRecognitionException, tokens: readonly IToken[], file: string, text: string): Diagnostic {
  const t = e.token;
  const idx = tokens.indexOf(t);
  const at = idx >= 0 ? idx : tokens.length;
  // Report a missing closer at the end of what it should follow, not at the next line's token.
  const prev = tokens[at - 1];
  let span = tokenSpan(t, tokens, file, text);
  const rules = e.context.ruleStack;
  const rule = rules[rules.length - 1] ?? '';
  if (e.name === 'MismatchedTokenException') {
    const m = /-->\s*(\w+)\s*<--/.exec(e.message);
    const expected = m?.[1];
    if (expected === 'RParen' && prev && prev.startLine !== t.startLine) span = { file, line: prev.endLine ?? 1, col: (prev.endColumn ?? 0) + 1, length: 1 };
    const what = expected ? SPELLING[expected] ?? `'${expected.toLowerCase()}'` : 'a token';
    if (expected === 'RParen') {
      const callee = openCall(tokens, at);
      if (callee && (rules.includes('argList') || rules.includes('declGroup'))) return diag('syntax', `expected ')' to close call to ${callee}, found ${found(t)}`, span);
    }
    if (expected === 'RBracket') return diag('syntax', `expected ']' to close the list, found ${found(t)}`, span);
    if (expected === 'RBrace') return diag('syntax', `unexpected ${found(t)}: expected a statement, or '}' to close the body`, span);
    return diag('syntax', `expected ${what}, found ${found(t)}`, span);
  }
  if (e.name === 'NoViableAltException') {
    const what = rule === 'topItem' ? "'model', 'block' or 'import'" : rule === 'statement' ? "a statement ('let', 'param', 'repeat', 'return' or NAME = ...)" : 'an expression';
    return diag('syntax', `expected ${what}, found ${found(t)}`, span);
  }
  if (e.name === 'NotAllInputParsedException') return diag('syntax', `expected 'model', 'block' or 'import', found ${found(t)}`, span);
  return diag('syntax', `${e.message.split('\n')[0] ?? 'syntax error'} (in ${rule})`, span, [], 'error');
}

export { spell };
