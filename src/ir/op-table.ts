// The op table: every op the IR knows, one entry each. "Where do I add an op?" — here.

import type { OpDef } from './op-def.ts';
import { conv2dOp } from './ops/conv.ts';
import { conv2dNBitsOp } from './ops/conv-nbits.ts';
import { CNN_OPS } from './ops/cnn.ts';
import { ELEMENTWISE_OPS } from './ops/elementwise.ts';
import { reshapeOp, transposeOp } from './ops/layout.ts';
import { gemmOp, matmulOp } from './ops/matmul.ts';
import { matmulNBitsOp } from './ops/matmul-nbits.ts';
import { quantizeActOp } from './ops/quantize-act.ts';
import { gatherOp } from './ops/gather.ts';
import { NORMALIZE_OPS } from './ops/normalize.ts';
import { REDUCE_OPS } from './ops/reduce.ts';
import { SHAPE_OPS } from './ops/shape-ops.ts';

export const OP_TABLE: ReadonlyMap<string, OpDef> = new Map(
  [...ELEMENTWISE_OPS, matmulOp, gemmOp, matmulNBitsOp, quantizeActOp, conv2dOp, conv2dNBitsOp, reshapeOp, transposeOp, ...REDUCE_OPS, ...NORMALIZE_OPS, gatherOp, ...SHAPE_OPS, ...CNN_OPS].map((d) => [d.name, d]),
);

export function getOp(name: string): OpDef | undefined {
  return OP_TABLE.get(name);
}
