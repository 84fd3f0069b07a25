// DSL syntax: comments vs floor division, name patterns, the two parameter groups, and that
// syntax errors come back as diagnostics (several per run), never as exceptions.

import { describe, expect, it } from 'vitest';
import { stripSpans, type Expr } from '../../dsl/ast.ts';
import { parseAbit } from '../../dsl/parse.ts';

function letValue(src: string): Expr {
  const r = parseAbit(`model m(x: f32[1]) -> (x) {\n${src}\n}\n`, 't.abit');
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  const s = r.program?.items[0]?.body[0];
  if (s?.k !== 'let') throw new Error('expected a let');
  return s.value;
}

describe('DSL parser', () => {
  it('reads `//` + space as a comment and glued `//` as floor division', () => {
    expect(stripSpans(letValue('let a = 7 //2 // halves'))).toEqual({ k: 'bin', op: '//', l: { k: 'int', v: 7 }, r: { k: 'int', v: 2 } });
    expect(stripSpans(letValue('let a = 7 // 2'))).toEqual({ k: 'int', v: 7 });
  });

  it('gives * and / precedence over + and -, left-associative', () => {
    const e = stripSpans(letValue('let a = 1 - 2 - 3 * 4 / 5'));
    expect(e).toEqual({
      k: 'bin', op: '-',
      l: { k: 'bin', op: '-', l: { k: 'int', v: 1 }, r: { k: 'int', v: 2 } },
      r: { k: 'bin', op: '/', l: { k: 'bin', op: '*', l: { k: 'int', v: 3 }, r: { k: 'int', v: 4 } }, r: { k: 'int', v: 5 } },
    });
  });

  it('parses instance name patterns with interpolation, dots and numbers', () => {
    const e = letValue('let y = rlfb(x, c=4) as block_{i + 1}.esa.0');
    if (e.k !== 'call' || !e.as) throw new Error('expected a call with as');
    expect(stripSpans(e.as.pieces)).toEqual([
      { k: 'text', v: 'block_' }, { k: 'expr', e: { k: 'bin', op: '+', l: { k: 'name', name: 'i' }, r: { k: 'int', v: 1 } } }, { k: 'text', v: '.esa.0' },
    ]);
    // Whitespace ends a pattern: the next line's assignment is a new statement.
    const r = parseAbit('model m(x: f32[1]) -> (y) {\n  let y = b(x) as a\n  y = relu(y)\n}\n', 't.abit');
    expect(r.program?.items[0]?.body.map((s) => s.k)).toEqual(['let', 'assign']);
  });

  it('splits a model\'s parameter group from its input group', () => {
    const r = parseAbit('model rlfn(c = 52, m = c, blocks = 6)(x: f32[N, 3, H, W]) -> (y) { }', 't.abit');
    const m = r.program?.items[0];
    expect(m?.params?.map((p) => p.name)).toEqual(['c', 'm', 'blocks']);
    expect(m?.inputs.map((p) => [p.name, p.type?.dtype])).toEqual([['x', 'f32']]);
    expect(m?.outputs).toEqual(['y']);
  });

  it('reports several syntax errors with positions instead of throwing', () => {
    const r = parseAbit('model m(x: f32[1]) {\n  let y = conv2d(x, w, stride=2\n  let z = [1, 2\n}\n', 'e.abit');
    expect(r.program).toBeNull();
    expect(r.diagnostics.length).toBeGreaterThanOrEqual(2);
    expect(r.diagnostics[0]).toMatchObject({ code: 'syntax', message: "expected ')' to close call to conv2d, found 'let'", span: { line: 2, col: 32 } });
  });

  it('parses annotations on statements and declarations, and imports', () => {
    const r = parseAbit('import "lib/blocks.abit"\n@keep(f32)\nblock b(x) {\n  @quant(bits=4, group=128)\n  @sparse(group=16, rate=0.5)\n  let y = relu(x)\n  return y\n}\n', 't.abit');
    expect(r.program?.imports.map((i) => i.path)).toEqual(['lib/blocks.abit']);
    const b = r.program?.items[0];
    expect(b?.annots.map((a) => a.name)).toEqual(['keep']);
    expect(b?.body[0]?.annots.map((a) => [a.name, a.args.map((x) => x.name)])).toEqual([['quant', ['bits', 'group']], ['sparse', ['group', 'rate']]]);
  });
});
