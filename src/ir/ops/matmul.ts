// matmul (NumPy semantics, rank >= 2, batch dims broadcast) and gemm
// (Y = alpha * op(A) op(B) + beta * C, A and B rank 2, C broadcast to [M, N]).
// 1-D matmul operands are not supported: front-ends reshape them first.

import { isFloat } from '../dtype.ts';
import { numberAttr, type Attrs } from '../graph.ts';
import type { OpDef } from '../op-def.ts';
import { broadcastShapes, broadcastStrides, isConcrete, numel, stridesOf, type Dim } from '../shape.ts';
import { ndarray, type NdArray, type TensorType } from '../tensor.ts';
import { tensorBytes } from './helpers.ts';

function dimsAgree(a: Dim, b: Dim): boolean {
  return a === b;
}

export const matmulOp: OpDef = {
  name: 'matmul', category: 'matmul', doc: 'batched matrix product A[..., M, K] x B[..., K, N]',
  inputs: { min: 2, max: 2 }, attrs: {},
  infer([a, b]) {
    const ta = a as TensorType;
    const tb = b as TensorType;
    if (!isFloat(ta.dtype) || ta.dtype !== tb.dtype) return `matmul needs two float operands of one dtype`;
    if (ta.shape.length < 2 || tb.shape.length < 2) return `matmul needs operands of rank >= 2, got ${ta.shape.length} and ${tb.shape.length}`;
    const k1 = ta.shape[ta.shape.length - 1] as Dim;
    const k2 = tb.shape[tb.shape.length - 2] as Dim;
    if (!dimsAgree(k1, k2)) return `matmul inner dimensions differ: A has K=${k1}, B has K=${k2}`;
    const batch = broadcastShapes(ta.shape.slice(0, -2), tb.shape.slice(0, -2));
    if (typeof batch === 'string') return `matmul batch dims: ${batch}`;
    return [{ dtype: ta.dtype, shape: [...batch, ta.shape[ta.shape.length - 2] as Dim, tb.shape[tb.shape.length - 1] as Dim] }];
  },
  reference([a, b]) {
    const x = a as NdArray;
    const y = b as NdArray;
    const M = x.shape[x.shape.length - 2] as number;
    const K = x.shape[x.shape.length - 1] as number;
    const N = y.shape[y.shape.length - 1] as number;
    const batch = broadcastShapes(x.shape.slice(0, -2), y.shape.slice(0, -2));
    if (typeof batch === 'string' || !isConcrete(batch)) throw new Error(`matmul: ${String(batch)}`);
    const sa = broadcastStrides(x.shape.slice(0, -2), batch);
    const sb = broadcastStrides(y.shape.slice(0, -2), batch);
    const bs = stridesOf(batch);
    const nb = numel(batch);
    const out = ndarray([...batch, M, N]);
    for (let bi = 0; bi < nb; bi++) {
      let oa = 0;
      let ob = 0;
      for (let d = 0; d < batch.length; d++) {
        const i = Math.floor(bi / (bs[d] as number)) % (batch[d] as number);
        oa += i * (sa[d] as number);
        ob += i * (sb[d] as number);
      }
      oa *= M * K;
      ob *= K * N;
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += (x.data[oa + m * K + k] as number) * (y.data[ob + k * N + n] as number);
          out.data[bi * M * N + m * N + n] = s;
        }
      }
    }
    return [out];
  },
  cost(ins, outs) {
    const o = outs[0] as TensorType;
    const a = ins[0] as TensorType;
    const K = a.shape[a.shape.length - 1];
    const flops = isConcrete(o.shape) && typeof K === 'number' ? 2 * numel(o.shape) * K : 0;
    return { flops, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};

function gemmDims(a: readonly Dim[], b: readonly Dim[], attrs: Attrs): { M: Dim; K: Dim; K2: Dim; N: Dim } {
  const ta = numberAttr(attrs, 'transA', 0) !== 0;
  const tb = numberAttr(attrs, 'transB', 0) !== 0;
  return {
    M: a[ta ? 1 : 0] as Dim, K: a[ta ? 0 : 1] as Dim,
    K2: b[tb ? 1 : 0] as Dim, N: b[tb ? 0 : 1] as Dim,
  };
}

export const gemmOp: OpDef = {
  name: 'gemm', category: 'matmul', doc: 'Y = alpha * op(A) op(B) + beta * C (C broadcast to [M, N])',
  inputs: { min: 2, max: 3 },
  attrs: {
    alpha: { kind: 'float', default: 1 }, beta: { kind: 'float', default: 1 },
    transA: { kind: 'int', default: 0 }, transB: { kind: 'int', default: 0 },
  },
  infer(ins, attrs) {
    const [a, b, c] = ins as TensorType[];
    if (!a || !b) return 'gemm needs A and B';
    if (a.shape.length !== 2 || b.shape.length !== 2) return `gemm needs rank-2 A and B, got rank ${a.shape.length} and ${b.shape.length}`;
    if (!isFloat(a.dtype) || a.dtype !== b.dtype) return 'gemm needs float operands of one dtype';
    const { M, K, K2, N } = gemmDims(a.shape, b.shape, attrs);
    if (K !== K2) return `gemm inner dimensions differ: op(A) has K=${K}, op(B) has K=${K2}`;
    if (c) {
      if (c.dtype !== a.dtype) return 'gemm C has another dtype than A';
      const s = broadcastShapes([M, N], c.shape);
      if (typeof s === 'string' || s.length !== 2 || s[0] !== M || s[1] !== N) return `gemm C of shape [${c.shape.join(',')}] does not broadcast to [${M},${N}]`;
    }
    return [{ dtype: a.dtype, shape: [M, N] }];
  },
  reference(ins, attrs) {
    const [a, b, c] = ins as NdArray[];
    const A = a as NdArray;
    const B = b as NdArray;
    const ta = numberAttr(attrs, 'transA', 0) !== 0;
    const tb = numberAttr(attrs, 'transB', 0) !== 0;
    const alpha = numberAttr(attrs, 'alpha', 1);
    const beta = numberAttr(attrs, 'beta', 1);
    const { M, K, N } = gemmDims(A.shape, B.shape, attrs) as { M: number; K: number; N: number };
    const out = ndarray([M, N]);
    const cs = c ? broadcastStrides(c.shape, [M, N]) : [0, 0];
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = A.data[ta ? k * M + m : m * K + k] as number;
          const bv = B.data[tb ? n * K + k : k * N + n] as number;
          s += av * bv;
        }
        const cv = c ? (c.data[m * (cs[0] as number) + n * (cs[1] as number)] as number) : 0;
        out.data[m * N + n] = alpha * s + beta * cv;
      }
    }
    return [out];
  },
  cost(ins, outs, attrs) {
    const [a, b] = ins as TensorType[];
    const { M, K, N } = gemmDims((a as TensorType).shape, (b as TensorType).shape, attrs);
    const flops = typeof M === 'number' && typeof K === 'number' && typeof N === 'number' ? 2 * M * N * K : 0;
    return { flops, bytes: tensorBytes(ins) + tensorBytes(outs) };
  },
};
