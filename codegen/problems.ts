// Problems: the kernel-level description of what one dispatch computes, derived from IR nodes
// by src/compile/lower.ts. Everything in a Problem is baked into the WGSL (it is the cache
// key); shapes are concrete. Element type is f32 throughout this first version.

import type { Attrs } from '../src/ir/graph.ts';

/** Unary elementwise ops applied, in order, to a kernel's result (after any bias). */
export type Epilogue = readonly { readonly op: string; readonly attrs: Attrs }[];

export type ElementwiseArg = { readonly input: number } | { readonly step: number };

export interface ElementwiseStep {
  readonly op: string;
  readonly attrs: Attrs;
  readonly args: readonly ElementwiseArg[];
}

/** A fused chain/DAG of elementwise ops; the output is the last step. Inputs broadcast to outShape. */
export interface ElementwiseProblem {
  readonly kind: 'elementwise';
  readonly outShape: readonly number[];
  readonly inputShapes: readonly (readonly number[])[];
  readonly steps: readonly ElementwiseStep[];
}

/**
 * out[b, m, n] = epilogue(alpha * sum_k A[b, m, k] * B[b, k, n] + beta * C[m, n]).
 * Batch dims broadcast: A's offset for flat batch index b is sum_d idx_d(b) * aBatchStrides[d]
 * (in elements; 0 on broadcast dims), likewise B. A is [M, K] row-major per batch, or [K, M]
 * when transA; B is [K, N], or [N, K] when transB. The optional bias C is input 2, read at
 * m * bias.strideM + n * bias.strideN (strides 0 where C broadcasts).
 */
export interface MatmulProblem {
  readonly kind: 'matmul';
  readonly batchShape: readonly number[];
  readonly aBatchStrides: readonly number[];
  readonly bBatchStrides: readonly number[];
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly alpha: number;
  readonly beta: number;
  readonly bias: { readonly strideM: number; readonly strideN: number } | null;
  readonly epilogue: Epilogue;
}

/** NCHW conv2d; inputs X, W[M, C/group, kH, kW] and, when `bias`, B[M]. */
export interface Conv2dProblem {
  readonly kind: 'conv2d';
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly M: number;
  readonly kH: number;
  readonly kW: number;
  readonly OH: number;
  readonly OW: number;
  readonly strides: readonly [number, number];
  /** [top, left]; bottom/right padding is implied by OH/OW. */
  readonly pads: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly group: number;
  readonly bias: boolean;
  readonly epilogue: Epilogue;
}

export interface TransposeProblem {
  readonly kind: 'transpose';
  readonly inShape: readonly number[];
  readonly perm: readonly number[];
}

export type Problem = ElementwiseProblem | MatmulProblem | Conv2dProblem | TransposeProblem;
