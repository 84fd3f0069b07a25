// Bias fusion equivalence: random graphs with planted matmul/gemm + constant-row-bias and
// conv2d -> per-channel mul -> per-channel add chains give the same outputs after
// fixpoint(bias-fusion), and every planted add/mul is gone (absorbed into gemm C or the conv's
// weights and bias). Shared intermediates and non-constant biases are left alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { numel } from '../../src/ir/shape.ts';
import { tensor, type Tensor, type TensorType } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { fixpoint, passContext, sequence } from '../../src/passes/pass.ts';
import { biasFusion } from '../../src/passes/simplify/bias-fusion.ts';
import { deadCodeElimination } from '../../src/passes/simplify/dce.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { arbGraph, fcParams, mulberry32, randomF32 } from './arbitraries.ts';

const pass = sequence('bias+dce', fixpoint(biasFusion), deadCodeElimination);

/** Appends nodes to `g`, typing each output through the op table. */
class Planter {
  readonly nodes: Node[];
  readonly values: Map<string, TensorType>;
  readonly inits: Map<string, Tensor>;
  private readonly rand: () => number;
  constructor(private readonly g: Graph, private readonly tag: string, seed: number) {
    this.nodes = [...g.nodes];
    this.values = new Map(g.values);
    this.inits = new Map(g.initializers);
    this.rand = mulberry32(seed);
  }
  k(name: string, shape: readonly number[]): string {
    const v = `${this.tag}_${name}`;
    this.inits.set(v, tensor('f32', shape, randomF32(numel(shape), this.rand)));
    this.values.set(v, { dtype: 'f32', shape });
    return v;
  }
  op(name: string, op: string, inputs: string[], attrs: Node['attrs'] = {}): string {
    const out = `${this.tag}_${name}`;
    const t = getOp(op)?.infer(inputs.map((i) => this.values.get(i) as TensorType), attrs);
    if (!Array.isArray(t)) throw new Error(`plant ${name}: ${String(t)}`);
    this.nodes.push({ name: out, op, inputs, outputs: [out], attrs });
    this.values.set(out, t[0] as TensorType);
    return out;
  }
  shape(v: string): readonly number[] {
    return this.values.get(v)?.shape as readonly number[];
  }
  graph(extraOutputs: string[]): Graph {
    return { ...this.g, nodes: this.nodes, values: this.values, initializers: this.inits, outputs: [...this.g.outputs, ...extraOutputs] };
  }
}

interface Plan { readonly kind: 0 | 1 | 2; readonly rank: number; readonly bias: number; readonly swap: boolean; readonly N: number; readonly convBias: boolean; readonly k: number }

const arbPlan = fc.record({
  kind: fc.constantFrom(0 as const, 1 as const, 2 as const), rank: fc.integer({ min: 2, max: 4 }), bias: fc.nat({ max: 3 }),
  swap: fc.boolean(), N: fc.constantFrom(1, 3, 7, 13), convBias: fc.boolean(), k: fc.integer({ min: 1, max: 3 }),
});

/** Plants one chain reading `v`; returns the graph and the names of the nodes that must vanish. */
function plant(g: Graph, v: string, plan: Plan, tag: string): { graph: Graph; gone: string[] } {
  const p = new Planter(g, tag, plan.N * 7 + plan.rank);
  const n = numel(p.shape(v));
  const ord = (a: string, b: string): string[] => (plan.swap ? [b, a] : [a, b]);
  if (plan.kind === 2) {
    // conv2d -> mul(per-channel) -> add(per-channel): decomposed BatchNorm.
    const C = [4, 3, 2, 1].find((c) => n % c === 0) as number;
    const x = p.op('x4', 'reshape', [v], { shape: [1, C, 1, n / C] });
    const M = plan.N;
    const ins = [x, p.k('w', [M, C, 1, plan.k])];
    if (plan.convBias) ins.push(p.k('b', [M]));
    const conv = p.op('conv', 'conv2d', ins, { pads: [0, 1, 0, 1] });
    const chShape = [[M, 1, 1], [1, M, 1, 1], [1], []][plan.bias] as number[];
    const y = p.op('add', 'add', ord(p.op('mul', 'mul', ord(conv, p.k('s', chShape))), p.k('c', chShape)));
    return { graph: p.graph([y]), gone: [`${tag}_mul`, `${tag}_add`] };
  }
  const K = p.shape(v)[p.shape(v).length - 1] as number;
  let a = v;
  if (plan.kind === 1 || p.shape(v).length < 2) a = p.op('a2', 'reshape', [v], { shape: [n / K, K] });
  else if (plan.rank > p.shape(v).length) a = p.op('ar', 'reshape', [v], { shape: [...Array(plan.rank - p.shape(v).length).fill(1), ...p.shape(v)] });
  const N = plan.N;
  const mm = plan.kind === 1
    ? p.op('mm', 'gemm', [a, p.k('b', [N, K])], { transB: 1, alpha: 0.5 })
    : p.op('mm', 'matmul', [a, p.k('b', [K, N])]);
  const cShape = [[N], [1, N], [1, 1, N], [1]][plan.bias] as number[];
  const y = p.op('add', 'add', ord(mm, p.k('c', cShape.slice(-p.shape(a).length))));
  return { graph: p.graph([y]), gone: [`${tag}_add`] };
}

describe('bias fusion', () => {
  it('absorbs planted biases and per-channel affines and keeps every output (to float rounding)', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 4, maxElements: 512 }), fc.nat(), arbPlan, ({ graph, inputs }, pick, plan) => {
      const v = graph.outputs[pick % graph.outputs.length] as string;
      const { graph: g, gone } = plant(graph, v, plan, 'bf');
      const r = pass.run(g, passContext(true));
      expect(verifyGraph(r.graph)).toEqual([]);
      const names = new Set(r.graph.nodes.map((n) => n.name));
      for (const n of gone) expect(names.has(n), n).toBe(false);
      const want = interpret(g, inputs);
      const got = interpret(r.graph, inputs);
      for (const o of g.outputs) expect(compareOutputs(got.get(o)?.data ?? [], want.get(o)?.data ?? [], 1e-5), o).toBeNull();
      expect(biasFusion.run(r.graph, passContext(true)).changed).toBe(false);
    }), fcParams(100));
  });

  it('keeps outputs on random graphs (their gemm/conv biases may fold, nothing else changes)', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 6, maxElements: 512 }), ({ graph, inputs }) => {
      const r = pass.run(graph, passContext(true));
      const want = interpret(graph, inputs);
      const got = interpret(r.graph, inputs);
      for (const o of graph.outputs) expect(compareOutputs(got.get(o)?.data ?? [], want.get(o)?.data ?? [], 1e-5), o).toBeNull();
    }), fcParams(60));
  });

  it('leaves the chain alone when the matmul result has a second reader or the bias is not constant', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 3, maxElements: 512, ops: ['unary'] }), arbPlan, ({ graph }, plan) => {
      const v = graph.outputs[0] as string;
      const planted = plant(graph, v, { ...plan, kind: 0 }, 'bf');
      const shared = { ...planted.graph, outputs: [...planted.graph.outputs, 'bf_mm'] };
      expect(biasFusion.run(shared, passContext(true)).changed).toBe(false);
      const c = 'bf_c';
      const t = planted.graph.initializers.get(c);
      const inits = new Map(planted.graph.initializers);
      inits.delete(c);
      const asInput = { ...planted.graph, inputs: [...planted.graph.inputs, c], initializers: inits };
      expect(t).toBeDefined();
      expect(biasFusion.run(asInput, passContext(true)).changed).toBe(false);
    }), fcParams(20));
  });

  it('folds only per-channel constants into a conv (a per-column scale stays a mul)', () => {
    const convThen = (shape: number[]): Graph => {
      const b = new GraphBuilder('g');
      const x = b.input('x', 'f32', [1, 2, 3, 5]);
      const w = b.initializer('w', tensor('f32', [3, 2, 1, 1], Float32Array.from([1, 2, 3, 4, 5, 6])));
      const s = b.initializer('s', tensor('f32', shape, Float32Array.from({ length: numel(shape) }, (_, i) => i + 2)));
      b.output(b.op('mul', [b.op('conv2d', [x, w], {}, { name: 'conv' }), s], {}, { name: 'scale' }));
      return b.build();
    };
    expect(biasFusion.run(convThen([1, 1, 1, 5]), passContext(true)).changed).toBe(false);
    expect(biasFusion.run(convThen([1, 2, 3, 5].map((d, i) => (i === 1 ? 3 : d))), passContext(true)).changed).toBe(false);
    const r = pass.run(convThen([3, 1, 1]), passContext(true));
    expect(r.graph.nodes.map((n) => n.op)).toEqual(['conv2d']);
    expect(Array.from(r.graph.initializers.get(r.graph.nodes[0]?.inputs[1] as string)?.data ?? [])).toEqual([2, 4, 9, 12, 20, 24]);
  });
});
