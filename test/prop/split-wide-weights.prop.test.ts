// split-wide-weights equivalence: matmul / gemm (transB, C as [N], [M, N] or [1]) and
// matmul_nbits (dense and planes, with and without activation quantization) whose weights are
// over a random small binding limit give exactly the same interpreter outputs after the split,
// every weight-like constant the new nodes read fits the limit, and weights within it are untouched.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { storageBytes } from '../../src/ir/dtype.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { passContext, sequence } from '../../src/passes/pass.ts';
import { splitWideWeights } from '../../src/passes/legalize/split-wide-weights.ts';
import { quantizePass } from '../../src/passes/quantize/quantize-pass.ts';
import { deadCodeElimination } from '../../src/passes/simplify/dce.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { fcParams, inputsFor } from './arbitraries.ts';

interface Case {
  readonly op: 'matmul' | 'gemm' | 'nbits';
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly transB: boolean;
  readonly c: 0 | 1 | 2 | 3;
  readonly bits: number;
  readonly actBits: 0 | 4 | 8;
  readonly seed: number;
}

const arbCase: fc.Arbitrary<Case> = fc.record({
  op: fc.constantFrom('matmul' as const, 'gemm' as const, 'nbits' as const),
  M: fc.constantFrom(1, 2, 5), K: fc.constantFrom(1, 3, 7, 33, 64), N: fc.constantFrom(2, 3, 7, 13, 31),
  transB: fc.boolean(), c: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
  bits: fc.integer({ min: 1, max: 8 }), actBits: fc.constantFrom(0 as const, 4 as const, 8 as const), seed: fc.nat(),
});

function build(k: Case): Graph {
  const rand = mulberry32(k.seed);
  const b = new GraphBuilder('wide');
  const x = b.input('x', 'f32', [k.M, k.K]);
  const w = b.initializer('w', tensor('f32', k.transB && k.op === 'gemm' ? [k.N, k.K] : [k.K, k.N], uniformF32(k.K * k.N, rand)));
  let y: string;
  if (k.op === 'gemm') {
    const cShape = [[], [k.N], [k.M, k.N], [1]][k.c] as number[];
    const ins = [x, w];
    if (k.c) ins.push(b.initializer('c', tensor('f32', cShape, uniformF32(cShape.reduce((p, q) => p * q, 1), rand))));
    y = b.op('gemm', ins, { transB: k.transB ? 1 : 0, alpha: 1, beta: 1 });
  } else {
    y = b.op('matmul', [x, w]);
    if (k.op === 'nbits' && k.c) y = b.op('add', [y, b.initializer('c', tensor('f32', [k.N], uniformF32(k.N, rand)))]);
  }
  b.output(b.op('relu', [y]));
  const g = b.build();
  if (k.op !== 'nbits') return g;
  // Bias fusion is not in this sequence, so the add stays; the quantized weight is what is split.
  return quantizePass({ bits: k.bits, group: 16, actBits: k.actBits, keepEnds: false, method: 'rtn' }).run(g, passContext()).graph;
}

/** Bytes of the largest constant operand each weight-reading node binds. */
function largestWeight(g: Graph): number {
  let most = 0;
  for (const n of g.nodes) {
    if (!['matmul', 'gemm', 'matmul_nbits'].includes(n.op)) continue;
    for (const v of n.inputs.slice(1)) {
      const t = g.initializers.get(v);
      if (t) most = Math.max(most, storageBytes(t.dtype, t.data.length));
    }
  }
  return most;
}

describe('split-wide-weights', () => {
  it('splits oversized weights into column blocks with identical outputs', () => {
    fc.assert(fc.property(arbCase, fc.double({ min: 0.05, max: 1.5, noNaN: true }), (k, frac) => {
      const g = build(k);
      expect(verifyGraph(g)).toEqual([]);
      const before = largestWeight(g);
      // A limit below the largest weight (forcing a split) or, for frac >= 1, above it (no-op).
      const limit = Math.max(1, Math.floor(before * frac));
      const ctx = passContext(true);
      const r = sequence('split', splitWideWeights({ maxBindingBytes: limit }), deadCodeElimination).run(g, ctx);
      expect(verifyGraph(r.graph)).toEqual([]);
      const ins = inputsFor(g, k.seed);
      const want = interpret(g, ins);
      const got = interpret(r.graph, ins);
      for (const [name, t] of want) expect(Array.from(got.get(name)?.data ?? [])).toEqual(Array.from(t.data));
      if (before <= limit) {
        expect(r.changed).toBe(false);
        return;
      }
      // One output column alone may be over a tiny limit: then the node is left whole, with a warning.
      const warned = ctx.diag.some((d) => d.severity === 'warning');
      if (warned) return;
      expect(r.changed).toBe(true);
      expect(largestWeight(r.graph)).toBeLessThanOrEqual(limit);
      expect(r.graph.nodes.filter((n) => n.op === 'concat')).toHaveLength(1);
    }), fcParams(150));
  });
});
