// transposed-conv-as-conv equivalence: stride-equals-kernel transposed convs (s = 1..3, with and
// without bias, followed by unary chains, per-channel BatchNorm-like mul/add or not) give the interpreter's outputs after the rewrite
// (to float64 rounding) and become conv2d + depth_to_space with the unary ops between them; other
// transposed convs (padding, stride != kernel, groups) are left alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { passContext, sequence } from '../../src/passes/pass.ts';
import { deadCodeElimination } from '../../src/passes/simplify/dce.ts';
import { transposedConvAsConv } from '../../src/passes/simplify/transposed-conv-as-conv.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { fcParams, inputsFor } from './arbitraries.ts';

const arbCase = fc.record({
  s: fc.integer({ min: 1, max: 3 }), C: fc.constantFrom(1, 2, 5), M: fc.constantFrom(1, 3, 4), H: fc.constantFrom(1, 2, 5), W: fc.constantFrom(1, 3, 4),
  bias: fc.boolean(), tail: fc.constantFrom('none', 'relu', 'affine+sigmoid', 'add', 'bn+relu', 'scalar-mul'), variant: fc.constantFrom('plain', 'pad', 'kernel', 'group'), seed: fc.nat(),
});

describe('transposed-conv-as-conv', () => {
  it('rewrites stride-equals-kernel transposed convs with the same outputs', () => {
    fc.assert(fc.property(arbCase, (k) => {
      const rand = mulberry32(k.seed);
      // 'group': one group per input channel (C > 1); 'kernel': kernel one larger than the stride.
      const group = k.variant === 'group' && k.C > 1 ? k.C : 1;
      const Mg = group > 1 ? 1 : k.M;
      const kh = k.variant === 'kernel' ? k.s + 1 : k.s;
      const pads = k.variant === 'pad' ? [0, 1, 0, 0] : [0, 0, 0, 0];
      fc.pre((k.H - 1) * k.s + kh > 0 && (k.W - 1) * k.s + kh - pads[1]! > 0);
      const b = new GraphBuilder('ct');
      const x = b.input('x', 'f32', [1, k.C, k.H, k.W]);
      const ins = [x, b.initializer('w', tensor('f32', [k.C, Mg, kh, kh], uniformF32(k.C * Mg * kh * kh, rand)))];
      if (k.bias) ins.push(b.initializer('b', tensor('f32', [Mg * group], uniformF32(Mg * group, rand))));
      let y = b.op('conv_transpose2d', ins, { strides: [k.s, k.s], pads, group });
      if (k.tail === 'relu') y = b.op('relu', [y]);
      if (k.tail === 'affine+sigmoid') y = b.op('sigmoid', [b.op('affine', [y], { scale: 0.5, shift: -0.25 })]);
      if (k.tail === 'add') y = b.op('add', [y, y]);
      const Mo = Mg * group;
      if (k.tail === 'bn+relu') {
        const sc = b.initializer('bn_s', tensor('f32', [1, Mo, 1, 1], uniformF32(Mo, rand)));
        const sh = b.initializer('bn_b', tensor('f32', [Mo, 1, 1], uniformF32(Mo, rand)));
        y = b.op('relu', [b.op('add', [sh, b.op('mul', [y, sc])])]);
      }
      if (k.tail === 'scalar-mul') y = b.op('mul', [b.initializer('k', tensor('f32', [1], new Float32Array([0.75]))), y]);
      b.output(y);
      const g = b.build();
      expect(verifyGraph(g)).toEqual([]);
      const r = sequence('ct', transposedConvAsConv, deadCodeElimination).run(g, passContext(true));
      const eligible = k.variant === 'plain' || (k.variant === 'group' && group === 1);
      const ops = r.graph.nodes.map((n) => n.op);
      if (eligible) {
        expect(ops[0]).toBe('conv2d');
        // Unary tails sit between the conv and the shuffle; a binary tail stays after it.
        const d2s = ops.indexOf('depth_to_space');
        expect(d2s).toBe({ none: 1, relu: 2, 'affine+sigmoid': 3, add: 1, 'bn+relu': 4, 'scalar-mul': 2 }[k.tail]);
      } else {
        expect(ops).toContain('conv_transpose2d');
      }
      const inputs = inputsFor(g, k.seed);
      const want = interpret(g, inputs).get(g.outputs[0] as string)?.data as Float64Array;
      const got = interpret(r.graph, inputs).get(g.outputs[0] as string)?.data as Float64Array;
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) if (!(Math.abs((got[i] as number) - (want[i] as number)) <= 1e-12 * (1 + Math.abs(want[i] as number)))) expect.fail(`element ${i}: ${got[i]} vs ${want[i]}`);
    }), fcParams(200));
  });
});
