// batch_norm, inference mode (ONNX BatchNormalization with training_mode=0): inputs X[N, C, ...],
// scale[C], B[C], mean[C], var[C]; y = (x - mean) / sqrt(var + epsilon) * scale + B, per
// channel on axis 1. No running-statistics outputs and no training mode.

import { isFloat } from '../dtype.ts';
import { numberAttr } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import type { Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { concreteNumel, tensorBytes } from './helpers.ts';

const PARAM_NAMES = ['scale', 'B', 'mean', 'var'] as const;

export const batchNormOp: OpDef = {
  name: 'batch_norm', category: 'norm', doc: 'per-channel (axis 1) normalisation with fixed statistics: inputs X, scale, B, mean, var',
  inputs: { min: 5, max: 5 }, attrs: { epsilon: { kind: 'float', default: 1e-5 } },
  infer(ins) {
    const x = ins[0] as TensorType;
    if (x.shape.length < 2) return `batch_norm needs X of rank >= 2 (N, C, ...), got rank ${x.shape.length}`;
    if (!isFloat(x.dtype)) return 'batch_norm needs a float X';
    const C = x.shape[1] as Dim;
    for (const [i, name] of PARAM_NAMES.entries()) {
      const t = ins[i + 1] as TensorType;
      if (t.shape.length !== 1 || t.shape[0] !== C) return `batch_norm ${name} must have shape [${C}], got [${t.shape.join(',')}]`;
      if (t.dtype !== x.dtype) return `batch_norm ${name} has dtype ${String(t.dtype)}, X has ${String(x.dtype)}`;
    }
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  reference(ins, attrs) {
    const [X, scale, B, mean, variance] = ins as [NdArray, NdArray, NdArray, NdArray, NdArray];
    const eps = numberAttr(attrs, 'epsilon', 1e-5);
    const C = X.shape[1] as number;
    const inner = X.shape.slice(2).reduce((a, b) => a * b, 1);
    const out = ndarray(X.shape);
    for (let i = 0; i < X.data.length; i++) {
      const c = Math.floor(i / inner) % C;
      const inv = 1 / Math.sqrt((variance.data[c] as number) + eps);
      out.data[i] = ((X.data[i] as number) - (mean.data[c] as number)) * inv * (scale.data[c] as number) + (B.data[c] as number);
    }
    return [out];
  },
  cost(ins, outs) {
    return { flops: 4 * concreteNumel(outs[0] as TensorType), bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
