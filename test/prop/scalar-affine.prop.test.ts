// scalar-affine equivalence: chains of mul/add/sub with one-element constants (shape [], [1] or
// [1, 1], on either side) give the same interpreter outputs after the pass (±0 aside) and become
// affine nodes; broadcasting constants, constant-only products and div are left alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { passContext, sequence } from '../../src/passes/pass.ts';
import { deadCodeElimination } from '../../src/passes/simplify/dce.ts';
import { scalarAffine } from '../../src/passes/simplify/scalar-affine.ts';
import { fcParams, inputsFor } from './arbitraries.ts';

const arbStep = fc.record({
  op: fc.constantFrom('mul', 'add', 'sub', 'div'), constFirst: fc.boolean(),
  cShape: fc.constantFrom<number[]>([], [1], [1, 1], [3]), value: fc.double({ min: -4, max: 4, noNaN: true }),
});

describe('scalar-affine', () => {
  it('turns scalar mul/add/sub into affine with the same outputs', () => {
    fc.assert(fc.property(fc.array(arbStep, { minLength: 1, maxLength: 5 }), fc.nat(), (steps, seed) => {
      const b = new GraphBuilder('aff');
      let y = b.input('x', 'f32', [2, 3]);
      let expected = 0;
      steps.forEach((s, i) => {
        const n = s.cShape.reduce((p, q) => p * q, 1);
        const c = b.initializer(`c${i}`, tensor('f32', s.cShape, Float32Array.from({ length: n }, (_, j) => s.value + j)));
        y = b.op(s.op, s.constFirst ? [c, y] : [y, c]);
        // A [3] constant broadcasts along the last axis (not a scalar); [1, 1] keeps rank 2.
        if (s.op !== 'div' && n === 1) expected++;
      });
      b.output(b.op('relu', [y]));
      const g = b.build();
      const r = sequence('aff', scalarAffine, deadCodeElimination).run(g, passContext(true));
      expect(verifyGraph(r.graph)).toEqual([]);
      expect(r.graph.nodes.filter((n) => n.op === 'affine')).toHaveLength(expected);
      const ins = inputsFor(g, seed);
      const want = interpret(g, ins).get(g.outputs[0] as string)?.data as Float64Array;
      const got = interpret(r.graph, ins).get(g.outputs[0] as string)?.data as Float64Array;
      for (let i = 0; i < want.length; i++) if (!(got[i] === want[i])) expect.fail(`element ${i}: ${got[i]} vs ${want[i]}`);
    }), fcParams(200));
  });
});
