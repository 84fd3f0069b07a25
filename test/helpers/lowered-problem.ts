// The Problem lowering derives for a single-node graph, so kernel tests exercise the same
// lowering code as the compiler. Operands flagged `constant` become initializers.
// Not a test file; it never decides what a kernel should compute.

import type { Problem } from '../../codegen/problems.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { tensor } from '../../src/ir/tensor.ts';
import type { Operand } from './op-reference.ts';

export function loweredProblem<P extends Problem>(op: string, operands: readonly Operand[], attrs: Attrs): P {
  const b = new GraphBuilder(op);
  const names = operands.map((o, i) => (o.constant
    ? b.initializer(`in${i}`, tensor(o.dtype ?? 'f32', o.shape, o.data))
    : b.input(`in${i}`, o.dtype ?? 'f32', o.shape)));
  const y = b.op(op, names, attrs);
  b.output(y);
  const ks = lowerGraph(b.build()).kernels;
  if (ks.length !== 1) throw new Error(`${op}: lowered to ${ks.length} kernels`);
  return (ks[0] as { problem: Problem }).problem as P;
}
