// Lowering of conv2d_nbits -> one 'conv2d-nbits' dispatch: the conv geometry as for conv2d, the
// unary chain after it becomes the epilogue, and inputs bind in the problem's order X, words,
// scales, zeros[, bias]. Other ops are not handled here (undefined).

import type { Conv2dNBitsProblem } from '../../codegen/problems.ts';
import type { Node } from '../ir/graph.ts';
import { conv2dAttrsOf, convNBitsAttrs } from '../ir/ops/conv-nbits.ts';
import { convParams } from '../ir/ops/conv.ts';
import type { LowerContext, LoweredNode } from './lowering.ts';

export function lowerConvNBitsNode(node: Node, cx: LowerContext): LoweredNode | undefined {
  if (node.op !== 'conv2d_nbits') return undefined;
  const [x, words, scales, zeros, bias] = node.inputs;
  if (!x || !words || !scales || !zeros) throw new Error(`lower: conv2d_nbits node '${node.name}' lacks an operand`);
  const q = convNBitsAttrs(node.attrs);
  const p = convParams(conv2dAttrsOf(node.attrs));
  const [N, C, H, W] = cx.shapeOf(x) as [number, number, number, number];
  const [, , OH, OW] = cx.shapeOf(node.outputs[0] as string) as [number, number, number, number];
  const ep = cx.epilogueFrom(node.outputs[0] as string);
  const problem: Conv2dNBitsProblem = {
    kind: 'conv2d-nbits', N, C, H, W, M: q.N, kH: q.kH, kW: q.kW, OH, OW, strides: p.strides, pads: [p.pads[0], p.pads[1]],
    dilations: p.dilations, group: p.group, bias: !!bias, epilogue: ep.epilogue, bits: q.bits, quantGroup: q.group, layout: q.layout,
  };
  const inputs = bias ? [x, words, scales, zeros, bias] : [x, words, scales, zeros];
  return { kernels: [{ problem, nodes: [node, ...ep.nodes], inputs, output: ep.out }] };
}
