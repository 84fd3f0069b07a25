// Per-layer quantization policy: JSON policy errors are one line naming file and field, the
// precedence --keep > policy layer rules > DSL annotation > policy default > CLI defaults holds
// per layer, the pass applies the merged settings (bits, act_bits, layouts, group rounding) and
// the CLI flag parser rejects bad --act-bits / --method / --policy values; --calib directories.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { nbitsAttrs } from '../../src/ir/ops/matmul-nbits.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { passContext } from '../../src/passes/pass.ts';
import { annotationSettings, parsePolicy, resolveLayer, type LayerSettings } from '../../src/passes/quantize/policy.ts';
import { actGroup, quantizePass } from '../../src/passes/quantize/quantize-pass.ts';
import { quantizeOptionsOf } from '../../src/cli/quant-cli.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { readCalibrationDir } from '../../src/quant/calibrate-npy.ts';
import { writeNpy } from '../../src/io/npy.ts';

const CLI: LayerSettings = { bits: 4, group: 128, actBits: 0, method: 'mse', symmetric: undefined, bitBalance: false };

describe('policy file', () => {
  it('parses defaults and rules (act_bits and actBits both accepted)', () => {
    const p = parsePolicy(JSON.stringify({ default: { bits: 3, act_bits: 8, method: 'smooth' }, layers: [{ match: 'blk*.wq', bits: 8, actBits: 4 }, { match: 'head', keep: true }] }), 'p.json');
    expect(p.default).toEqual({ bits: 3, actBits: 8, method: 'smooth' });
    expect(p.layers).toEqual([{ match: 'blk*.wq', bits: 8, actBits: 4 }, { match: 'head', keep: true }]);
  });

  it.each([
    ['{', /^p\.json: not valid JSON/],
    ['[]', /^p\.json: expected an object/],
    ['{"defaults": {}}', /^p\.json: unknown key 'defaults'/],
    ['{"default": {"bits": 9}}', /^p\.json: default\.bits: expected an integer 1\.\.8, got 9$/],
    ['{"default": {"bits": "4"}}', /default\.bits: expected an integer 1\.\.8, got "4"/],
    ['{"default": {"act_bits": 1}}', /default\.act_bits: expected 0 \(f32\) or an integer 2\.\.8, got 1/],
    ['{"default": {"method": "awq"}}', /default\.method: expected "rtn", "mse" or "smooth", got "awq"/],
    ['{"default": {"keep": true}}', /default\.keep: keep belongs in a layer rule/],
    ['{"layers": {}}', /"layers" must be an array/],
    ['{"layers": [{"bits": 4}]}', /layers\[0\]\.match: expected a non-empty glob string/],
    ['{"layers": [{"match": "x", "bitz": 4}]}', /layers\[0\]: unknown key 'bitz' \(known: bits, group, actBits, method, symmetric, bitBalance, keep, match\)/],
    ['{"layers": [{"match": "x", "group": -1}]}', /layers\[0\]\.group: expected a non-negative integer/],
    ['{"layers": [{"match": "x", "symmetric": 1}]}', /layers\[0\]\.symmetric: expected true or false, got 1/],
  ])('rejects %s with one line', (text, re) => {
    expect(() => parsePolicy(text, 'p.json')).toThrow(re);
    try {
      parsePolicy(text, 'p.json');
    } catch (e) {
      expect((e as Error).name).toBe('QuantPolicyError');
      expect((e as Error).message).not.toContain('\n');
    }
  });
});

describe('precedence', () => {
  const policy = parsePolicy(JSON.stringify({ default: { bits: 3, group: 64 }, layers: [{ match: 'a.*', bits: 6 }, { match: '*.w', actBits: 8 }, { match: 'k*', keep: true }] }), 'p.json');
  const at = (node: string, annotation?: Parameters<typeof resolveLayer>[3]['annotation'], keep: readonly string[] = []) => resolveLayer(CLI, keep, policy, { node, weight: `${node}.w`, annotation });

  it('CLI defaults < policy default < annotation < policy rules (later rules win) < --keep', () => {
    expect(resolveLayer(CLI, [], undefined, { node: 'z', weight: 'z.w' })).toEqual(CLI);
    expect(at('z')).toMatchObject({ bits: 3, group: 64, actBits: 8, method: 'mse' });
    expect(at('z', { bits: 5, group: 32, actBits: 4 })).toMatchObject({ bits: 5, group: 32, actBits: 8 });
    expect(at('a.q', { bits: 5 })).toMatchObject({ bits: 6, group: 64 });
    expect(at('a.q', { bits: 5 }, ['a.q'])).toBe('keep');
    expect(at('k1')).toBe('keep');
    expect(at('z', { keep: true })).toBe('keep');
  });

  it('DSL annotation records merge outermost first; @keep(f32) keeps; bad values are one-line errors', () => {
    expect(annotationSettings('n', [{ name: 'quant', args: { bits: 4, group: 32 } }, { name: 'quant', args: { bits: 8, act_bits: 8 } }])).toEqual({ bits: 8, group: 32, actBits: 8 });
    expect(annotationSettings('n', [{ name: 'sparse', args: { rate: 0.5 } }, { name: 'keep', args: { dtype: 'f32' } }])).toEqual({ keep: true });
    expect(() => annotationSettings('n', [{ name: 'keep', args: { dtype: 'f16' } }])).toThrow(/@keep on 'n': only @keep\(f32\)/);
    expect(() => annotationSettings('n', [{ name: 'quant', args: { bits: 0 } }])).toThrow(/@quant on 'n'\.bits: expected an integer 1\.\.8, got 0/);
  });

  it('an inconsistent merge (bit balance at 3 bits) is an error, not a silent choice', () => {
    expect(resolveLayer({ ...CLI, bits: 2, bitBalance: true }, [], undefined, { node: 'z', weight: 'w', annotation: { bitBalance: true, bits: 3 } })).toEqual({ error: expect.stringMatching(/bit balance is a 2-bit option/) });
    // Only the bits change: the CLI's --bit-balance no longer applies.
    expect(resolveLayer({ ...CLI, bits: 2, bitBalance: true }, [], undefined, { node: 'z', weight: 'w', annotation: { bits: 4 } })).toMatchObject({ bits: 4, bitBalance: false });
  });
});

/** x[5, 40] -> gemm q/k/v (shared A) and a 4th gemm on q's output: per-layer settings land in attrs. */
function graph() {
  const rand = mulberry32(3);
  const b = new GraphBuilder('g');
  const x = b.input('x', 'f32', [5, 40]);
  const outs = ['q', 'k', 'v'].map((n) => b.op('gemm', [x, b.initializer(`${n}.w`, tensor('f32', [24, 40], uniformF32(960, rand)))], { transB: 1 }, { name: n }));
  const o = b.op('gemm', [outs[0] as string, b.initializer('o.w', tensor('f32', [7, 24], uniformF32(168, rand)))], { transB: 1 }, { name: 'o' });
  b.output(o);
  b.output(outs[1] as string);
  b.output(outs[2] as string);
  return b.build();
}

describe('quantize pass with a policy', () => {
  it('applies per-layer bits/act bits, shares one quantize_act for Q/K/V, picks layouts and rounds groups', () => {
    const g = graph();
    const policy = parsePolicy(JSON.stringify({ default: { actBits: 4, group: 20 }, layers: [{ match: 'v', actBits: 8, bits: 8 }, { match: 'o', actBits: 0 }] }), 'p.json');
    const ctx = passContext(true);
    const r = quantizePass({ bits: 3, policy, keep: ['k.w'] }).run(g, ctx);
    expect(verifyGraph(r.graph)).toEqual([]);
    const byName = new Map(r.graph.nodes.map((n) => [n.name, n]));
    const q = nbitsAttrs(byName.get('q')?.attrs ?? {});
    const v = nbitsAttrs(byName.get('v')?.attrs ?? {});
    const o = nbitsAttrs(byName.get('o')?.attrs ?? {});
    expect(byName.get('k')?.op).toBe('gemm');
    expect(q).toMatchObject({ bits: 3, actBits: 4, actLayout: 'planes', layout: 'planes', group: 32 });
    expect(v).toMatchObject({ bits: 8, actBits: 8, actLayout: 'dense', layout: 'dense', group: 32 });
    expect(o).toMatchObject({ bits: 3, actBits: 0, layout: 'dense', group: 20 });
    const qa = r.graph.nodes.filter((n) => n.op === 'quantize_act');
    expect(qa.map((n) => n.attrs)).toEqual([{ bits: 4, layout: 'planes' }, { bits: 8, layout: 'dense' }]);
    expect(ctx.diag.some((d) => d.node === 'q' && /group 20 -> 32/.test(d.message))).toBe(true);
  });

  it('WxAy groups: multiples of 32, or one group per row', () => {
    expect([actGroup(128, 300), actGroup(20, 300), actGroup(0, 300), actGroup(128, 100), actGroup(40, 70), actGroup(64, 64)]).toEqual([128, 32, 300, 100, 64, 64]);
  });
});

describe('CLI quantization flags', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-qpol-'));
  it('accepts --act-bits, --method smooth and --policy; defaults bits from the policy', () => {
    const f = path.join(dir, 'p.json');
    writeFileSync(f, '{"default": {"bits": 3}}');
    expect(quantizeOptionsOf({ bits: '4', actBits: '8', method: 'smooth' })).toMatchObject({ bits: 4, actBits: 8, method: 'smooth' });
    expect(quantizeOptionsOf({ policy: f })).toMatchObject({ bits: 3, policy: { default: { bits: 3 } } });
    expect(quantizeOptionsOf({})).toBeUndefined();
  });

  it.each([
    [{ bits: '4', actBits: '9' }, /--act-bits '9': expected an integer 2\.\.8/],
    [{ bits: '4', actBits: 'x' }, /--act-bits 'x'/],
    [{ bits: '4', method: 'awq' }, /--method 'awq': expected rtn, mse or smooth/],
    [{ actBits: '8' }, /need --bits \(or --policy\)/],
    [{ calib: 'd' }, /need --bits/],
    [{ bits: '4', policy: '/nonexistent/p.json' }, /--policy '\/nonexistent\/p\.json': cannot read it \(ENOENT\)/],
  ])('rejects %o', (flags, re) => {
    expect(() => quantizeOptionsOf(flags)).toThrow(re);
  });

  it('a bad policy file and a policy without bits are UserErrors', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"default": {"bits": 12}}');
    const nobits = path.join(dir, 'nobits.json');
    writeFileSync(nobits, '{"layers": []}');
    for (const [f, re] of [[bad, /bad\.json: default\.bits: expected an integer 1\.\.8, got 12/], [nobits, /has no "bits"/]] as const) {
      try {
        quantizeOptionsOf({ policy: f });
        expect.unreachable();
      } catch (e) {
        expect((e as Error).name).toBe('UserError');
        expect((e as Error).message).toMatch(re);
      }
    }
  });
});

describe('calibration directory', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-qcal-'));
  const put = (f: string, shape: number[], data: Float32Array | Float64Array | Int32Array): void => {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), writeNpy(shape, data));
  };
  it('reads NAME.npy or numbered NAME.N.npy samples, in index order, with sanitized names', () => {
    put('a/x.npy', [2], Float32Array.of(1, 2));
    put('a/m_s.npy', [1], Float64Array.of(3));
    put('b/x.1.npy', [1], Float32Array.of(5));
    put('b/x.0.npy', [1], Float32Array.of(4));
    put('b/x.10.npy', [1], Float32Array.of(6));
    put('b/xx.0.npy', [1], Float32Array.of(9));
    expect(readCalibrationDir(path.join(dir, 'a'), ['x', 'm/s']).map((s) => [...(s.x?.data ?? []), ...(s['m/s']?.data ?? [])])).toEqual([[1, 2, 3]]);
    expect(readCalibrationDir(path.join(dir, 'b'), ['x']).map((s) => [...(s.x?.data ?? [])])).toEqual([[4], [5], [6]]);
  });

  it.each([
    ['missing', /cannot read the directory \(ENOENT\)/],
    ['b', /sample 0 lacks y\.0\.npy/, ['x', 'y']],
    ['a', /no calibration files; expected z\.npy or z\.0\.npy/, ['z']],
    ['c', /holds dtype <i4; calibration inputs must be float32 or float64/],
  ])('%s: one-line CalibrationError', (sub, re, inputs = ['x']) => {
    put('c/x.npy', [1], Int32Array.of(1));
    expect(() => readCalibrationDir(path.join(dir, sub), inputs)).toThrow(re);
  });
});
