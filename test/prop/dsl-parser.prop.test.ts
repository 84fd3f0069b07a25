// DSL parser properties: it never throws, whatever the input (random text, token soup,
// mutated real programs), and printing is a fixed point: for generated ASTs,
// parse(print(ast)) equals ast up to spans, and print(parse(print(ast))) == print(ast).

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stripSpans, type Annotation, type Arg, type Callable, type DeclItem, type Expr, type NamePattern, type Program, type Stmt } from '../../dsl/ast.ts';
import { parseAbit } from '../../dsl/parse.ts';
import { printProgram } from '../../dsl/printer.ts';
import type { Span } from '../../src/diag/diagnostic.ts';
import { fcParams } from './arbitraries.ts';

const S: Span = { file: 'gen.abit', line: 1, col: 1, length: 1 };
const KEYWORDS = new Set(['model', 'block', 'let', 'param', 'repeat', 'in', 'return', 'import', 'as', 'true', 'false']);
const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/).filter((s) => !KEYWORDS.has(s));

const expr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.nat({ max: 1_000_000 }).map((v): Expr => ({ k: 'int', v, span: S })),
    fc.double({ min: 0, max: 1e6, noNaN: true }).filter((v) => !Object.is(v, -0)).map((v): Expr => ({ k: 'float', v, text: '', span: S })),
    fc.stringMatching(/^[a-z0-9 _.]{0,8}$/).map((v): Expr => ({ k: 'str', v, span: S })),
    fc.boolean().map((v): Expr => ({ k: 'bool', v, span: S })),
    ident.map((name): Expr => ({ k: 'name', name, span: S })),
    fc.array(tie('e'), { maxLength: 3 }).map((items): Expr => ({ k: 'list', items, span: S })),
    fc.tuple(fc.constantFrom('+', '-', '*', '/', '//'), tie('e'), tie('e')).map(([op, l, r]): Expr => ({ k: 'bin', op: op as '+', l, r, span: S })),
    tie('e').map((e): Expr => ({ k: 'neg', e, span: S })),
    fc.tuple(ident, fc.array(fc.tuple(fc.option(ident, { nil: null }), tie('e')), { maxLength: 3 }), fc.option(fc.constant(0), { nil: null }), fc.array(fc.oneof(ident, tie('e')), { minLength: 1, maxLength: 3 }))
      .map(([callee, args, hasAs, pieces]): Expr => ({ k: 'call', callee, args: args.map(([name, value]): Arg => ({ name, value, span: S })), as: hasAs === null ? null : pattern(pieces), span: S })),
  ),
})).e;

/** Alternating text/expression pieces; text segments are identifiers joined by '.'. */
function pattern(pieces: (string | Expr)[]): NamePattern {
  const out: NamePattern['pieces'][number][] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (typeof p === 'string') {
      if (last?.k === 'text') out[out.length - 1] = { k: 'text', v: `${last.v}.${p}` };
      else out.push({ k: 'text', v: p });
    } else out.push({ k: 'expr', e: p });
  }
  return { pieces: out, span: S };
}

const annots: fc.Arbitrary<Annotation[]> = fc.array(
  fc.tuple(ident, fc.array(fc.tuple(fc.option(ident, { nil: null }), expr), { maxLength: 2 }))
    .map(([name, args]): Annotation => ({ name, args: args.map(([n, value]) => ({ name: n, value, span: S })), span: S })),
  { maxLength: 2 },
);

const stmt: fc.Arbitrary<Stmt> = fc.letrec<{ s: Stmt }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(ident, expr, annots).map(([name, value, a]): Stmt => ({ k: 'let', name, value, annots: a, span: S })),
    fc.tuple(ident, expr, annots).map(([name, value, a]): Stmt => ({ k: 'assign', name, value, annots: a, span: S })),
    fc.tuple(ident, fc.option(ident, { nil: null }), fc.array(expr, { maxLength: 3 }), annots)
      .map(([name, dtype, items, a]): Stmt => ({ k: 'param', name, dtype, shape: { k: 'list', items, span: S }, annots: a, span: S })),
    fc.tuple(fc.array(expr, { minLength: 1, maxLength: 2 }), annots).map(([values, a]): Stmt => ({ k: 'return', values, annots: a, span: S })),
    fc.tuple(ident, expr, expr, fc.array(tie('s'), { maxLength: 2 }), annots)
      .map(([v, from, to, body, a]): Stmt => ({ k: 'repeat', v, from, to, body, annots: a, span: S })),
  ),
})).s;

const decl: fc.Arbitrary<DeclItem> = fc.tuple(ident, fc.option(fc.tuple(ident, fc.array(expr, { maxLength: 3 })), { nil: null }), fc.option(expr, { nil: null }))
  .map(([name, t, dflt]) => ({ name, type: t ? { dtype: t[0], dims: { k: 'list', items: t[1], span: S }, span: S } : null, dflt, span: S }));

const callable: fc.Arbitrary<Callable> = fc.tuple(
  fc.constantFrom('model' as const, 'block' as const), ident, fc.option(fc.array(decl, { maxLength: 2 }), { nil: null }), fc.array(decl, { maxLength: 2 }),
  fc.option(fc.array(ident, { minLength: 1, maxLength: 2 }), { nil: null }), fc.array(stmt, { maxLength: 4 }), annots,
).map(([k, name, params, inputs, outputs, body, a]) => ({ k, name, params, inputs, outputs: k === 'model' ? outputs : null, body, annots: a, span: S }));

const program: fc.Arbitrary<Program> = fc.tuple(fc.array(fc.stringMatching(/^[a-z_./]{1,10}$/), { maxLength: 2 }), fc.array(callable, { maxLength: 3 }))
  .map(([imports, items]) => ({ file: 'gen.abit', imports: imports.map((path) => ({ path, span: S })), items }));

const TOKENS = ['model', 'block', 'let', 'param', 'repeat', 'in', '..', 'return', 'import', 'as', '@', 'x', 'f32', '1', '2.5', '"s"',
  '(', ')', '[', ']', '{', '}', ',', ':', '=', '->', '+', '-', '*', '/', '//', '// c\n', '.', '\n', ' ', '$'];

describe('DSL parser (properties)', () => {
  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = parseAbit(s, 'any.abit');
      expect(r.program === null || r.diagnostics.length === 0).toBe(true);
    }), fcParams(300));
  });

  it('never throws on token soup, and reports every failure with a span', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), (ts) => {
      const r = parseAbit(ts.join(' '), 'soup.abit');
      for (const d of r.diagnostics) expect(d.span.line).toBeGreaterThanOrEqual(1);
    }), fcParams(300));
  });

  it('never throws on mutated real programs', () => {
    const src = readFileSync('examples/rlfn.abit', 'utf8');
    fc.assert(fc.property(fc.nat({ max: src.length }), fc.nat({ max: 20 }), fc.string({ maxLength: 5 }), (at, del, ins) => {
      parseAbit(src.slice(0, at) + ins + src.slice(at + del), 'mut.abit');
    }), fcParams(200));
  });

  it('parse(print(ast)) == ast and print is a fixed point', () => {
    fc.assert(fc.property(program, (p) => {
      const text = printProgram(p);
      const r = parseAbit(text, 'gen.abit');
      if (!r.program) throw new Error(`printed program does not parse:\n${text}\n${r.diagnostics.map((d) => `${d.span.line}:${d.span.col} ${d.message}`).join('\n')}`);
      expect(stripSpans(r.program)).toEqual(stripSpans(p));
      expect(printProgram(r.program)).toBe(text);
    }), fcParams(300));
  });

  it('the example model round-trips through the printer', () => {
    const r = parseAbit(readFileSync('examples/rlfn.abit', 'utf8'), 'examples/rlfn.abit');
    expect(r.diagnostics).toEqual([]);
    const again = parseAbit(printProgram(r.program as Program), 'x.abit');
    expect(stripSpans(again.program)).toEqual(stripSpans(r.program));
  });
});
