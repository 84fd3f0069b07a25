// Tokens of the IR text form (see print.ts for the grammar) and the error formatter. Every
// token carries its 1-based line:col and whether it is the first on its line (the parser
// resynchronises on that). Lexing never throws: bad characters become error records.

export type TokenKind = 'ident' | 'num' | 'str' | 'value' | 'node' | 'hash' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Decoded text: the name for value/node/str, the hex for hash, the spelling otherwise. */
  readonly text: string;
  readonly line: number;
  readonly col: number;
  /** First token on its line. */
  readonly bol: boolean;
}

export interface TextError {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

import { quoteName } from './text-data.ts';

const PUNCT = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '=', '<', '>', '-']);
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.]/;
const NAME_PART = /[A-Za-z0-9_.]/;
const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\n]|\\.)*"/y;

export function lex(src: string): { tokens: Token[]; errors: TextError[] } {
  const tokens: Token[] = [];
  const errors: TextError[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let lastLine = 0;
  const push = (kind: TokenKind, text: string, at: number): void => {
    tokens.push({ kind, text, line, col: at - lineStart + 1, bol: lastLine !== line });
    lastLine = line;
  };
  const err = (at: number, message: string): void => {
    errors.push({ line, col: at - lineStart + 1, message });
  };
  // Reads a JSON string literal at `at`; returns the decoded text and the end index.
  const readString = (at: number): { text: string; end: number } | undefined => {
    STRING.lastIndex = at;
    const m = STRING.exec(src);
    if (!m) { err(at, 'unterminated string (strings end on the same line)'); return undefined; }
    try {
      return { text: JSON.parse(m[0]) as string, end: at + m[0].length };
    } catch {
      err(at, `invalid escape in string ${m[0].slice(0, 40)}`);
      return { text: '', end: at + m[0].length };
    }
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '\n') { line++; lineStart = i + 1; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '/' && src[i + 1] === '/') { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (c === '%' || c === '@') {
      const kind = c === '%' ? 'value' : 'node';
      if (src[i + 1] === '"') {
        const s = readString(i + 1);
        if (s) { push(kind, s.text, i); i = s.end; } else { i = skipLine(src, i); }
        continue;
      }
      let j = i + 1;
      while (j < src.length && NAME_PART.test(src[j] as string)) j++;
      if (j === i + 1) { err(i, `'${c}' must be followed by a name or a quoted string`); i++; continue; }
      push(kind, src.slice(i + 1, j), i);
      i = j;
      continue;
    }
    if (c === '#') {
      let j = i + 1;
      while (j < src.length && /[0-9a-fA-F]/.test(src[j] as string)) j++;
      if (j === i + 1) { err(i, "'#' must be followed by hex digits"); i++; continue; }
      push('hash', src.slice(i + 1, j), i);
      i = j;
      continue;
    }
    if (c === '"') {
      const s = readString(i);
      if (s) { push('str', s.text, i); i = s.end; } else { i = skipLine(src, i); }
      continue;
    }
    if (/[0-9.]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src);
      if (m) { push('num', m[0], i); i += m[0].length; continue; }
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < src.length && IDENT_PART.test(src[j] as string)) j++;
      push('ident', src.slice(i, j), i);
      i = j;
      continue;
    }
    if (c === '-' && src[i + 1] === '>') { push('punct', '->', i); i += 2; continue; }
    if (PUNCT.has(c)) { push('punct', c, i); i++; continue; }
    err(i, `unexpected character ${JSON.stringify(c)}`);
    i++;
  }
  tokens.push({ kind: 'eof', text: '', line, col: i - lineStart + 1, bol: true });
  return { tokens, errors };
}

function skipLine(src: string, i: number): number {
  while (i < src.length && src[i] !== '\n') i++;
  return i;
}

/** `file:line:col: error: message` plus the source line and a caret, for each error. */
export function formatTextErrors(text: string, errors: readonly TextError[], file = '<text>'): string {
  const lines = text.split('\n');
  return errors.map((e) => {
    const src = (lines[e.line - 1] ?? '').replace(/\r$/, '');
    const shown = src.length > 160 ? `${src.slice(0, 160)}…` : src;
    const gutter = String(e.line).length;
    return `${file}:${e.line}:${e.col}: error: ${e.message}\n ${e.line} | ${shown}\n ${' '.repeat(gutter)} | ${' '.repeat(Math.min(e.col - 1, 160))}^`;
  }).join('\n');
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of input';
    case 'value': return `value %${quoteName(t.text)}`;
    case 'node': return `node name @${quoteName(t.text)}`;
    case 'str': return `string ${JSON.stringify(t.text)}`;
    case 'hash': return `#${t.text}`;
    default: return `'${t.text}'`;
  }
}
