// Direct NCHW transposed conv in gather form: each invocation computes `outputsX` adjacent
// output columns of one (image, channel, row), summing only the taps whose input position
// (o + pad - k*dil) / stride is an integer inside the input. Groups, bias, epilogue; no tiling.
// The channel loop's trip count is a uniform: as a literal, lavapipe unrolls it inside the unrolled
// tap loops and its LLVM spent 2.5-6 s CPU per PP-OCR det kernel at the first dispatch (0.2-0.4 s
// now). The small tap and column loops stay literal (unrolled), which kept steady-state time.

import type { KernelTemplate, KnobSpace, Uniform } from '../kernel.ts';
import type { ConvTranspose2dProblem } from '../problems.ts';
import { applyEpilogue, epilogueKey, epilogueProblem } from '../wgsl/expr.ts';
import { ceilDiv, dispatchProblem, foldDispatch, i32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';

export type ConvTranspose2dKnobs = {
  readonly workgroupSize: number;
  /** Adjacent output columns per invocation. */
  readonly outputsX: number;
};

const KNOBS: KnobSpace<ConvTranspose2dKnobs> = { workgroupSize: [64, 128, 256], outputsX: [1, 2, 4] };

function invocations(p: ConvTranspose2dProblem, k: ConvTranspose2dKnobs): number {
  return p.N * p.M * p.OH * ceilDiv(p.OW, k.outputsX);
}

/** The channel loop's bound (a uniform, so it is not unrolled). */
const uniforms = (p: ConvTranspose2dProblem): Uniform[] => [
  { name: 'channels', type: 'u32', value: p.C / p.group },
];

/** The input index along one axis for output coordinate `o` and tap `k`, or skip the tap. */
function tapLines(axis: 'y' | 'x', o: string, stride: number, dil: number, pad: number, size: number, skip: string): string[] {
  const t = `t${axis}`;
  return [
    `let ${t} = i32(${o}) + ${i32Lit(pad)} - i32(k${axis} * ${u32Lit(dil)});`,
    `if (${t} < 0i || ${t} % ${i32Lit(stride)} != 0i || ${t} / ${i32Lit(stride)} >= ${i32Lit(size)}) { ${skip} }`,
    `let i${axis} = u32(${t} / ${i32Lit(stride)});`,
  ];
}

export const convTranspose2dTemplate: KernelTemplate<ConvTranspose2dProblem, ConvTranspose2dKnobs> = {
  name: 'conv-transpose2d',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (p.group < 1 || p.C % p.group || p.M % p.group) return `channels ${p.C}->${p.M} not divisible by group ${p.group}`;
    if ([p.N, p.C, p.H, p.W, p.M, p.kH, p.kW, p.OH, p.OW].some((d) => d < 1)) return 'empty transposed conv';
    if (p.N * p.M * p.OH * p.OW > 0x7fffffff || p.N * p.C * p.H * p.W > 0x7fffffff) return 'tensor too large for 32-bit indexing';
    const bad = epilogueProblem(p.epilogue);
    if (bad) return bad;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    if (k.outputsX > 1 && p.OW < k.outputsX) return `${k.outputsX} outputs per invocation on rows of ${p.OW}`;
    return dispatchProblem(ceilDiv(invocations(p, k), k.workgroupSize)) ?? true;
  },

  key(p) {
    return [
      `N${p.N}C${p.C}H${p.H}W${p.W}`, `M${p.M}k${p.kH}x${p.kW}`, `O${p.OH}x${p.OW}`,
      `s${p.strides.join(',')}p${p.pads.join(',')}d${p.dilations.join(',')}g${p.group}`,
      p.bias ? 'bias' : 'nobias', `epi:${epilogueKey(p.epilogue)}`,
    ].join(';');
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: p.bias ? ['x', 'w', 'bias'] : ['x', 'w'], outputs: ['out'], uniforms: uniforms(p) });
    const Cg = p.C / p.group;
    const Mg = p.M / p.group;
    const OWB = ceilDiv(p.OW, k.outputsX);
    const acc = p.bias ? 'acc + bias[m]' : 'acc';
    const body = [
      `let id = groupIdx * ${u32Lit(k.workgroupSize)} + lidx;`,
      `if (id >= ${u32Lit(invocations(p, k))}) { return; }`,
      `let ox0 = (id % ${u32Lit(OWB)}) * ${u32Lit(k.outputsX)};`,
      `let oy = (id / ${u32Lit(OWB)}) % ${u32Lit(p.OH)};`,
      `let m = (id / ${u32Lit(OWB * p.OH)}) % ${u32Lit(p.M)};`,
      `let n = id / ${u32Lit(OWB * p.OH * p.M)};`,
      `let g = m / ${u32Lit(Mg)};`,
      `let ml = m % ${u32Lit(Mg)};`,
      `for (var j = 0u; j < ${u32Lit(k.outputsX)}; j++) {`,
      '  let ox = ox0 + j;',
      `  if (ox >= ${u32Lit(p.OW)}) { break; }`,
      '  var acc = 0.0;',
      `  for (var ky = 0u; ky < ${u32Lit(p.kH)}; ky++) {`,
      ...tapLines('y', 'oy', p.strides[0], p.dilations[0], p.pads[0], p.H, 'continue;').map((l) => `    ${l}`),
      `    for (var kx = 0u; kx < ${u32Lit(p.kW)}; kx++) {`,
      ...tapLines('x', 'ox', p.strides[1], p.dilations[1], p.pads[1], p.W, 'continue;').map((l) => `      ${l}`),
      '      for (var cl = 0u; cl < params.channels; cl++) {',
      `        let c = g * ${u32Lit(Cg)} + cl;`,
      `        let xv = x[((n * ${u32Lit(p.C)} + c) * ${u32Lit(p.H)} + iy) * ${u32Lit(p.W)} + ix];`,
      `        let wv = w[((c * ${u32Lit(Mg)} + ml) * ${u32Lit(p.kH)} + ky) * ${u32Lit(p.kW)} + kx];`,
      '        acc = fma(xv, wv, acc);',
      '      }',
      '    }',
      '  }',
      `  out[((n * ${u32Lit(p.M)} + m) * ${u32Lit(p.OH)} + oy) * ${u32Lit(p.OW)} + ox] = ${applyEpilogue(p.epilogue, acc, b)};`,
      '}',
    ].join('\n');
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(ceilDiv(invocations(p, k), k.workgroupSize)), uniforms: uniforms(p) };
  },

  defaults(p) {
    return { workgroupSize: 64, outputsX: p.OW >= 16 ? 2 : 1 };
  },
};
