// Focused sweep of the weight-only lanes GEMV (M = 1) over widths and the three LLaMA shapes: the
// quick loop for "latency falls as bits drop". Every row is checked against float64 on sampled
// outputs, then all rows are timed in interleaved rounds (load bursts fall on every width alike).
// Prints min and median per row and whether min times fall monotonically; writes nothing.
//   npx tsx bench/quant-gemv.ts [--only 4096|11008x4096|4096x11008] [--widths 8,7,3] [--rounds R] [--repeats N] [--knobs '{"cols":2}']

import { KERNELS, emitSource } from '../codegen/kernels/index.ts';
import type { MatmulNBitsProblem } from '../codegen/problems.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { PreparedKernel } from '../src/runtime/kernel-runner.ts';
import { timeKernel } from '../src/tuner/measure.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { randomWeights, referenceOf, sampledRelError } from './quant-cases.ts';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const SHAPES: [string, number, number][] = [['4096', 4096, 4096], ['11008x4096', 11008, 4096], ['4096x11008', 4096, 11008]];
const only = opt('--only');
const shapes = SHAPES.filter(([name]) => !only || only.split(',').includes(name));
const widths = (opt('--widths') ?? '8,7,6,5,4,3,2,1').split(',').map(Number);
const rounds = Number(opt('--rounds') ?? 6);
const repeats = Number(opt('--repeats') ?? 3);
const knobOverride = JSON.parse(opt('--knobs') ?? '{}') as Record<string, number>;
const GROUP = 128;
const NAME = 'matmul-nbits-gemv-lanes';

const ctx = await acquireDevice();
const t = KERNELS.get(NAME);
if (!t) throw new Error(`${NAME} is not registered`);
for (const [shape, N, K] of shapes) {
  const M = 1;
  const a = uniformF32(M * K, mulberry32(N + K));
  const rows: { bits: number; k: PreparedKernel; samples: number[] }[] = [];
  for (const bits of widths) {
    const w = randomWeights(N, K, bits, GROUP, 'dense', bits * 7919 + N + K);
    const p: MatmulNBitsProblem = { kind: 'matmul-nbits', M, N, K, bits, group: GROUP, layout: 'dense', bias: false, epilogue: [] };
    const knobs = { ...t.defaults(p, ctx.info), ...knobOverride };
    const valid = t.valid(p, knobs, ctx.info);
    if (valid !== true) throw new Error(`W${bits} ${JSON.stringify(knobs)}: ${valid}`);
    const k = await PreparedKernel.create(ctx, emitSource(t, p, knobs, ctx.info), t.launch(p, knobs), [a, new Float32Array(w.words.buffer), w.scales, w.zeros], [M * N], NAME);
    const [out] = await k.run();
    const err = sampledRelError(out as Float32Array, M, N, referenceOf(p, a, w, null));
    if (!(err <= 1e-3)) throw new Error(`W${bits} ${shape}: output check failed (rel err ${err})`);
    rows.push({ bits, k, samples: [] });
    if (bits === widths[0]) console.log(`${shape}: knobs ${JSON.stringify(knobs)}`);
  }
  for (let r = 0; r < rounds; r++) for (const row of rows) row.samples.push(...(await timeKernel(ctx, row.k, 1, repeats)).samples);
  const line = rows.map((row) => {
    const s = [...row.samples].sort((x, y) => x - y);
    return { bits: row.bits, min: s[0] as number, med: s[Math.floor((s.length - 1) / 2)] as number };
  });
  const falls = line.every((x, i) => i === 0 || x.min <= (line[i - 1] as { min: number }).min);
  console.log(`${shape} min: ${line.map((x) => `W${x.bits} ${x.min.toFixed(2)}`).join(', ')}  ${falls ? 'monotone' : 'NOT monotone'}`);
  console.log(`${shape} med: ${line.map((x) => `W${x.bits} ${x.med.toFixed(2)}`).join(', ')}`);
  for (const row of rows) row.k.destroy();
}
await releaseDevice();
