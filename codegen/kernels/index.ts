// The kernel registry: every template by name, which templates can serve each problem kind,
// and `emitSource`, the one place WGSL is generated (so ANYBIT_PRINT_WGSL sees everything).
// Adding a kernel = one entry in TEMPLATES. Templates are stateless, so sharing them is safe.

import type { AnyKernelTemplate, DeviceInfo, Knobs } from '../kernel.ts';
import type { Problem } from '../problems.ts';
import { conv2dDirectTemplate } from './conv2d-direct.ts';
import { conv2dImplicitGemmTemplate } from './conv2d-implicit-gemm.ts';
import { conv2dLanesTemplate } from './conv2d-lanes.ts';
import { conv2dDepthwiseTemplate } from './conv2d-depthwise.ts';
import { elementwiseTemplate } from './elementwise.ts';
import { gemvTemplate } from './gemv.ts';
import { gemvVec4Template } from './gemv-vec4.ts';
import { matmulTemplate } from './matmul.ts';
import { matmulLanesTemplate } from './matmul-lanes.ts';
import { matmulF16GemvTemplate } from './matmul-f16-gemv.ts';
import { matmulF16GemvRowsTemplate } from './matmul-f16-gemv-rows.ts';
import { matmulF16GemmTemplate } from './matmul-f16-gemm.ts';
import { transposeTemplate } from './transpose.ts';
import { batchNormTemplate } from './batch-norm.ts';
import { convTranspose2dTemplate } from './conv-transpose2d.ts';
import { indexMapTemplate } from './index-map.ts';
import { pool2dTemplate } from './pool2d.ts';
import { resizeTemplate } from './resize.ts';
import { gatherTemplate } from './gather.ts';
import { reduceTemplate } from './reduce.ts';
import { rowNormTemplate } from './row-norm.ts';
import { matmulNBitsGemvLanesTemplate } from './matmul-nbits-gemv-lanes.ts';
import { matmulNBitsGemvTemplate } from './matmul-nbits-gemv.ts';
import { matmulNBitsGemmTemplate } from './matmul-nbits-gemm.ts';
import { matmulNBitsLanesTemplate } from './matmul-nbits-lanes.ts';
import { quantizeActTemplate } from './quantize-act.ts';
import { matmulNBitsPopcountGemvTemplate } from './matmul-nbits-popcount-gemv.ts';
import { matmulNBitsPopcountGemmTemplate } from './matmul-nbits-popcount-gemm.ts';
import { matmulNBitsDot4Template } from './matmul-nbits-dot4.ts';
import { matmulNBitsDot4GemmTemplate } from './matmul-nbits-dot4-gemm.ts';
import { conv2dNBitsTemplate } from './conv2d-nbits.ts';
import { conv2dNBitsDirectTemplate } from './conv2d-nbits-direct.ts';
import { conv2dNBitsLanesTemplate } from './conv2d-nbits-lanes.ts';

const BY_KIND: Readonly<Record<Problem['kind'], readonly AnyKernelTemplate[]>> = {
  elementwise: [elementwiseTemplate],
  // gemv first: it serves (and is the better default for) problems of at most 8 rows; its vec4
  // form first of all where B[k, n] has N % 4 == 0 (2x the scalar form on lavapipe).
  // Then the lane-register GEMM (2.3-5x matmul-tiled at 64x4096x4096 on lavapipe).
  // The f16 pair serves only problems with dtype 'f16' (which the f32 ones reject).
  matmul: [gemvVec4Template, gemvTemplate, matmulLanesTemplate, matmulTemplate, matmulF16GemvRowsTemplate, matmulF16GemvTemplate, matmulF16GemmTemplate],
  // Lane-register GEMM first for the convs it serves (1.5-4x direct on PP-OCRv4's 1x1 and 3x3 convs on
  // lavapipe), depthwise for the depthwise ones (1.3-2.5x); direct serves the rest (tiny images, groups).
  conv2d: [conv2dLanesTemplate, conv2dDepthwiseTemplate, conv2dDirectTemplate, conv2dImplicitGemmTemplate],
  transpose: [transposeTemplate],
  pool2d: [pool2dTemplate],
  resize: [resizeTemplate],
  'index-map': [indexMapTemplate],
  'batch-norm': [batchNormTemplate],
  'conv-transpose2d': [convTranspose2dTemplate],
  reduce: [reduceTemplate],
  'row-norm': [rowNormTemplate],
  gather: [gatherTemplate],
  // gemv first: it rejects (valid) problems of more than 8 rows, which the tiled gemm serves;
  // the lanes gemv (columns across lanes) before it serves the wide dense ones (N >= 32).
  'matmul-nbits': [matmulNBitsGemvLanesTemplate, matmulNBitsGemvTemplate, matmulNBitsLanesTemplate, matmulNBitsGemmTemplate, matmulNBitsDot4Template, matmulNBitsDot4GemmTemplate, matmulNBitsPopcountGemvTemplate, matmulNBitsPopcountGemmTemplate],
  'quantize-act': [quantizeActTemplate],
  // Direct first: the faster default on lavapipe (bench/conv-nbits.ts, RLFN 52->52 3x3 at 4 bits:
  // direct 483 ms, lanes 670 ms, where decoding each code per K step costs as much as the FMAs).
  'conv2d-nbits': [conv2dNBitsDirectTemplate, conv2dNBitsLanesTemplate, conv2dNBitsTemplate],
};

export const KERNELS: ReadonlyMap<string, AnyKernelTemplate> = new Map(
  Object.values(BY_KIND).flat().map((t) => [t.name, t]),
);

/** Templates able to serve `problem`'s kind, preferred first (individual problems may still be `valid`-rejected). */
export function templatesFor(problem: Problem): AnyKernelTemplate[] {
  return [...BY_KIND[problem.kind]];
}

function printRequested(): boolean {
  const env = typeof process !== 'undefined' ? process.env.ANYBIT_PRINT_WGSL : undefined;
  return env !== undefined && env !== '' && env !== '0';
}

/** The template's WGSL for (problem, knobs); printed with its key when ANYBIT_PRINT_WGSL is set. */
export function emitSource<P, K extends Knobs>(
  template: { name: string; key(p: P): string; source(p: P, k: K, dev: DeviceInfo): string },
  problem: P, knobs: K, dev: DeviceInfo,
): string {
  const wgsl = template.source(problem, knobs, dev);
  if (printRequested()) {
    console.log(`// ---- ${template.name} key=${template.key(problem)} knobs=${JSON.stringify(knobs)}\n${wgsl}`);
  }
  return wgsl;
}
