// The CNN op batch (pooling, resize, layout copies, batch_norm, conv_transpose2d) as one list,
// so the op table registers it with one entry. Definitions live in the files imported here.

import type { OpDef } from '../op-def.ts';
import { batchNormOp } from './batch-norm.ts';
import { concatOp, depthToSpaceOp, splitOp } from './concat-split.ts';
import { convTranspose2dOp } from './conv-transpose.ts';
import { padOp, sliceOp } from './pad-slice.ts';
import { avgPool2dOp, globalAvgPoolOp, maxPool2dOp } from './pool.ts';
import { resizeOp } from './resize.ts';

export const CNN_OPS: readonly OpDef[] = [
  maxPool2dOp, avgPool2dOp, globalAvgPoolOp, resizeOp, depthToSpaceOp, padOp, concatOp, sliceOp, splitOp,
  batchNormOp, convTranspose2dOp,
];
