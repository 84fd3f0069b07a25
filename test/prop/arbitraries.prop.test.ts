// The shared arbitraries keep their promises: valid graphs, no dead code, inputs matching the
// graph, finite oracle results in safe mode, every op kind reachable, capped shapes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { consumers } from '../../src/ir/graph.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { numel } from '../../src/ir/shape.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { arbGraph, arbShape, fcParams, OP_KINDS } from './arbitraries.ts';

describe('arbitraries', () => {
  it('arbShape respects rank and element caps and mixes in awkward dims', () => {
    const seen = new Set<number>();
    fc.assert(fc.property(arbShape({ minRank: 2, maxRank: 3, maxElements: 100 }), (s) => {
      expect(s.length).toBeGreaterThanOrEqual(2);
      expect(s.length).toBeLessThanOrEqual(3);
      expect(numel(s)).toBeLessThanOrEqual(100);
      for (const d of s) seen.add(d);
    }), fcParams(200));
    for (const d of [1, 3, 7, 13]) expect(seen.has(d)).toBe(true);
  });

  it('graphs verify, have no dead nodes, and come with inputs the interpreter accepts', () => {
    fc.assert(fc.property(arbGraph(), ({ graph, inputs }) => {
      expect(verifyGraph(graph)).toEqual([]);
      expect(Object.keys(inputs).sort()).toEqual([...graph.inputs].sort());
      const readers = consumers(graph);
      for (const n of graph.nodes) for (const o of n.outputs) expect(readers.has(o) || graph.outputs.includes(o)).toBe(true);
      const out = interpret(graph, inputs);
      for (const [name, v] of out) expect(v.data.every(Number.isFinite), `${name} is finite`).toBe(true);
    }), fcParams(150));
  });

  it('every op kind and every op can be generated, alone or mixed', () => {
    const ops = new Set<string>();
    for (const kind of OP_KINDS) {
      const samples = fc.sample(arbGraph({ ops: [kind], maxNodes: 3 }), { seed: 1, numRuns: 60 });
      const cats = new Set(samples.flatMap((s) => s.graph.nodes.map((n) => getOp(n.op)?.category)));
      expect(cats.size).toBeGreaterThan(0);
      for (const s of samples) for (const n of s.graph.nodes) ops.add(n.op);
    }
    for (const op of ['matmul', 'gemm', 'conv2d', 'reshape', 'transpose', 'relu', 'gelu', 'add', 'pow']) expect(ops.has(op)).toBe(true);
    const conv = fc.sample(arbGraph({ ops: ['conv2d'] }), { seed: 2, numRuns: 100 }).flatMap((s) => s.graph.nodes.filter((n) => n.op === 'conv2d'));
    expect(conv.some((n) => typeof n.attrs.group === 'number' && n.attrs.group > 1)).toBe(true);
    expect(conv.some((n) => Array.isArray(n.attrs.dilations))).toBe(true);
  });

  it('weights can be graph inputs instead of initializers', () => {
    fc.assert(fc.property(arbGraph({ weights: 'inputs', ops: ['gemm', 'conv2d'] }), ({ graph, inputs }) => {
      expect(graph.initializers.size).toBe(0);
      expect(interpret(graph, inputs).size).toBe(graph.outputs.length);
    }), fcParams(30));
  });
});
