// Compile-time values of the .abit elaborator: integers (model parameters, dims), floats,
// strings, booleans, lists, symbolic dims (unbound input dims) and tensors (IR value names).
// `err` is a poison value: an expression that already produced a diagnostic yields it, and
// everything computed from it stays silent, so one mistake gives one message.

import type { AttrValue } from '../src/ir/graph.ts';

export type Val =
  | { readonly k: 'int'; readonly v: number }
  | { readonly k: 'float'; readonly v: number }
  | { readonly k: 'str'; readonly v: string }
  | { readonly k: 'bool'; readonly v: boolean }
  | { readonly k: 'list'; readonly items: readonly Val[] }
  | { readonly k: 'dim'; readonly name: string }
  | { readonly k: 'tensor'; readonly v: string }
  | { readonly k: 'err' };

export const ERR: Val = { k: 'err' };
export const int = (v: number): Val => ({ k: 'int', v });

export function describe(v: Val): string {
  switch (v.k) {
    case 'int': return `integer ${v.v}`;
    case 'float': return `number ${v.v}`;
    case 'str': return `string ${JSON.stringify(v.v)}`;
    case 'bool': return `boolean ${v.v}`;
    case 'list': return `list of ${v.items.length}`;
    case 'dim': return `unbound dimension '${v.name}'`;
    case 'tensor': return `tensor '${v.v}'`;
    case 'err': return 'an erroneous value';
  }
}

export function containsErr(v: Val): boolean {
  return v.k === 'err' || (v.k === 'list' && v.items.some(containsErr));
}

/** Integer/float arithmetic; a string is an error message. Tensors are handled by the caller. */
export function scalarArith(op: string, a: Val, b: Val): Val | string {
  if (a.k === 'dim' || b.k === 'dim') {
    const d = a.k === 'dim' ? a.name : (b as { name: string }).name;
    return `dimension '${d}' is not known at compile time; bind the input shape (e.g. --input x=1x3x64x64)`;
  }
  const num = (x: Val): x is { k: 'int' | 'float'; v: number } => x.k === 'int' || x.k === 'float';
  if (!num(a) || !num(b)) return `cannot apply '${op}' to ${describe(a)} and ${describe(b)}`;
  const bothInt = a.k === 'int' && b.k === 'int';
  switch (op) {
    case '+': return { k: bothInt ? 'int' : 'float', v: a.v + b.v };
    case '-': return { k: bothInt ? 'int' : 'float', v: a.v - b.v };
    case '*': return { k: bothInt ? 'int' : 'float', v: a.v * b.v };
    case '/':
      if (b.v === 0) return 'division by zero';
      return bothInt && a.v % b.v === 0 ? int(a.v / b.v) : { k: 'float', v: a.v / b.v };
    case '//':
      if (b.v === 0) return 'division by zero';
      return { k: bothInt ? 'int' : 'float', v: Math.floor(a.v / b.v) };
    default: return `unknown operator '${op}'`;
  }
}

export interface AttrError { readonly error: string }

export function isAttrError(a: AttrValue | AttrError): a is AttrError {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && 'error' in a;
}

/** A value as an op attribute of the given kind, or an error message. */
export function toAttr(v: Val, kind: string): AttrValue | AttrError {
  const r = toAttrOrMessage(v, kind);
  return r.ok ? r.value : { error: r.message };
}

function toAttrOrMessage(v: Val, kind: string): { ok: true; value: AttrValue } | { ok: false; message: string } {
  const ok = (value: AttrValue): { ok: true; value: AttrValue } => ({ ok: true, value });
  const bad = (message: string): { ok: false; message: string } => ({ ok: false, message });
  const intOf = (x: Val): number | string => (x.k === 'int' ? x.v : x.k === 'dim' ? `dimension '${x.name}' is not bound` : `expected an integer, got ${describe(x)}`);
  const numOf = (x: Val): number | string => (x.k === 'int' || x.k === 'float' ? x.v : `expected a number, got ${describe(x)}`);
  const listOf = (f: (x: Val) => number | string): number[] | string => {
    if (v.k !== 'list') return `expected a list, got ${describe(v)}`;
    const out: number[] = [];
    for (const it of v.items) {
      const n = f(it);
      if (typeof n === 'string') return n;
      out.push(n);
    }
    return out;
  };
  const wrap = (r: number | number[] | string): { ok: true; value: AttrValue } | { ok: false; message: string } => (typeof r === 'string' ? bad(r) : ok(r));
  switch (kind) {
    case 'int': return wrap(intOf(v));
    case 'float': return wrap(numOf(v));
    case 'ints': return wrap(listOf(intOf));
    case 'floats': return wrap(listOf(numOf));
    case 'string': return v.k === 'str' ? ok(v.v) : bad(`expected a string, got ${describe(v)}`);
    case 'bool': return v.k === 'bool' ? ok(v.v) : v.k === 'int' && (v.v === 0 || v.v === 1) ? ok(v.v === 1) : bad(`expected true or false, got ${describe(v)}`);
    default: return bad(`unsupported attribute kind '${kind}'`);
  }
}

/** Closest candidate by edit distance, for "did you mean" notes. */
export function suggest(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}
