// gather (ONNX Gather): out = data indexed along `axis` by an i32 index tensor; negative
// indices count from the end. out.shape = data[:axis] + indices.shape + data[axis+1:].
// Index values are data, so out-of-range indices are caught by the reference and by lowering.

import { isPacked } from '../dtype.ts';
import { numberAttr } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { shapeToString } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { tensorBytes } from './helpers.ts';
import { normalizeAxis } from './reduce.ts';

/** The in-range, non-negative form of index `i` along a dim of `len`, or an error string. */
export function wrapIndex(i: number, len: number): number | string {
  if (!Number.isInteger(i) || i < -len || i >= len) return `gather index ${i} is out of range [${-len}, ${len})`;
  return i < 0 ? i + len : i;
}

export const gatherOp: OpDef = {
  name: 'gather', category: 'layout', doc: 'data[..., indices, ...] along axis (i32 indices, negative wrap)',
  inputs: { min: 2, max: 2 }, attrs: { axis: { kind: 'int', default: 0 } },
  infer([data, indices], attrs) {
    const d = data as TensorType;
    const ix = indices as TensorType;
    if (isPacked(d.dtype)) return 'gather of packed data needs a dequantize node first';
    if (ix.dtype !== 'i32') return `gather indices must be i32, got ${typeof ix.dtype === 'string' ? ix.dtype : 'a packed integer'}`;
    if (!d.shape.length) return `gather needs data of rank >= 1, got ${shapeToString(d.shape)}`;
    const axis = normalizeAxis(d.shape.length, numberAttr(attrs, 'axis', 0), 'gather');
    if (typeof axis === 'string') return axis;
    return [{ dtype: d.dtype, shape: [...d.shape.slice(0, axis), ...ix.shape, ...d.shape.slice(axis + 1)] }];
  },
  reference([data, indices], attrs) {
    const D = data as NdArray;
    const I = indices as NdArray;
    const axis = normalizeAxis(D.shape.length, numberAttr(attrs, 'axis', 0), 'gather');
    if (typeof axis === 'string') throw new Error(`gather: ${axis}`);
    const len = D.shape[axis] as number;
    const outer = D.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = D.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const out = ndarray([...D.shape.slice(0, axis), ...I.shape, ...D.shape.slice(axis + 1)]);
    const n = I.data.length;
    for (let k = 0; k < n; k++) {
      const j = wrapIndex(I.data[k] as number, len);
      if (typeof j === 'string') throw new Error(j);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) out.data[(o * n + k) * inner + i] = D.data[(o * len + j) * inner + i] as number;
      }
    }
    return [out];
  },
  cost(ins, outs) {
    return { flops: 0, bytes: tensorBytes([ins[1] as TensorType]) + 2 * tensorBytes(outs) };
  },
};
