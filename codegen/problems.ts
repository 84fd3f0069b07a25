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
  /** Absent = 'f32'. 'f16': A, B and the output are f16 storage (codegen/kernels/matmul-f16-*.ts). */
  readonly dtype?: 'f32' | 'f16';
}

/** The geometry conv-like problems share (NCHW). pads = [top, left]; bottom/right follow from OH/OW. */
export interface ConvGeometry {
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
  readonly pads: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly group: number;
  readonly bias: boolean;
  readonly epilogue: Epilogue;
}

/** NCHW conv2d; inputs X, W[M, C/group, kH, kW] and, when `bias`, B[M]. */
export interface Conv2dProblem extends ConvGeometry {
  readonly kind: 'conv2d';
}

export interface TransposeProblem {
  readonly kind: 'transpose';
  readonly inShape: readonly number[];
  readonly perm: readonly number[];
}

/**
 * out[o] = combine over r of in[keptOffset(o) + reducedOffset(r)], where both offsets decode a
 * flat index row-major over the kept / reduced dims with the given element strides.
 */
export interface ReduceProblem {
  readonly kind: 'reduce';
  readonly op: 'sum' | 'mean' | 'max';
  readonly keptShape: readonly number[];
  readonly keptStrides: readonly number[];
  readonly reducedShape: readonly number[];
  readonly reducedStrides: readonly number[];
}

/**
 * Row-wise normalization over lanes of `len` elements `inner` apart (lane r starts at
 * (r / inner) * len * inner + r % inner; rows = outer * inner). Input 0 is X; layer_norm and
 * rms_norm read scale (input 1) and layer_norm's optional bias (input 2) at offsets of the lane
 * position j decoded over `paramShape` with the given strides (0 where the param broadcasts).
 */
export interface RowNormProblem {
  readonly kind: 'row-norm';
  readonly op: 'softmax' | 'log_softmax' | 'layer_norm' | 'rms_norm';
  readonly outer: number;
  readonly len: number;
  readonly inner: number;
  readonly epsilon: number;
  readonly paramShape: readonly number[];
  readonly scaleStrides: readonly number[] | null;
  readonly biasStrides: readonly number[] | null;
}

/** out[o, k, i] = data[o, indices[k], i] with data viewed as [outer, axisLen, inner]; indices are baked (already wrapped). */
export interface GatherProblem {
  readonly kind: 'gather';
  readonly outer: number;
  readonly axisLen: number;
  readonly inner: number;
  readonly indices: readonly number[];
}

/**
 * 2-D pooling over planes = N*C of [H, W] (also global average: kernel = whole plane). pads are
 * [top, left, bottom, right]; bottom/right bound the count_include_pad divisor. Empty windows give 0.
 */
export interface Pool2dProblem {
  readonly kind: 'pool2d';
  readonly mode: 'max' | 'avg';
  readonly planes: number;
  readonly H: number;
  readonly W: number;
  readonly OH: number;
  readonly OW: number;
  readonly kH: number;
  readonly kW: number;
  readonly strides: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  readonly dilations: readonly [number, number];
  readonly countIncludePad: boolean;
}

/** Nearest/bilinear resize of planes of [H, W] to [OH, OW] (attrs as in src/ir/ops/resize.ts). */
export interface ResizeProblem {
  readonly kind: 'resize';
  readonly planes: number;
  readonly H: number;
  readonly W: number;
  readonly OH: number;
  readonly OW: number;
  readonly mode: 'nearest' | 'linear';
  readonly coord: 'half_pixel' | 'align_corners' | 'asymmetric' | 'pytorch_half_pixel' | 'tf_half_pixel_for_nearest';
  readonly nearest: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
}

/** One input of an index-map: output coordinate o[d] reads source coordinate start[d] + step[d] * o[d]. */
export interface IndexMapSource {
  readonly shape: readonly number[];
  readonly start: readonly number[];
  readonly step: readonly number[];
  /** First output coordinate along the problem's `selectAxis` this source serves (0 for the first). */
  readonly from: number;
}

/**
 * Gather-style copy (pad, slice, concat, split): each output element reads one element of one
 * source through per-dim affine maps. Sources are tried by `from` along `selectAxis`; a source
 * coordinate out of range reads through `border` (constant value, reflect, edge).
 */
export interface IndexMapProblem {
  readonly kind: 'index-map';
  readonly outShape: readonly number[];
  readonly sources: readonly IndexMapSource[];
  readonly selectAxis: number;
  readonly border: { readonly mode: 'constant' | 'reflect' | 'edge'; readonly value: number };
}

/** Inference batch norm over X viewed as [outer, C, inner]; inputs X, scale, B, mean, var. */
export interface BatchNormProblem {
  readonly kind: 'batch-norm';
  readonly outer: number;
  readonly C: number;
  readonly inner: number;
  readonly epsilon: number;
  readonly epilogue: Epilogue;
}

/** NCHW transposed conv; inputs X, W[C, M/group, kH, kW] and, when `bias`, B[M]. */
export interface ConvTranspose2dProblem extends ConvGeometry {
  readonly kind: 'conv-transpose2d';
}

/**
 * Weight-only quantized matmul: out[M, N] = epilogue(A · dequant(W)^T + bias), W[N, K] packed as
 * in src/quant/format.ts. Inputs in order: A f32 [M, K] row-major, words (array<u32>), scales
 * f32 [N, G], zeros f32 [N, G] (G = ceil(K / group)), then bias f32 [N] when `bias`.
 */
export interface MatmulNBitsProblem {
  readonly kind: 'matmul-nbits'; readonly M: number; readonly N: number; readonly K: number; readonly bits: number; readonly group: number; readonly layout: 'dense' | 'planes'; readonly bias: boolean; readonly epilogue: Epilogue;
  /** Absent or 0: f32 A. Else A is quantize_act rows (u32, src/quant/act.ts) of this width in `actLayout`. */
  readonly actBits?: number;
  readonly actLayout?: 'dense' | 'planes';
}

/**
 * Weight-only quantized NCHW conv2d (op conv2d_nbits): inputs X, words, scales f32 [M, G], zeros
 * f32 [M, G] (G = ceil(K / quantGroup)), then bias f32 [M] when `bias`. W is packed as
 * matmul-nbits' W[M, K], K = C/group * kH * kW in (c, kh, kw) order; `group` is the conv's.
 */
export interface Conv2dNBitsProblem extends ConvGeometry {
  readonly kind: 'conv2d-nbits'; readonly bits: number; readonly quantGroup: number; readonly layout: 'dense' | 'planes';
}

/** quantize_act: `rows` rows of K f32 -> u32 rows [scale bits, zero, codes] (src/quant/act.ts). */
export interface QuantizeActProblem { readonly kind: 'quantize-act'; readonly rows: number; readonly K: number; readonly bits: number; readonly layout: 'dense' | 'planes' }

export type Problem = ElementwiseProblem | MatmulProblem | Conv2dProblem | TransposeProblem | ReduceProblem | RowNormProblem | GatherProblem | Pool2dProblem | ResizeProblem | IndexMapProblem | BatchNormProblem | ConvTranspose2dProblem | MatmulNBitsProblem | QuantizeActProblem | Conv2dNBitsProblem;
