// Lowering of matmul_nbits -> one 'matmul-nbits' dispatch: batch dims of A flatten into M (A is
// contiguous, so this is free), the unary chain after it becomes the epilogue, and inputs bind
// in the problem's order A, words, scales, zeros[, bias]; with act_bits, A is quantize_act's
// packed rows. quantize_act -> one 'quantize-act' dispatch. Other ops are not handled here.

import type { MatmulNBitsProblem, QuantizeActProblem } from '../../codegen/problems.ts';
import type { Node } from '../ir/graph.ts';
import { nbitsAttrs } from '../ir/ops/matmul-nbits.ts';
import { actQuantAttrs } from '../ir/ops/quantize-act.ts';
import { numel } from '../ir/shape.ts';
import type { LowerContext, LoweredNode } from './lowering.ts';

export function lowerQuantNode(node: Node, cx: LowerContext): LoweredNode | undefined {
  if (node.op === 'quantize_act') {
    const x = node.inputs[0] as string;
    const s = cx.shapeOf(x);
    const K = s[s.length - 1] as number;
    const a = actQuantAttrs(node.attrs);
    const problem: QuantizeActProblem = { kind: 'quantize-act', rows: numel(s) / K, K, bits: a.bits, layout: a.layout };
    return { kernels: [{ problem, nodes: [node], inputs: [x], output: node.outputs[0] as string }] };
  }
  if (node.op !== 'matmul_nbits') return undefined;
  const [a, words, scales, zeros, bias] = node.inputs;
  if (!a || !words || !scales || !zeros) throw new Error(`lower: matmul_nbits node '${node.name}' lacks an operand`);
  const q = nbitsAttrs(node.attrs);
  const sa = cx.shapeOf(a);
  const M = q.actBits ? numel(sa.slice(0, -1)) : numel(sa) / q.K;
  const ep = cx.epilogueFrom(node.outputs[0] as string);
  const problem: MatmulNBitsProblem = {
    kind: 'matmul-nbits', M, N: q.N, K: q.K, bits: q.bits, group: q.group, layout: q.layout, bias: !!bias, epilogue: ep.epilogue,
    ...(q.actBits ? { actBits: q.actBits, actLayout: q.actLayout } : {}),
  };
  const inputs = bias ? [a, words, scales, zeros, bias] : [a, words, scales, zeros];
  return { kernels: [{ problem, nodes: [node, ...ep.nodes], inputs, output: ep.out }] };
}
