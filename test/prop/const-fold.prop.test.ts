// Constant-folding equivalence: random graphs with some inputs turned into initializers (so
// whole subgraphs become constant) give the same outputs after folding (+ DCE) up to f32
// rounding of the folded values; the result verifies and a second fold changes nothing.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { tensor, type NdArray } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { passContext, sequence } from '../../src/passes/pass.ts';
import { constantFolding } from '../../src/passes/simplify/const-fold.ts';
import { deadCodeElimination } from '../../src/passes/simplify/dce.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { arbGraph, fcParams } from './arbitraries.ts';

/** Turns the graph inputs picked by `mask` into initializers holding their test data. */
function freeze(g: Graph, inputs: Record<string, NdArray>, mask: number): { graph: Graph; inputs: Record<string, NdArray> } {
  const inits = new Map(g.initializers);
  const keep: string[] = [];
  const rest: Record<string, NdArray> = {};
  g.inputs.forEach((v, i) => {
    const x = inputs[v] as NdArray;
    if (mask & (1 << i)) inits.set(v, tensor('f32', x.shape, Float32Array.from(x.data)));
    else {
      keep.push(v);
      rest[v] = x;
    }
  });
  return { graph: { ...g, inputs: keep, initializers: inits }, inputs: rest };
}

const fold = sequence('fold+dce', constantFolding(), deadCodeElimination);

describe('constant folding', () => {
  it('keeps outputs (to f32 rounding), verifies, and is idempotent', () => {
    let foldedSome = 0;
    fc.assert(fc.property(arbGraph({ maxNodes: 8, maxInputs: 2 }), fc.nat({ max: 3 }), ({ graph, inputs }, mask) => {
      const f = freeze(graph, inputs, mask);
      const r = fold.run(f.graph, passContext(true));
      expect(verifyGraph(r.graph)).toEqual([]);
      if (r.graph.nodes.length < f.graph.nodes.length) foldedSome++;
      const want = interpret(f.graph, f.inputs);
      const got = interpret(r.graph, f.inputs);
      for (const [k, v] of want) expect(compareOutputs(got.get(k)?.data ?? [], v.data, 1e-5), k).toBeNull();
      expect(constantFolding().run(r.graph, passContext(true)).changed).toBe(false);
    }), fcParams(150));
    expect(foldedSome).toBeGreaterThan(10);
  });

  it('folds a weight-only chain into one initializer and leaves graph outputs alone', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'f32', [2, 3]);
    const w = b.initializer('w', tensor('f32', [3, 2], Float32Array.from([1, -2, 3, -4, 5, -6])));
    const wt = b.op('relu', [b.op('transpose', [w], {}, { name: 't' })], {}, { name: 'r' });
    b.output(b.op('matmul', [x, b.op('transpose', [wt], {}, { name: 't2' })], {}, { name: 'mm' }));
    const r = fold.run(b.build(), passContext(true));
    expect(r.graph.nodes.map((n) => n.name)).toEqual(['mm']);
    expect(Array.from(r.graph.initializers.get(r.graph.nodes[0]?.inputs[1] as string)?.data ?? [])).toEqual([1, 0, 3, 0, 5, 0]);
  });

  it('does not fold a constant that would outgrow its inputs (an outer-product broadcast)', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'f32', [64, 128]);
    const col = b.initializer('col', tensor('f32', [64, 1], new Float32Array(64).fill(2)));
    const row = b.initializer('row', tensor('f32', [1, 128], new Float32Array(128).fill(3)));
    const small = b.initializer('small', tensor('f32', [8, 1], new Float32Array(8).fill(1)));
    const big = b.op('add', [col, row], {}, { name: 'outer' });
    b.output(b.op('mul', [x, big], {}, { name: 'use' }));
    b.output(b.op('relu', [b.op('add', [small, row], {}, { name: 'outer_small' })], {}, { name: 'r' }));
    const r = fold.run(b.build(), passContext(true));
    // 64x128 = 8192 elements from 64 + 128 stays; 8x128 = 1024 is under the small-constant cap.
    expect(r.graph.nodes.map((n) => n.name)).toEqual(['outer', 'use', 'r']);
  });
});
