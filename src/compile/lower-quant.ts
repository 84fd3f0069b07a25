// Lowering of matmul_nbits -> one 'matmul-nbits' dispatch: batch dims of A flatten into M (A is
// contiguous, so this is free), the unary chain after it becomes the epilogue, and inputs bind
// in the problem's order A, words, scales, zeros[, bias]. Other ops are not handled here.

import type { MatmulNBitsProblem } from '../../codegen/problems.ts';
import type { Node } from '../ir/graph.ts';
import { nbitsAttrs } from '../ir/ops/matmul-nbits.ts';
import { numel } from '../ir/shape.ts';
import type { LowerContext, LoweredNode } from './lowering.ts';

export function lowerQuantNode(node: Node, cx: LowerContext): LoweredNode | undefined {
  if (node.op !== 'matmul_nbits') return undefined;
  const [a, words, scales, zeros, bias] = node.inputs;
  if (!a || !words || !scales || !zeros) throw new Error(`lower: matmul_nbits node '${node.name}' lacks an operand`);
  const q = nbitsAttrs(node.attrs);
  const M = numel(cx.shapeOf(a)) / q.K;
  const ep = cx.epilogueFrom(node.outputs[0] as string);
  const problem: MatmulNBitsProblem = {
    kind: 'matmul-nbits', M, N: q.N, K: q.K, bits: q.bits, group: q.group, layout: q.layout, bias: !!bias, epilogue: ep.epilogue,
  };
  const inputs = bias ? [a, words, scales, zeros, bias] : [a, words, scales, zeros];
  return { kernels: [{ problem, nodes: [node, ...ep.nodes], inputs, output: ep.out }] };
}
