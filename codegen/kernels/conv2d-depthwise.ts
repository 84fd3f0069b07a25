// Depthwise NCHW conv2d (group = C = M): a workgroup serves one channel (so every weight load is
// workgroup-uniform: a scalar broadcast on lavapipe) and each invocation `outputsX` adjacent output
// columns of one row. Per kernel row the input span those columns need is loaded once into registers
// and reused by every tap (kW*outputsX FMAs for (outputsX-1)*sW + (kW-1)*dW + 1 loads, where
// conv2d-direct loads per tap). Any stride, padding, dilation, bias, epilogue; multiplier 1 only.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { Conv2dProblem } from '../problems.ts';
import { applyEpilogue } from '../wgsl/expr.ts';
import { ceilDiv, dispatchProblem, foldDispatch, i32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { convKey, convShapeProblem } from './conv2d-direct.ts';

export type Conv2dDepthwiseKnobs = {
  /** Invocations per workgroup (8 = one AVX2 SIMD chunk on lavapipe). */
  readonly lanes: number;
  /** Adjacent output columns per invocation. */
  readonly outputsX: number;
};

const KNOBS: KnobSpace<Conv2dDepthwiseKnobs> = { lanes: [8, 16, 32, 64], outputsX: [1, 2, 4, 8] };

/** Input registers per kernel row past which the span spills (and LLVM compile time grows). */
const MAX_SPAN = 48;

const uniforms = (p: Conv2dProblem): Uniform[] => [{ name: 'kh', type: 'u32', value: p.kH }];

const span = (p: Conv2dProblem, k: Conv2dDepthwiseKnobs): number => (k.outputsX - 1) * p.strides[1] + (p.kW - 1) * p.dilations[1] + 1;
const blocksX = (p: Conv2dProblem, k: Conv2dDepthwiseKnobs): number => ceilDiv(p.OW, k.outputsX);
/** Workgroups per (image, channel) plane: its OH x blocksX invocations, padded to whole workgroups. */
const groupsPerPlane = (p: Conv2dProblem, k: Conv2dDepthwiseKnobs): number => ceilDiv(p.OH * blocksX(p, k), k.lanes);
const groups = (p: Conv2dProblem, k: Conv2dDepthwiseKnobs): number => p.N * p.C * groupsPerPlane(p, k);

function body(b: ShaderBuilder, p: Conv2dProblem, k: Conv2dDepthwiseKnobs): string {
  const I = k.outputsX;
  const S = span(p, k);
  const [sH, sW] = p.strides;
  const [dH, dW] = p.dilations;
  const lines = [
    `if (groupIdx >= ${u32Lit(groups(p, k))}) { return; }`,
    `let plane = groupIdx / ${u32Lit(groupsPerPlane(p, k))};`,
    `let c = plane % ${u32Lit(p.C)};`,
    `let q = (groupIdx % ${u32Lit(groupsPerPlane(p, k))}) * ${u32Lit(k.lanes)} + lidx;`,
    // Lanes past the plane's end compute a clamped (valid) block and skip the store.
    `let live = q < ${u32Lit(p.OH * blocksX(p, k))};`,
    `let qc = min(q, ${u32Lit(p.OH * blocksX(p, k) - 1)});`,
    `let oh = qc / ${u32Lit(blocksX(p, k))};`,
    `let ow0 = (qc % ${u32Lit(blocksX(p, k))}) * ${I}u;`,
    `let xPlane = plane * ${u32Lit(p.H * p.W)};`,
    `let wc = c * ${u32Lit(p.kH * p.kW)};`,
    `let ix0 = i32(ow0 * ${sW}u) - ${i32Lit(p.pads[1])};`,
    ...Array.from({ length: I }, (_, i) => `var acc${i} = 0.0;`),
    // The trip count is a uniform: with a literal (or min(literal, ...)) bound lavapipe's LLVM unrolls
    // the loop, and compiling at the first dispatch took ~0.8 s instead of ~0.1 s per shader.
    'for (var ky = 0u; ky < params.kh; ky++) {',
    `  let iy = i32(oh * ${sH}u + ky * ${dH}u) - ${i32Lit(p.pads[0])};`,
    `  let rowOk = iy >= 0i && iy < ${i32Lit(p.H)};`,
    `  let xrow = xPlane + u32(clamp(iy, 0i, ${i32Lit(p.H - 1)})) * ${u32Lit(p.W)};`,
  ];
  // Out-of-range pixels read a clamped (valid) address and are zeroed by the select: no branch.
  for (let t = 0; t < S; t++) {
    lines.push(`  let x${t} = select(0.0, x[xrow + u32(clamp(ix0 + ${t}i, 0i, ${i32Lit(p.W - 1)}))], rowOk && ix0 + ${t}i >= 0i && ix0 + ${t}i < ${i32Lit(p.W)});`);
  }
  for (let kx = 0; kx < p.kW; kx++) {
    lines.push(`  let w${kx} = w[wc + ky * ${p.kW}u + ${kx}u];`);
    for (let i = 0; i < I; i++) lines.push(`  acc${i} = fma(x${i * sW + kx * dW}, w${kx}, acc${i});`);
  }
  lines.push('}', 'if (!live) { return; }', `let obase = plane * ${u32Lit(p.OH * p.OW)} + oh * ${u32Lit(p.OW)} + ow0;`);
  for (let i = 0; i < I; i++) {
    const v = p.bias ? `acc${i} + bias[c]` : `acc${i}`;
    lines.push(`if (ow0 + ${i}u < ${u32Lit(p.OW)}) { out[obase + ${i}u] = ${applyEpilogue(p.epilogue, v, b)}; }`);
  }
  return lines.join('\n');
}

export const conv2dDepthwiseTemplate: KernelTemplate<Conv2dProblem, Conv2dDepthwiseKnobs> = {
  name: 'conv2d-depthwise',
  knobs: KNOBS,

  valid(p, k, dev) {
    const bad = convShapeProblem(p);
    if (bad) return bad;
    if (p.group !== p.C || p.M !== p.C) return 'not depthwise with multiplier 1 (group = C = M)';
    if (span(p, k) > MAX_SPAN) return `input span ${span(p, k)} > ${MAX_SPAN} registers`;
    if (k.lanes > dev.limits.maxComputeInvocationsPerWorkgroup || k.lanes > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.lanes} exceeds the device's invocation limits`;
    }
    return dispatchProblem(groups(p, k)) ?? true;
  },

  key: convKey,

  source(p, k) {
    const b = new ShaderBuilder({ inputs: p.bias ? ['x', 'w', 'bias'] : ['x', 'w'], outputs: ['out'], uniforms: uniforms(p) });
    return b.build([k.lanes, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(groups(p, k)), uniforms: uniforms(p) };
  },

  // Measured on lavapipe, PP-OCRv4's depthwise convs (3x3/5x5, OW 80-160): 16 lanes beat 8 by up to
  // 1.3x; 8 columns won only on the widest rows. 1.3-2.5x conv2d-direct's defaults.
  defaults(p) {
    return { lanes: 16, outputsX: p.OW >= 128 ? 8 : p.OW >= 8 ? 4 : p.OW >= 2 ? 2 : 1 };
  },
};
