// Direct weight-only quantized NCHW conv2d: a workgroup serves one image and `channels` output
// channels, dequantizing their weights for `stageChannels` input channels per round into workgroup
// memory (decoded once per workgroup, not per pixel); each invocation then computes `outputsX` columns
// of one output row like conv2d-direct. All invocations stage and pass barriers; real pixels store.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { Conv2dNBitsProblem } from '../problems.ts';
import { packedProblem, packedWeightFn } from '../wgsl/packed.ts';
import { ceilDiv, dispatchProblem, foldDispatch, i32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { convShapeProblem, directTile } from './conv2d-direct.ts';
import { conv2dNBitsTemplate, packedOf } from './conv2d-nbits.ts';

export type Conv2dNBitsDirectKnobs = {
  readonly workgroupSize: number;
  /** Adjacent output columns per invocation. */
  readonly outputsX: number;
  /** Adjacent output channels per workgroup (must divide M / group). */
  readonly channels: number;
  /** Input channels whose dequantized weights are staged per barrier round (clamped to C / group). */
  readonly stageChannels: number;
};

const KNOBS: KnobSpace<Conv2dNBitsDirectKnobs> = { workgroupSize: [64, 128, 256], outputsX: [1, 2, 4], channels: [1, 2, 4, 8], stageChannels: [1, 4, 16, 64] };

const pixelTiles = (p: Conv2dNBitsProblem, k: Conv2dNBitsDirectKnobs): number => ceilDiv(p.OH * ceilDiv(p.OW, k.outputsX), k.workgroupSize);
const workgroups = (p: Conv2dNBitsProblem, k: Conv2dNBitsDirectKnobs): number => p.N * (p.M / k.channels) * pixelTiles(p, k);
const staged = (p: Conv2dNBitsProblem, k: Conv2dNBitsDirectKnobs): number => Math.min(k.stageChannels, p.C / p.group);

export const conv2dNBitsDirectTemplate: KernelTemplate<Conv2dNBitsProblem, Conv2dNBitsDirectKnobs> = {
  name: 'conv2d-nbits-direct',
  knobs: KNOBS,

  valid(p, k, dev) {
    const bad = convShapeProblem({ ...p, kind: 'conv2d' }) ?? packedProblem(packedOf(p));
    if (bad) return bad;
    if ((p.M / p.group) % k.channels) return `${k.channels} channels per workgroup do not divide ${p.M / p.group} per group`;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    const bytes = 4 * k.channels * staged(p, k) * p.kH * p.kW;
    if (bytes > dev.limits.maxComputeWorkgroupStorageSize) return `${bytes} B of staged weights > ${dev.limits.maxComputeWorkgroupStorageSize}`;
    return dispatchProblem(workgroups(p, k)) ?? true;
  },

  // Same WGSL inputs as the implicit-GEMM template: the problem fixes everything baked in.
  key: (p) => conv2dNBitsTemplate.key(p),

  source(p, k) {
    const inputs = p.bias ? ['x', 'words', 'scales', 'zeros', 'bias'] : ['x', 'words', 'scales', 'zeros'];
    const b = new ShaderBuilder({ inputs, inputTypes: inputs.map((n) => (n === 'words' ? 'u32' : 'f32')), outputs: ['out'] });
    const weight = packedWeightFn(b, packedOf(p));
    const Cg = p.C / p.group;
    const Mg = p.M / p.group;
    const KHW = p.kH * p.kW;
    const K = Cg * KHW;
    const SC = staged(p, k);
    const J = k.channels;
    const I = k.outputsX;
    const OWB = ceilDiv(p.OW, I);
    const T = pixelTiles(p, k);
    const sH = p.strides[0];
    const dH = p.dilations[0];
    b.decl(`var<workgroup> sW: array<f32, ${J * SC * KHW}>;`);
    const { acc, inner, stores } = directTile(b, p, J, I, (j) => `sW[${u32Lit(j * SC * KHW)} + wt]`);
    const body = [
      `if (groupIdx >= ${u32Lit(workgroups(p, k))}) { return; }`,
      `let m0 = ((groupIdx / ${u32Lit(T)}) % ${u32Lit(p.M / J)}) * ${J}u;`,
      `let n = groupIdx / ${u32Lit(T * (p.M / J))};`,
      `let pid = (groupIdx % ${u32Lit(T)}) * ${u32Lit(k.workgroupSize)} + lidx;`,
      // Invocations past the last pixel compute a clamped one and store nothing.
      `let live = pid < ${u32Lit(p.OH * OWB)};`,
      `let pc = min(pid, ${u32Lit(p.OH * OWB - 1)});`,
      `let ow0 = (pc % ${u32Lit(OWB)}) * ${I}u;`,
      `let oh = pc / ${u32Lit(OWB)};`,
      `let xg = (n * ${u32Lit(p.C)} + (m0 / ${u32Lit(Mg)}) * ${u32Lit(Cg)}) * ${u32Lit(p.H * p.W)};`,
      ...acc,
      `for (var c0 = 0u; c0 < ${u32Lit(Cg)}; c0 += ${u32Lit(SC)}) {`,
      `  for (var l = lidx; l < ${u32Lit(J * SC * KHW)}; l += ${u32Lit(k.workgroupSize)}) {`,
      `    let kk = c0 * ${u32Lit(KHW)} + l % ${u32Lit(SC * KHW)};`,
      '    var v = 0.0;',
      `    if (kk < ${u32Lit(K)}) { v = ${weight}(m0 + l / ${u32Lit(SC * KHW)}, kk); }`,
      '    sW[l] = v;',
      '  }',
      '  workgroupBarrier();',
      `  for (var cc = 0u; cc < min(${u32Lit(SC)}, ${u32Lit(Cg)} - c0); cc++) {`,
      `    let xc = xg + (c0 + cc) * ${u32Lit(p.H * p.W)};`,
      `    for (var ky = 0u; ky < ${p.kH}u; ky++) {`,
      `      let iy = i32(oh * ${sH}u + ky * ${dH}u) - ${i32Lit(p.pads[0])};`,
      `      if (iy < 0i || iy >= ${i32Lit(p.H)}) { continue; }`,
      `      let xrow = xc + u32(iy) * ${u32Lit(p.W)};`,
      `      for (var kx = 0u; kx < ${p.kW}u; kx++) {`,
      `        let wt = cc * ${u32Lit(KHW)} + ky * ${p.kW}u + kx;`,
      ...inner.map((l) => `        ${l}`),
      '      }',
      '    }',
      '  }',
      '  workgroupBarrier();',
      '}',
      'if (live) {',
      `  let obase = ((n * ${u32Lit(p.M)} + m0) * ${u32Lit(p.OH)} + oh) * ${u32Lit(p.OW)} + ow0;`,
      ...stores.map((l) => `  ${l}`),
      '}',
    ].join('\n');
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(workgroups(p, k)), uniforms: [] };
  },

  defaults(p, dev) {
    const Mg = p.M / p.group;
    const outputsX = p.OW >= 16 ? 4 : p.OW >= 4 ? 2 : 1;
    // Big workgroups staging many channels per round measured fastest (fewer barriers and decodes
    // per pixel: 52->52 3x3 at 128^2 on lavapipe, 256/64 ~500 ms vs 64/16 ~790 ms).
    const k: Conv2dNBitsDirectKnobs = {
      workgroupSize: p.OH * ceilDiv(p.OW, outputsX) >= 256 ? 256 : 64,
      outputsX,
      channels: Mg % 4 === 0 ? 4 : Mg % 2 === 0 ? 2 : 1,
      stageChannels: 64,
    };
    // Large kernels: stage fewer input channels so the weights fit workgroup memory.
    for (const stageChannels of [64, 16, 4, 1]) if (conv2dNBitsDirectTemplate.valid(p, { ...k, stageChannels }, dev) === true) return { ...k, stageChannels };
    return k;
  },
};
