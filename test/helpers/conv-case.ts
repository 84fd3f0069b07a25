// Random conv2d problems (groups incl. depthwise, stride, asymmetric padding, dilation, bias,
// epilogue) with their reference output from the interpreter; shared by both conv templates'
// GPU tests. Sizes stay small (images <= 20x20, channels <= 12) for the CPU adapter.

import fc from 'fast-check';
import type { Conv2dProblem, Epilogue } from '../../codegen/problems.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { convOutSize } from '../../src/ir/ops/conv.ts';
import { ndarray, type NdArray } from '../../src/ir/tensor.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { awkwardSize, epilogueArb, randomData } from './kernel-check.ts';

export interface ConvCase {
  readonly problem: Conv2dProblem;
  /** ONNX pads [top, left, bottom, right]. */
  readonly pads4: readonly [number, number, number, number];
  readonly knobIndex: number;
  readonly dataSeed: number;
}

export const convCaseArb: fc.Arbitrary<ConvCase> = fc.record({
  N: fc.integer({ min: 1, max: 2 }),
  layout: fc.oneof(
    fc.record({ group: fc.integer({ min: 1, max: 3 }), Cg: fc.integer({ min: 1, max: 4 }), Mg: fc.integer({ min: 1, max: 4 }) }),
    // depthwise (multiplier 1 or 2)
    fc.record({ group: fc.integer({ min: 1, max: 8 }), Cg: fc.constant(1), Mg: fc.integer({ min: 1, max: 2 }) }),
  ),
  H: awkwardSize(20), W: awkwardSize(20),
  kH: fc.integer({ min: 1, max: 5 }), kW: fc.integer({ min: 1, max: 5 }),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
  bias: fc.boolean(), epilogue: epilogueArb, knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((r) => {
  const OH = convOutSize(r.H, r.kH, r.strides[0], r.pads[0], r.pads[2], r.dilations[0]);
  const OW = convOutSize(r.W, r.kW, r.strides[1], r.pads[1], r.pads[3], r.dilations[1]);
  const { group, Cg, Mg } = r.layout;
  const problem: Conv2dProblem = {
    kind: 'conv2d', N: r.N, C: group * Cg, H: r.H, W: r.W, M: group * Mg, kH: r.kH, kW: r.kW, OH, OW,
    strides: r.strides, pads: [r.pads[0], r.pads[1]], dilations: r.dilations, group, bias: r.bias, epilogue: r.epilogue as Epilogue,
  };
  return { problem, pads4: r.pads, knobIndex: r.knobIndex, dataSeed: r.dataSeed };
}).filter((c) => c.problem.OH >= 1 && c.problem.OW >= 1);

export function convInputs(c: ConvCase): Float32Array[] {
  const p = c.problem;
  const x = randomData(p.N * p.C * p.H * p.W, c.dataSeed);
  const w = randomData(p.M * (p.C / p.group) * p.kH * p.kW, c.dataSeed + 1);
  return p.bias ? [x, w, randomData(p.M, c.dataSeed + 2)] : [x, w];
}

export function convReference(c: ConvCase, inputs: readonly Float32Array[]): Float64Array {
  const p = c.problem;
  const g = new GraphBuilder('conv');
  const xShape = [p.N, p.C, p.H, p.W];
  const wShape = [p.M, p.C / p.group, p.kH, p.kW];
  const args = [g.input('X', 'f32', xShape), g.input('W', 'f32', wShape)];
  const feeds: Record<string, NdArray> = { X: ndarray(xShape, inputs[0]), W: ndarray(wShape, inputs[1]) };
  if (p.bias) {
    args.push(g.input('B', 'f32', [p.M]));
    feeds.B = ndarray([p.M], inputs[2]);
  }
  let y = g.op('conv2d', args, { strides: [...p.strides], pads: [...c.pads4], dilations: [...p.dilations], group: p.group });
  for (const e of p.epilogue) y = g.op(e.op, [y], e.attrs);
  g.output(y);
  return (interpret(g.build(), feeds).get(y) as NdArray).data;
}
