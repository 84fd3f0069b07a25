// One RLFN conv layer (52 -> 52, 3x3, pad 1, bias + LeakyReLU) at 256x256: the float conv2d templates
// vs the conv2d-nbits ones at 4 bits (group 128, dense), defaults and a few alternative knobs. Kernel
// time alone (tuner's timeKernel: median), outputs spot-checked in float64 first. Usage:
//   npx tsx bench/conv-nbits.ts [--size 256] [--repeats 3] [--defaults-only] [--only TEMPLATE]

import type { AnyKernelTemplate, Knobs } from '../codegen/kernel.ts';
import { templatesFor } from '../codegen/kernels/index.ts';
import type { Conv2dNBitsProblem, Conv2dProblem } from '../codegen/problems.ts';
import { quantizeMatrix } from '../src/passes/quantize/quantizer.ts';
import { dequantize } from '../src/quant/format.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { PreparedKernel } from '../src/runtime/kernel-runner.ts';
import { timeKernel } from '../src/tuner/measure.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';

const args = process.argv.slice(2);
const opt = (n: string, d: number): number => (args.includes(n) ? Number(args[args.indexOf(n) + 1]) : d);
const S = opt('--size', 256);
const REPEATS = opt('--repeats', 3);
const C = 52;
const M = 52;
const K = C * 9;
const geom = {
  N: 1, C, H: S, W: S, M, kH: 3, kW: 3, OH: S, OW: S, strides: [1, 1], pads: [1, 1], dilations: [1, 1], group: 1, bias: true,
  epilogue: [{ op: 'leaky_relu', attrs: { alpha: 0.05 } }],
} as const;
const fp: Conv2dProblem = { kind: 'conv2d', ...geom };
const qp: Conv2dNBitsProblem = { kind: 'conv2d-nbits', ...geom, bits: 4, quantGroup: 128, layout: 'dense' };

const rand = mulberry32(1);
const x = uniformF32(C * S * S, rand);
const w = uniformF32(M * K, rand, 0.1);
const bias = uniformF32(M, rand);
const q = quantizeMatrix(w, M, K, { bits: 4, group: 128, symmetric: true, method: 'mse' }).weight;
const wq = dequantize(q);

/** float64 conv at output (m, oy, ox) with weights `wt` [M, K]. */
function refAt(wt: ArrayLike<number>, m: number, oy: number, ox: number): number {
  let s = bias[m] as number;
  for (let c = 0; c < C; c++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
    const iy = oy + ky - 1;
    const ix = ox + kx - 1;
    if (iy >= 0 && iy < S && ix >= 0 && ix < S) s += (x[(c * S + iy) * S + ix] as number) * (wt[m * K + c * 9 + ky * 3 + kx] as number);
  }
  return s > 0 ? s : 0.05 * s;
}

const ctx = await acquireDevice();
const tilings: Knobs[] = [
  { tileM: 64, tileN: 64, tileK: 16, microM: 4, microN: 4, unroll: true },
  { tileM: 32, tileN: 64, tileK: 16, microM: 2, microN: 4, unroll: true },
  { tileM: 64, tileN: 32, tileK: 8, microM: 4, microN: 2, unroll: true },
];
const directs: Knobs[] = [
  { workgroupSize: 64, outputsX: 4, channels: 4, stageChannels: 16 },
  { workgroupSize: 64, outputsX: 4, channels: 8, stageChannels: 16 },
  { workgroupSize: 256, outputsX: 4, channels: 4, stageChannels: 64 },
  { workgroupSize: 128, outputsX: 2, channels: 8, stageChannels: 16 },
];
for (const [label, problem, inputs, wt] of [
  ['f32', fp, [x, w, bias], w],
  ['4-bit', qp, [x, new Float32Array(q.words.buffer), q.scales, q.zeros, bias], wq],
] as const) {
  for (const t of (templatesFor(problem) as AnyKernelTemplate[]).filter((t) => !args.includes('--only') || t.name === args[args.indexOf('--only') + 1])) {
    const dflt = t.defaults(problem, ctx.info) as Knobs;
    const space = t.name === 'conv2d-nbits-direct' ? directs : t.name.includes('direct') ? [] : tilings;
    const alts = args.includes('--defaults-only') ? [] : space.filter((k) => JSON.stringify(k) !== JSON.stringify(dflt));
    const variants = [dflt, ...alts].filter((k) => t.valid(problem, k, ctx.info) === true);
    for (const k of variants) {
      const pk = await PreparedKernel.create(ctx, t.source(problem, k, ctx.info), t.launch(problem, k), inputs, [M * S * S], t.name);
      try {
        const [out] = await pk.run();
        let err = 0;
        const r = mulberry32(7);
        for (let i = 0; i < 16; i++) {
          const [m, oy, ox] = [Math.floor(r() * M), Math.floor(r() * S), Math.floor(r() * S)];
          const want = refAt(wt, m, oy, ox);
          err = Math.max(err, Math.abs(((out as Float32Array)[(m * S + oy) * S + ox] as number) - want) / Math.max(1, Math.abs(want)));
        }
        const timing = await timeKernel(ctx, pk, 1, REPEATS);
        console.log(`${label.padEnd(6)} ${t.name.padEnd(22)} ${timing.medianMs.toFixed(1).padStart(8)} ms  err ${err.toExponential(1)}  ${k === dflt ? 'defaults ' : ''}${JSON.stringify(k)}`);
      } finally {
        pk.destroy();
      }
    }
  }
}
await releaseDevice();
