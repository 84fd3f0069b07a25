// 2-D max/average pooling (and global average pooling as a whole-plane window): each invocation
// computes `outputsX` adjacent outputs of one row of one plane, walking its window taps with
// bounds checks. Padding cells never win a max; empty windows give 0. No workgroup memory.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { Pool2dProblem } from '../problems.ts';
import { ceilDiv, dispatchProblem, f32Lit, foldDispatch, i32Lit, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';

export type Pool2dKnobs = {
  readonly workgroupSize: number;
  /** Adjacent output columns per invocation. */
  readonly outputsX: number;
};

const KNOBS: KnobSpace<Pool2dKnobs> = { workgroupSize: [64, 128, 256], outputsX: [1, 2, 4] };

function invocations(p: Pool2dProblem, k: Pool2dKnobs): number {
  return p.planes * p.OH * ceilDiv(p.OW, k.outputsX);
}

/** Per-output accumulation over the window at column `ox`: WGSL lines updating acc/taps/padded. */
function windowLoop(p: Pool2dProblem): string[] {
  const [sH, sW] = p.strides;
  const [dH, dW] = p.dilations;
  const [pt, pl, pb, pr] = p.pads;
  const countPad = p.mode === 'avg' && p.countIncludePad;
  const combine = p.mode === 'max' ? 'acc = max(acc, v);' : 'acc += v;';
  return [
    `var acc = ${p.mode === 'max' ? f32Lit(-Infinity) : '0.0'};`,
    'var taps = 0u;',
    'var padded = 0u;',
    `for (var ky = 0u; ky < ${u32Lit(p.kH)}; ky++) {`,
    `  let iy = i32(oy * ${u32Lit(sH)} + ky * ${u32Lit(dH)}) - ${i32Lit(pt)};`,
    `  for (var kx = 0u; kx < ${u32Lit(p.kW)}; kx++) {`,
    `    let ix = i32(ox * ${u32Lit(sW)} + kx * ${u32Lit(dW)}) - ${i32Lit(pl)};`,
    ...(countPad ? [`    if (iy < ${i32Lit(p.H + pb)} && ix < ${i32Lit(p.W + pr)}) { padded++; }`] : []),
    `    if (iy < 0i || iy >= ${i32Lit(p.H)} || ix < 0i || ix >= ${i32Lit(p.W)}) { continue; }`,
    `    let v = x[plane + u32(iy) * ${u32Lit(p.W)} + u32(ix)];`,
    `    ${combine}`,
    '    taps++;',
    '  }',
    '}',
  ];
}

function result(p: Pool2dProblem): string {
  if (p.mode === 'max') return 'select(0.0, acc, taps > 0u)';
  return `select(0.0, acc / f32(${p.countIncludePad ? 'padded' : 'taps'}), taps > 0u)`;
}

export const pool2dTemplate: KernelTemplate<Pool2dProblem, Pool2dKnobs> = {
  name: 'pool2d',
  knobs: KNOBS,

  valid(p, k, dev) {
    if ([p.planes, p.H, p.W, p.OH, p.OW, p.kH, p.kW].some((d) => d < 1)) return 'empty pooling problem';
    if (p.planes * p.H * p.W > 0x7fffffff || p.planes * p.OH * p.OW > 0x7fffffff) return 'tensor too large for 32-bit indexing';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    if (k.outputsX > 1 && p.OW < k.outputsX) return `${k.outputsX} outputs per invocation on rows of ${p.OW}`;
    return dispatchProblem(ceilDiv(invocations(p, k), k.workgroupSize)) ?? true;
  },

  key(p) {
    return [
      `${p.mode};P${p.planes}H${p.H}W${p.W};O${p.OH}x${p.OW};k${p.kH}x${p.kW}`,
      `s${p.strides.join(',')}p${p.pads.join(',')}d${p.dilations.join(',')}`, p.countIncludePad ? 'incpad' : 'nopad',
    ].join(';');
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['x'], outputs: ['out'] });
    const OWB = ceilDiv(p.OW, k.outputsX);
    const body = [
      `let id = groupIdx * ${u32Lit(k.workgroupSize)} + lidx;`,
      `if (id >= ${u32Lit(invocations(p, k))}) { return; }`,
      `let ox0 = (id % ${u32Lit(OWB)}) * ${u32Lit(k.outputsX)};`,
      `let oy = (id / ${u32Lit(OWB)}) % ${u32Lit(p.OH)};`,
      `let pi = id / ${u32Lit(OWB * p.OH)};`,
      `let plane = pi * ${u32Lit(p.H * p.W)};`,
      `for (var j = 0u; j < ${u32Lit(k.outputsX)}; j++) {`,
      '  let ox = ox0 + j;',
      `  if (ox >= ${u32Lit(p.OW)}) { break; }`,
      ...windowLoop(p).map((l) => `  ${l}`),
      `  out[(pi * ${u32Lit(p.OH)} + oy) * ${u32Lit(p.OW)} + ox] = ${result(p)};`,
      '}',
    ].join('\n');
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(ceilDiv(invocations(p, k), k.workgroupSize)), uniforms: [] };
  },

  defaults(p) {
    return { workgroupSize: 64, outputsX: p.OW >= 8 && p.kH * p.kW <= 16 ? 2 : 1 };
  },
};
