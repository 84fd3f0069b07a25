// gemv-weight-layout equivalence: matmuls (A of rank 2 or 3) and gemms (alpha, beta, C, transA)
// with constant weights give exactly the same interpreter outputs after the pass; products with
// at most GEMV_ROWS rows end as gemm(transB = 1) over a transposed constant, wider ones and
// weights shared by two nodes are left alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { GEMV_ROWS, gemvWeightLayout } from '../../src/passes/legalize/gemv-weight-layout.ts';
import { passContext, sequence } from '../../src/passes/pass.ts';
import { deadCodeElimination } from '../../src/passes/simplify/dce.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { fcParams, inputsFor } from './arbitraries.ts';

const arbCase = fc.record({
  op: fc.constantFrom('matmul', 'gemm'), batch: fc.constantFrom(0, 1, 2, 3), M: fc.constantFrom(1, 2, 5, 8, 9),
  K: fc.constantFrom(1, 3, 4, 13), N: fc.constantFrom(1, 2, 7), transA: fc.boolean(), c: fc.boolean(),
  alpha: fc.constantFrom(1, 0.5), shared: fc.boolean(), seed: fc.nat(),
});

describe('gemv-weight-layout', () => {
  it('stores GEMV weights transposed with identical outputs', () => {
    fc.assert(fc.property(arbCase, (k) => {
      const rand = mulberry32(k.seed);
      const b = new GraphBuilder('gemv');
      const gemm = k.op === 'gemm';
      // gemm A is rank 2 ([M, K], or [K, M] with transA); matmul A may carry a batch dim.
      const aShape = gemm ? (k.transA ? [k.K, k.M] : [k.M, k.K]) : k.batch ? [k.batch, k.M, k.K] : [k.M, k.K];
      const x = b.input('x', 'f32', aShape);
      const w = b.initializer('w', tensor('f32', [k.K, k.N], uniformF32(k.K * k.N, rand)));
      const ins = [x, w];
      if (gemm && k.c) ins.push(b.initializer('c', tensor('f32', [k.N], uniformF32(k.N, rand))));
      const y = b.op(k.op, ins, gemm ? { transA: k.transA ? 1 : 0, alpha: k.alpha, beta: 0.25 } : {});
      b.output(y);
      if (k.shared) b.output(b.op('matmul', [b.input('x2', 'f32', [2, k.K]), w]));
      const g = b.build();
      expect(verifyGraph(g)).toEqual([]);
      const r = sequence('layout', gemvWeightLayout, deadCodeElimination).run(g, passContext(true));
      const ins2 = inputsFor(g, k.seed);
      const want = interpret(g, ins2);
      const got = interpret(r.graph, ins2);
      for (const [name, t] of want) expect(Array.from(got.get(name)?.data ?? [])).toEqual(Array.from(t.data));
      const rows = gemm ? k.M : Math.max(1, k.batch) * k.M;
      const flipped = r.graph.nodes.filter((n) => n.op === 'gemm' && n.attrs.transB === 1);
      expect(flipped).toHaveLength(!k.shared && rows <= GEMV_ROWS ? 1 : 0);
      expect(r.changed).toBe(flipped.length > 0);
    }), fcParams(200));
  });
});
