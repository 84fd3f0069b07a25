// DCE equivalence: outputs are unchanged on random graphs, dead branches disappear, and the
// pass is idempotent.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { passContext } from '../../src/passes/pass.ts';
import { deadCodeElimination } from '../../src/passes/simplify/dce.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { arbGraph, fcParams } from './arbitraries.ts';

describe('dead-code elimination', () => {
  it('keeps every output value exactly and is idempotent', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 8 }), fc.nat(), ({ graph, inputs }, pick) => {
      // Keep only one output so the rest of the graph may become dead.
      const out = graph.outputs[pick % graph.outputs.length] as string;
      const g = { ...graph, outputs: [out] };
      const r = deadCodeElimination.run(g, passContext(true));
      expect(verifyGraph(r.graph)).toEqual([]);
      expect(interpret(r.graph, inputs).get(out)?.data).toEqual(interpret(g, inputs).get(out)?.data);
      expect(deadCodeElimination.run(r.graph, passContext(true)).changed).toBe(false);
    }), fcParams(150));
  });

  it('removes a dead branch and its weights', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'f32', [2, 2]);
    const { tensor } = { tensor: (d: number[]) => ({ dtype: 'f32' as const, shape: [2, 2], data: Float32Array.from(d) }) };
    const w = b.initializer('w', tensor([1, 2, 3, 4]));
    b.op('matmul', [x, w], {}, { name: 'dead' });
    b.output(b.op('relu', [x], {}, { name: 'live' }));
    const r = deadCodeElimination.run(b.build(), passContext(true));
    expect(r.graph.nodes.map((n) => n.name)).toEqual(['live']);
    expect([...r.graph.initializers.keys()]).toEqual([]);
    expect(r.stats).toEqual({ removedNodes: 1, removedInits: 1 });
  });
});
