// layer_norm (ONNX LayerNormalization: normalizes over dims axis..rank-1, then scale and the
// optional bias, both broadcast to those dims) and rms_norm (x / sqrt(mean(x^2) + eps) * scale).
// Float inputs only; ONNX's optional Mean/InvStdDev outputs and stash_type are not modelled.

import { numberAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { broadcastStrides, shapeToString, type Shape } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { concreteNumel, tensorBytes } from './helpers.ts';
import { floatInputError, normalizeAxis } from './reduce.ts';

/** Error when `p` (scale or bias) does not broadcast one-way to the normalized dims. */
function paramError(what: string, p: TensorType, x: TensorType, norm: Shape, op: string): string | undefined {
  const bad = floatInputError(p, `${op} ${what}`);
  if (bad) return bad;
  if (p.dtype !== x.dtype) return `${op} ${what} has dtype ${String(p.dtype)}, X has ${String(x.dtype)}`;
  const off = norm.length - p.shape.length;
  const fits = off >= 0 && p.shape.every((d, i) => d === 1 || d === norm[off + i]);
  return fits ? undefined : `${op} ${what} ${shapeToString(p.shape)} does not broadcast to the normalized dims ${shapeToString(norm)}`;
}

export function normAxis(rank: number, attrs: Attrs, op: string): number | string {
  return normalizeAxis(rank, numberAttr(attrs, 'axis', -1), op);
}

function normDef(name: 'layer_norm' | 'rms_norm', maxInputs: number, doc: string): OpDef {
  return {
    name, category: 'norm', doc,
    inputs: { min: 2, max: maxInputs },
    attrs: { axis: { kind: 'int', default: -1 }, epsilon: { kind: 'float', default: 1e-5 } },
    infer(ins, attrs) {
      const x = ins[0] as TensorType;
      const bad = floatInputError(x, name);
      if (bad) return bad;
      const axis = normAxis(x.shape.length, attrs, name);
      if (typeof axis === 'string') return axis;
      const norm = x.shape.slice(axis);
      const pe = paramError('scale', ins[1] as TensorType, x, norm, name) ?? (ins[2] ? paramError('bias', ins[2], x, norm, name) : undefined);
      return pe ?? [x];
    },
    reference(ins, attrs) {
      const X = ins[0] as NdArray;
      const axis = normAxis(X.shape.length, attrs, name);
      if (typeof axis === 'string') throw new Error(`${name}: ${axis}`);
      const eps = numberAttr(attrs, 'epsilon', 1e-5);
      const norm = X.shape.slice(axis);
      const len = norm.reduce((a, b) => a * b, 1);
      const paramAt = (p: NdArray | undefined): ((j: number) => number) => {
        if (!p) return () => 0;
        const st = broadcastStrides(p.shape, norm);
        const inner = norm.map((_, d) => norm.slice(d + 1).reduce((a, b) => a * b, 1));
        return (j) => p.data[norm.reduce((o, size, d) => o + (Math.floor(j / (inner[d] as number)) % size) * (st[d] as number), 0)] as number;
      };
      const scale = paramAt(ins[1]);
      const bias = paramAt(ins[2]);
      const out = ndarray(X.shape);
      for (let base = 0; base < X.data.length; base += len) {
        let mean = 0;
        if (name === 'layer_norm') {
          for (let j = 0; j < len; j++) mean += X.data[base + j] as number;
          mean /= len;
        }
        let sq = 0;
        for (let j = 0; j < len; j++) sq += ((X.data[base + j] as number) - mean) ** 2;
        const inv = 1 / Math.sqrt(sq / len + eps);
        for (let j = 0; j < len; j++) out.data[base + j] = ((X.data[base + j] as number) - mean) * inv * scale(j) + bias(j);
      }
      return [out];
    },
    cost(ins, outs) {
      return { flops: 6 * concreteNumel(ins[0] as TensorType), bytes: tensorBytes(ins) + tensorBytes(outs) };
    },
  };
}

export const layerNormOp = normDef('layer_norm', 3, '(x - mean) / sqrt(var + epsilon) * scale + bias over dims axis..rank-1');
export const rmsNormOp = normDef('rms_norm', 2, 'x / sqrt(mean(x^2) + epsilon) * scale over dims axis..rank-1');

export const NORMALIZE_OPS: readonly OpDef[] = [layerNormOp, rmsNormOp];
