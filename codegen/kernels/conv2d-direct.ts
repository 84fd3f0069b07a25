// Direct NCHW conv2d: each invocation computes `outputsX` adjacent output columns for
// `channels` adjacent output channels of one (image, row), reusing each weight across the
// columns and each input pixel across the channels. Handles groups (incl. depthwise), stride,
// padding, dilation, bias, epilogue. No workgroup memory; weights are re-read from storage.
// Loop trip counts (channels, kernel rows and columns) are uniforms: as literals, lavapipe unrolls
// the loops and its LLVM takes seconds per kernel at the first dispatch (measured CPU: 1x1 conv over
// 26 channels 2.5-3.8 s -> 0.13-0.18 s; depthwise 5x5 1.2-1.4 s -> 0.16-0.29 s).

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { Conv2dProblem } from '../problems.ts';
import { applyEpilogue, epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { ceilDiv, dispatchProblem, foldDispatch, i32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';

export type Conv2dDirectKnobs = {
  readonly workgroupSize: number;
  /** Adjacent output columns per invocation. */
  readonly outputsX: number;
  /** Adjacent output channels per invocation (must divide M / group). */
  readonly channels: number;
};

const KNOBS: KnobSpace<Conv2dDirectKnobs> = { workgroupSize: [64, 128, 256], outputsX: [1, 2, 4], channels: [1, 2, 4] };

function invocations(p: Conv2dProblem, k: Conv2dDirectKnobs): number {
  return p.N * (p.M / k.channels) * p.OH * ceilDiv(p.OW, k.outputsX);
}

/** The loop bounds: input channels per group, kernel rows and columns (uniforms, so not unrolled). */
const uniforms = (p: Conv2dProblem): Uniform[] => [
  { name: 'channels', type: 'u32', value: p.C / p.group },
  { name: 'kh', type: 'u32', value: p.kH },
  { name: 'kw', type: 'u32', value: p.kW },
];

/** A reason the conv's shape is inconsistent (shared with the implicit-GEMM template). */
export function convShapeProblem(p: Conv2dProblem): string | undefined {
  if (p.group < 1 || p.C % p.group || p.M % p.group) return `channels ${p.C}->${p.M} not divisible by group ${p.group}`;
  if ([p.N, p.C, p.H, p.W, p.M, p.kH, p.kW, p.OH, p.OW].some((d) => d < 1)) return 'empty conv';
  if (p.N * p.M * p.OH * p.OW > 0x7fffffff || p.N * p.C * p.H * p.W > 0x7fffffff) return 'tensor too large for 32-bit indexing';
  return epilogueProblem(p.epilogue);
}

export function convKey(p: Conv2dProblem): string {
  return [
    `N${p.N}C${p.C}H${p.H}W${p.W}`, `M${p.M}k${p.kH}x${p.kW}`, `O${p.OH}x${p.OW}`,
    `s${p.strides.join(',')}p${p.pads.join(',')}d${p.dilations.join(',')}g${p.group}`,
    p.bias ? 'bias' : 'nobias', `epi:${epilogueKey(p.epilogue)}`,
  ].join(';');
}

/** The shape of a direct conv's register tile: what directTile needs of a problem. */
type TileShape = Pick<Conv2dProblem, 'W' | 'OH' | 'OW' | 'strides' | 'dilations' | 'pads' | 'bias' | 'epilogue'>;

/**
 * The register tile of `J` output channels x `I` adjacent output columns shared by the direct conv
 * templates: accumulator declarations, the FMAs of one tap (in scope: ow0, kx, xrow; the weight of
 * channel j is `weightAt(j)`), and the guarded stores (in scope: obase, m0).
 */
export function directTile(b: ShaderBuilder, p: TileShape, J: number, I: number, weightAt: (j: number) => string): { acc: string[]; inner: string[]; stores: string[] } {
  const sW = p.strides[1];
  const dW = p.dilations[1];
  const acc: string[] = [];
  const inner: string[] = [];
  for (let j = 0; j < J; j++) for (let i = 0; i < I; i++) acc.push(`var acc${j}_${i} = 0.0;`);
  for (let j = 0; j < J; j++) inner.push(`let w${j} = ${weightAt(j)};`);
  for (let i = 0; i < I; i++) {
    // Out-of-range taps read a clamped (valid) address and are zeroed by the select.
    inner.push(`let ix${i} = i32((ow0 + ${i}u) * ${sW}u + kx * ${dW}u) - ${i32Lit(p.pads[1])};`,
      `let xv${i} = select(0.0, x[xrow + u32(clamp(ix${i}, 0i, ${i32Lit(p.W - 1)}))], ix${i} >= 0i && ix${i} < ${i32Lit(p.W)});`);
  }
  for (let j = 0; j < J; j++) for (let i = 0; i < I; i++) inner.push(`acc${j}_${i} = fma(xv${i}, w${j}, acc${j}_${i});`);
  const stores: string[] = [];
  for (let j = 0; j < J; j++) {
    for (let i = 0; i < I; i++) {
      const v = p.bias ? `acc${j}_${i} + bias[m0 + ${j}u]` : `acc${j}_${i}`;
      stores.push(`if (ow0 + ${i}u < ${u32Lit(p.OW)}) { out[obase + ${u32Lit(j * p.OH * p.OW)} + ${i}u] = ${applyEpilogue(p.epilogue, v, b)}; }`);
    }
  }
  return { acc, inner, stores };
}

export const conv2dDirectTemplate: KernelTemplate<Conv2dProblem, Conv2dDirectKnobs> = {
  name: 'conv2d-direct',
  knobs: KNOBS,

  valid(p, k, dev) {
    const bad = convShapeProblem(p);
    if (bad) return bad;
    if ((p.M / p.group) % k.channels) return `${k.channels} channels per invocation do not divide ${p.M / p.group} per group`;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    return dispatchProblem(ceilDiv(invocations(p, k), k.workgroupSize)) ?? true;
  },

  key: convKey,

  source(p, k) {
    const b = new ShaderBuilder({ inputs: p.bias ? ['x', 'w', 'bias'] : ['x', 'w'], outputs: ['out'], uniforms: uniforms(p) });
    const Cg = p.C / p.group;
    const Mg = p.M / p.group;
    const OWB = ceilDiv(p.OW, k.outputsX);
    const MB = p.M / k.channels;
    const wPerM = Cg * p.kH * p.kW;
    const sH = p.strides[0];
    const dH = p.dilations[0];
    const J = k.channels;
    const I = k.outputsX;
    const { acc, inner, stores } = directTile(b, p, J, I, (j) => `w[wc + ${u32Lit(j * wPerM)} + ky * ${p.kW}u + kx]`);
    const body = [
      `let id = groupIdx * ${u32Lit(k.workgroupSize)} + lidx;`,
      `if (id >= ${u32Lit(invocations(p, k))}) { return; }`,
      `let ow0 = (id % ${u32Lit(OWB)}) * ${I}u;`,
      `let oh = (id / ${u32Lit(OWB)}) % ${u32Lit(p.OH)};`,
      `let m0 = ((id / ${u32Lit(OWB * p.OH)}) % ${u32Lit(MB)}) * ${J}u;`,
      `let n = id / ${u32Lit(OWB * p.OH * MB)};`,
      `let g = m0 / ${u32Lit(Mg)};`,
      `let xg = (n * ${u32Lit(p.C)} + g * ${u32Lit(Cg)}) * ${u32Lit(p.H * p.W)};`,
      ...acc,
      'for (var c = 0u; c < params.channels; c++) {',
      `  let xc = xg + c * ${u32Lit(p.H * p.W)};`,
      `  let wc = (m0 * ${u32Lit(Cg)} + c) * ${u32Lit(p.kH * p.kW)};`,
      '  for (var ky = 0u; ky < params.kh; ky++) {',
      `    let iy = i32(oh * ${sH}u + ky * ${dH}u) - ${i32Lit(p.pads[0])};`,
      `    if (iy < 0i || iy >= ${i32Lit(p.H)}) { continue; }`,
      `    let xrow = xc + u32(iy) * ${u32Lit(p.W)};`,
      '    for (var kx = 0u; kx < params.kw; kx++) {',
      ...inner.map((l) => `      ${l}`),
      '    }',
      '  }',
      '}',
      `let obase = ((n * ${u32Lit(p.M)} + m0) * ${u32Lit(p.OH)} + oh) * ${u32Lit(p.OW)} + ow0;`,
      ...stores,
    ].join('\n');
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(ceilDiv(invocations(p, k), k.workgroupSize)), uniforms: uniforms(p) };
  },

  defaults(p) {
    const Mg = p.M / p.group;
    return {
      workgroupSize: 64,
      outputsX: p.OW >= 16 ? 4 : p.OW >= 4 ? 2 : 1,
      channels: Mg % 4 === 0 ? 4 : Mg % 2 === 0 ? 2 : 1,
    };
  },
};
