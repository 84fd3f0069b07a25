// parse(print(g)) = g on random graphs, decorated with what arbGraph does not make: odd value,
// node and graph names, symbolic dims, every initializer dtype (packed with quant params,
// non-canonical host arrays, NaN payloads, -0), attrs of every kind and source locations.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packedInt, packedRange, type DType } from '../../src/ir/dtype.ts';
import type { AttrValue, Graph, Node } from '../../src/ir/graph.ts';
import { tryParseGraph, parseGraph } from '../../src/ir/parse.ts';
import { printGraph } from '../../src/ir/print.ts';
import type { Tensor, TensorType } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { graphDiff } from '../helpers/graph-equal.ts';
import { arbGraph, fcParams } from './arbitraries.ts';

const arbName = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.]{0,8}$/),
  fc.stringMatching(/^[0-9.][0-9.]{0,3}$/),
  fc.constantFrom('init', 'graph', '_', 'inf', 'nan', 'true', 'a b', 'x"y', 'p\\q', 'new\nline', 'tab\t', '%', '@w', '#1', 'ω∑', '-1', '//c', '{}'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }),
);

const arbAttr: fc.Arbitrary<AttrValue> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 5e-324, 1e21, -1.7976931348623157e308, 0.1),
  fc.boolean(),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.array(fc.double(), { maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 3 }),
);

const arbLoc = fc.record({ file: fc.string({ unit: 'binary', maxLength: 10 }), line: fc.nat(), col: fc.nat() });

/** Initializer with a random dtype and matching random bits (fast-check drives the bytes). */
const arbInit: fc.Arbitrary<Tensor> = fc.tuple(
  fc.constantFrom<'f32' | 'f16' | 'i32' | 'u32' | 'bool' | 'packed' | 'f32-as-f64'>('f32', 'f16', 'i32', 'u32', 'bool', 'packed', 'f32-as-f64'),
  fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
  fc.nat(), fc.integer({ min: 1, max: 8 }), fc.boolean(), fc.nat({ max: 2 }),
  fc.array(fc.nat({ max: 0xffffffff }), { minLength: 27, maxLength: 27 }),
).map(([kind, shape, axis, bits, signed, quantMode, raw]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const words = new Uint32Array(raw.slice(0, n));
  if (kind === 'f32') return { dtype: 'f32', shape, data: new Float32Array(words.buffer) };
  if (kind === 'f32-as-f64') return { dtype: 'f32', shape, data: Float64Array.from(new Float32Array(words.buffer)) };
  if (kind === 'f16') return { dtype: 'f16', shape, data: Uint16Array.from(words, (w) => w & 0xffff) };
  if (kind === 'i32') return { dtype: 'i32', shape, data: new Int32Array(words.buffer) };
  if (kind === 'u32') return { dtype: 'u32', shape, data: words };
  if (kind === 'bool') return { dtype: 'bool', shape, data: Uint8Array.from(words, (w) => w & 1) };
  const base = packedInt(bits, signed);
  const { min, max } = packedRange(base);
  const vals = Array.from(words, (w) => min + (w % (max - min + 1)));
  const scales = new Float32Array(Uint32Array.from(raw.slice(9, 9 + 1 + (axis % 3))).buffer);
  const quant = quantMode === 0 ? undefined
    : { axis: axis % 4, groupSize: [0, 32, 128][axis % 3] as number, scales, ...(quantMode === 2 ? { zeroPoints: Int32Array.from(raw.slice(20, 22)) } : {}) };
  const dtype: DType = packedInt(bits, signed, quant);
  return { dtype, shape, data: signed ? Int8Array.from(vals) : Uint8Array.from(vals) };
});

interface Decor {
  names: string[];
  graphName: string;
  attrs: [string, AttrValue][][];
  locs: ({ file: string; line: number; col: number } | null)[];
  inits: Tensor[];
  symbolic: string[][];
}

const arbDecor: fc.Arbitrary<Decor> = fc.record({
  names: fc.uniqueArray(arbName, { minLength: 80, maxLength: 80 }),
  graphName: arbName,
  attrs: fc.array(fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 5 }), arbAttr), { maxLength: 3 }), { minLength: 12, maxLength: 12 }),
  locs: fc.array(fc.option(arbLoc), { minLength: 12, maxLength: 12 }),
  inits: fc.array(arbInit, { maxLength: 4 }),
  symbolic: fc.array(fc.array(fc.oneof(fc.constantFrom('batch', 'seq_len', 'N'), arbName), { minLength: 1, maxLength: 3 }), { maxLength: 2 }),
});

/** The random graph with every name replaced, extra attrs/locs, initializers and symbolic inputs. */
function decorate(g: Graph, d: Decor): Graph {
  const names = [...d.names];
  const rename = new Map<string, string>();
  const nm = (v: string): string => {
    if (v === '') return '';
    let r = rename.get(v);
    if (r === undefined) { r = names.shift() ?? `${v}_`; rename.set(v, r); }
    return r;
  };
  const values = new Map<string, TensorType>();
  for (const [k, t] of g.values) values.set(nm(k), t);
  const inputs = g.inputs.map(nm);
  const initializers = new Map<string, Tensor>();
  for (const [k, t] of g.initializers) initializers.set(nm(k), t);
  const nodes: Node[] = g.nodes.map((n, i) => {
    // Attr keys get a prefix so they never shadow a real attribute of the op.
    const extra = Object.fromEntries((d.attrs[i % d.attrs.length] ?? []).map(([k, v]) => [`z${k}`, v]));
    const base = { name: `${nm(`node:${n.name}`)}`, op: n.op, inputs: n.inputs.map(nm), outputs: n.outputs.map(nm), attrs: { ...n.attrs, ...extra } };
    const loc = d.locs[i % d.locs.length];
    return loc ? { ...base, loc } : base;
  });
  d.inits.forEach((t, i) => {
    const k = `init#${i}`;
    initializers.set(k, t);
    values.set(k, { dtype: t.dtype, shape: t.shape });
  });
  d.symbolic.forEach((shape, i) => {
    const x = `sym_in#${i}`;
    const y = `sym_out#${i}`;
    inputs.push(x);
    values.set(x, { dtype: 'f32', shape });
    values.set(y, { dtype: 'f32', shape });
    nodes.push({ name: `sym_node#${i}`, op: 'relu', inputs: [x], outputs: [y], attrs: {} });
  });
  return { name: d.graphName, inputs, outputs: [...g.outputs.map(nm), ...d.symbolic.map((_, i) => `sym_out#${i}`)], values, nodes, initializers };
}

const arbDecorated = fc.tuple(arbGraph({ maxNodes: 5 }), arbDecor).map(([c, d]) => decorate(c.graph, d));

describe('IR text round trip', () => {
  it('random graphs are valid', () => {
    fc.assert(fc.property(arbGraph(), ({ graph }) => {
      expect(verifyGraph(graph)).toEqual([]);
    }), fcParams(200));
  });

  it('decorated random graphs are valid (so the round trip below is meaningful)', () => {
    fc.assert(fc.property(arbDecorated, (g) => {
      expect(verifyGraph(g)).toEqual([]);
    }), fcParams(100));
  });

  it('parse(print(g, {data: true})) = g, bit-exact', () => {
    fc.assert(fc.property(arbDecorated, (g) => {
      const text = printGraph(g, { data: true });
      const r = tryParseGraph(text);
      if (!r.ok) throw new Error(`parse failed:\n${r.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n')}\n${text}`);
      expect(graphDiff(r.graph, g)).toEqual([]);
      expect(verifyGraph(r.graph)).toEqual([]);
    }), fcParams(200));
  });

  it('print is deterministic and a fixed point of parse∘print', () => {
    fc.assert(fc.property(arbDecorated, fc.boolean(), (g, data) => {
      const a = printGraph(g, { data });
      expect(printGraph(g, { data })).toBe(a);
      const back = parseGraph(a, { elided: 'zeros' });
      // Summary text parses to zero-filled data, so only the hashes may differ.
      const unhash = (s: string): string => s.replace(/<#[0-9a-f]{16}>/g, '<#>');
      expect(unhash(printGraph(back, { data }))).toBe(unhash(a));
    }), fcParams(100));
  });

  it('summary text parses back (elided: zeros) to the same structure', () => {
    fc.assert(fc.property(arbGraph(), ({ graph }) => {
      const back = parseGraph(printGraph(graph), { elided: 'zeros' });
      const diffs = graphDiff(back, graph).filter((d) => !d.includes('data differs'));
      expect(diffs).toEqual([]);
      for (const t of back.initializers.values()) expect(t.data.every((v) => v === 0)).toBe(true);
    }), fcParams(100));
  });

  it('summary print is insensitive to value-map order and changes when any weight bit changes', () => {
    fc.assert(fc.property(arbGraph({ ops: ['gemm', 'matmul'] }), fc.nat(), ({ graph }, k) => {
      const shuffled: Graph = { ...graph, values: new Map([...graph.values].reverse()) };
      expect(printGraph(shuffled)).toBe(printGraph(graph));
      const [name, t] = [...graph.initializers][k % graph.initializers.size] ?? [];
      if (!name || !t) return;
      const data = new Float32Array(t.data as Float32Array);
      const u = new Uint32Array(data.buffer);
      u[k % u.length] = ((u[k % u.length] as number) ^ (1 << (k % 32))) >>> 0;
      const changed = new Map(graph.initializers).set(name, { ...t, data });
      expect(printGraph({ ...graph, initializers: changed })).not.toBe(printGraph(graph));
    }), fcParams(100));
  });
});

describe('IR text parser robustness', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      const r = tryParseGraph(s);
      if (!r.ok) for (const e of r.errors) expect(e.line).toBeGreaterThanOrEqual(1);
    }), fcParams(300));
  });

  it('never throws on damaged printed graphs, and every error has a position', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 4 }), fc.nat(), fc.nat({ max: 20 }), fc.string({ maxLength: 3 }), ({ graph }, at, len, insert) => {
      const text = printGraph(graph, { data: true });
      const i = at % (text.length + 1);
      const broken = text.slice(0, i) + insert + text.slice(i + len);
      const r = tryParseGraph(broken);
      if (!r.ok) {
        const lines = broken.split('\n').length;
        for (const e of r.errors) {
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.line).toBeLessThanOrEqual(lines);
          expect(e.col).toBeGreaterThanOrEqual(1);
        }
      } else expect(verifyGraph(r.graph)).toEqual([]);
    }), fcParams(300));
  });
});
