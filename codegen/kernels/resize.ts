// Nearest / bilinear resize of [planes, H, W] to [planes, OH, OW]: one output per invocation
// (`elemsPerThread` strided outputs each). Per-axis taps come from codegen/wgsl/coords.ts's
// exact integer coordinate functions, so nearest ties match the interpreter exactly.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { ResizeProblem } from '../problems.ts';
import { rationalMagnitude, resizeAxisFn } from '../wgsl/coords.ts';
import { perElementBody, perElementDefaults, perElementKnobs, perElementLaunch, perElementProblem, type PerElementKnobs } from '../wgsl/per-element.ts';
import { u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import { axisRational } from '../../src/ir/ops/resize.ts';

export type ResizeKnobs = PerElementKnobs;

const KNOBS: KnobSpace<ResizeKnobs> = perElementKnobs();

function total(p: ResizeProblem): number {
  return p.planes * p.OH * p.OW;
}

export const resizeTemplate: KernelTemplate<ResizeProblem, ResizeKnobs> = {
  name: 'resize',
  knobs: KNOBS,

  valid(p, k, dev) {
    if ([p.planes, p.H, p.W, p.OH, p.OW].some((d) => d < 1)) return 'empty resize';
    if (p.planes * p.H * p.W > 0x7fffffff) return 'tensor too large for 32-bit indexing';
    const ry = axisRational(p.coord, p.H, p.OH);
    const rx = axisRational(p.coord, p.W, p.OW);
    if (Math.max(rationalMagnitude(ry, p.OH), rationalMagnitude(rx, p.OW)) >= 2 ** 30) return 'resize coordinates overflow i32 arithmetic';
    return perElementProblem(total(p), k, dev, 0x7fffffff) ?? true;
  },

  key(p) {
    return `P${p.planes};${p.H}x${p.W}->${p.OH}x${p.OW};${p.mode};${p.coord};${p.mode === 'nearest' ? p.nearest : ''}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['x'], outputs: ['out'] });
    const linear = p.mode === 'linear';
    b.helper('tapY', resizeAxisFn('tapY', axisRational(p.coord, p.H, p.OH), p.H, linear, p.nearest, b));
    b.helper('tapX', resizeAxisFn('tapX', axisRational(p.coord, p.W, p.OW), p.W, linear, p.nearest, b));
    const W = u32Lit(p.W);
    const value = linear
      ? [
        `  let r0 = plane + ty.i0 * ${W};`,
        `  let r1 = plane + ty.i1 * ${W};`,
        '  let top = mix(x[r0 + tx.i0], x[r0 + tx.i1], tx.w);',
        '  let bot = mix(x[r1 + tx.i0], x[r1 + tx.i1], tx.w);',
        '  out[i] = mix(top, bot, ty.w);',
      ]
      : [`  out[i] = x[plane + ty.i0 * ${W} + tx.i0];`];
    const body = perElementBody(total(p), k, [
      `let tx = tapX(i % ${u32Lit(p.OW)});`,
      `let ty = tapY((i / ${u32Lit(p.OW)}) % ${u32Lit(p.OH)});`,
      `let plane = (i / ${u32Lit(p.OH * p.OW)}) * ${u32Lit(p.H * p.W)};`,
      ...value.map((l) => l.replace(/^  /, '')),
    ]);
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return perElementLaunch(total(p), k);
  },

  defaults(p) {
    return perElementDefaults(total(p));
  },
};
