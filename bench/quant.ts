// n-bit matmul benchmark: GEMV (M=1) and GEMM (M=64) at the LLaMA shapes 4096x4096, N=11008 K=4096
// and N=4096 K=11008, every weight width 1–8 (group 128), for each kernel family by template name
// (weight-only dense; WxAy popcount planes; WxAy dot4), against our f32 matmul and onnxruntime-node
// webgpu MatMulNBits. Each output is checked against float64 on sampled entries before its time
// counts. Ours: kernel time (GPU timestamps; median and min); ORT: wall time per run (upload + readback).
//   npx tsx bench/quant.ts [--quick] [--budget-s S] [--repeats N] [--rounds R] [--only TEXT] [--out DIR]
// (writes DIR/quant-<device>.md/.json, DIR = bench/results; --only keeps rows whose shape or family contains TEXT:
// e.g. `--only 'W-only dense'` or `--only K11008`; a filtered run should go to a scratch --out).

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KERNELS, emitSource, templatesFor } from '../codegen/kernels/index.ts';
import type { MatmulNBitsProblem, MatmulProblem } from '../codegen/problems.ts';
import { acquireDevice, releaseDevice, type GpuContext } from '../src/runtime/device.ts';
import { PreparedKernel } from '../src/runtime/kernel-runner.ts';
import { timeKernel } from '../src/tuner/measure.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { loadOrt } from './ort.ts';
import { actRows, matmulNBitsModel, randomWeights, referenceOf, sampledRelError, type ActCase, type PackedCase } from './quant-cases.ts';
import { measureRoofline } from './roofline.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const quick = args.includes('--quick');
/** Most repeats a row gets; fast rows get this many, slow ones fewer (ROW_BUDGET_MS). */
const REPEATS = flag('--repeats', quick ? 7 : 11);
/** Interleaved rounds for fast rows; more rounds, fewer samples each, spread load bursts thinner. */
const ROUNDS = flag('--rounds', 4);
const ONLY = args.includes('--only') ? String(args[args.indexOf('--only') + 1]) : '';
const OUT_DIR = args.includes('--out') ? String(args[args.indexOf('--out') + 1]) : 'bench/results';
const wanted = (...names: string[]): boolean => !ONLY || names.some((n) => n.includes(ONLY));
const deadline = performance.now() + 1000 * flag('--budget-s', quick ? 120 : 540);
/** Per-row timing budget: slow kernels (the lavapipe GEMMs) get fewer repeats. */
const ROW_BUDGET_MS = 2500;
const GROUP = 128;
const TOLERANCE = 1e-3;

interface Result {
  readonly shape: string; readonly M: number; readonly N: number; readonly K: number;
  readonly weights: string; readonly act: string; readonly family: string; readonly kernel: string;
  /** Median; `minMs` is the best run, the steadier figure when other processes share the CPU. */
  readonly ms: number | null; readonly minMs: number | null; readonly bytes: number; readonly relErr: number | null; readonly note: string;
}

const SHAPES: [string, number, number][] = quick ? [['4096x4096', 4096, 4096]] : [['4096x4096', 4096, 4096], ['N11008 K4096', 11008, 4096], ['N4096 K11008', 4096, 11008]];
const WIDTHS = quick ? [8, 4, 2, 1] : [8, 7, 6, 5, 4, 3, 2, 1];
const MS = quick ? [1] : [1, 64];

/** Families: template per M, weight layout, activation bits/layout (0 = f32 A), where they run. */
interface Family { readonly name: string; readonly template: (M: number) => string; readonly layout: 'dense' | 'planes'; readonly actBits: number; readonly actLayout: 'dense' | 'planes'; readonly only4096?: boolean }
const FAMILIES: Family[] = [
  { name: 'W-only dense', template: (M) => (M <= 8 ? 'matmul-nbits-gemv-lanes' : 'matmul-nbits-lanes'), layout: 'dense', actBits: 0, actLayout: 'dense' },
  { name: 'W-only dense (K-split gemv)', template: (M) => (M <= 8 ? 'matmul-nbits-gemv' : ''), layout: 'dense', actBits: 0, actLayout: 'dense', only4096: true },
  { name: 'WxA4 popcount', template: (M) => (M <= 8 ? 'matmul-nbits-popcount-gemv' : 'matmul-nbits-popcount-gemm'), layout: 'planes', actBits: 4, actLayout: 'planes' },
  { name: 'WxA8 popcount', template: (M) => (M <= 8 ? 'matmul-nbits-popcount-gemv' : 'matmul-nbits-popcount-gemm'), layout: 'planes', actBits: 8, actLayout: 'planes', only4096: true },
  { name: 'WxA8 dot4', template: (M) => (M <= 8 ? 'matmul-nbits-dot4' : 'matmul-nbits-dot4-gemm'), layout: 'dense', actBits: 8, actLayout: 'dense' },
  { name: 'WxA4 dot4', template: (M) => (M <= 8 ? 'matmul-nbits-dot4' : 'matmul-nbits-dot4-gemm'), layout: 'dense', actBits: 4, actLayout: 'dense', only4096: true },
];

const timeLeft = (): boolean => performance.now() < deadline;

interface Part { wgsl: string; launch: Parameters<typeof PreparedKernel.create>[2]; inputs: Float32Array[]; outLen: number; check: (out: Float32Array) => number; label: string }

/** Compiled, checked kernels of one row (several parts when N is split), ready to be timed. */
interface Prepared { readonly kernels: PreparedKernel[]; readonly relErr: number; readonly probeMs: number; readonly samples: number[] }

/** Compiles each part, runs it once and checks it against float64; null kernels when a check fails. */
async function prepare(ctx: GpuContext, parts: Part[]): Promise<Prepared | { failed: number }> {
  const kernels: PreparedKernel[] = [];
  let relErr = 0;
  let probeMs = 0;
  for (const part of parts) {
    const k = await PreparedKernel.create(ctx, part.wgsl, part.launch, part.inputs, [part.outLen], part.label);
    kernels.push(k);
    const [out] = await k.run();
    relErr = Math.max(relErr, part.check(out as Float32Array));
    if (!(relErr <= TOLERANCE)) {
      for (const x of kernels) x.destroy();
      return { failed: relErr };
    }
    // The first run paid for lavapipe's lazy shader compile; the probe is a steady run.
    probeMs += (await timeKernel(ctx, k, 0, 1)).medianMs;
  }
  return { kernels, relErr, probeMs, samples: [] };
}

/** Adds `repeats` samples (each the sum over the row's parts). */
async function sample(ctx: GpuContext, p: Prepared, repeats: number, warmup = 0): Promise<void> {
  const per: (readonly number[])[] = [];
  for (const k of p.kernels) per.push((await timeKernel(ctx, k, warmup, repeats)).samples);
  for (let r = 0; r < repeats; r++) p.samples.push(per.reduce((acc, s) => acc + (s[r] as number), 0));
}

/**
 * Times rows in interleaved rounds (fast rows) so load bursts from other processes fall on every
 * width alike; slow rows (the lavapipe GEMMs) get repeats within ROW_BUDGET_MS, one after another.
 */
async function timeRows(ctx: GpuContext, rows: Prepared[]): Promise<void> {
  const fast = rows.filter((r) => r.probeMs * REPEATS <= ROW_BUDGET_MS);
  const rounds = Math.min(ROUNDS, REPEATS);
  // One warm-up run per round: the row before evicted this row's weights from the CPU caches.
  for (let round = 0; round < rounds; round++) for (const r of fast) await sample(ctx, r, Math.ceil(REPEATS / rounds), 1);
  for (const r of rows) if (!fast.includes(r)) await sample(ctx, r, Math.max(1, Math.min(REPEATS, Math.floor(ROW_BUDGET_MS / Math.max(0.1, r.probeMs)))));
}

const stats = (p: Prepared): { ms: number; minMs: number } => {
  const s = [...p.samples].sort((x, y) => x - y);
  return { ms: s[Math.floor((s.length - 1) / 2)] as number, minMs: s[0] as number };
};

/** A row's result without timing yet (`prepared`), or final (skipped, invalid, failed). */
type Pending = { readonly result: Result; readonly prepared: Prepared | null };

async function nbitsRow(ctx: GpuContext, fam: Family, shape: string, M: number, N: number, K: number, a: Float32Array, w: PackedCase, act: ActCase | null): Promise<Pending> {
  const name = fam.template(M);
  const base = { shape, M, N, K, weights: `W${w.bits} g${GROUP}`, act: fam.actBits ? `A${fam.actBits}` : 'f32', family: fam.name, ms: null, minMs: null };
  const bytes = 4 * w.words.length + 8 * w.scales.length + (act ? 4 * act.words.length : 4 * M * K) + 4 * M * N;
  const t = KERNELS.get(name);
  if (!t) return { result: { ...base, kernel: name, bytes, relErr: null, note: 'template not registered' }, prepared: null };
  const p: MatmulNBitsProblem = { kind: 'matmul-nbits', M, N, K, bits: w.bits, group: GROUP, layout: w.layout, bias: false, epilogue: [], ...(fam.actBits ? { actBits: fam.actBits, actLayout: fam.actLayout } : {}) };
  const knobs = t.defaults(p, ctx.info);
  const valid = t.valid(p, knobs, ctx.info);
  const kernel = `${name} ${JSON.stringify(knobs)}`;
  if (valid !== true) return { result: { ...base, kernel, bytes, relErr: null, note: `invalid: ${valid}` }, prepared: null };
  const ref = referenceOf(p, a, w, act);
  const inputs = [act ? new Float32Array(act.words.buffer) : a, new Float32Array(w.words.buffer), w.scales, w.zeros];
  const r = await prepare(ctx, [{ wgsl: emitSource(t, p, knobs, ctx.info), launch: t.launch(p, knobs), inputs, outLen: M * N, check: (out) => sampledRelError(out, M, N, ref), label: name }]);
  if ('failed' in r) return { result: { ...base, kernel, bytes, relErr: r.failed, note: 'output check failed' }, prepared: null };
  return { result: { ...base, kernel, bytes, relErr: r.relErr, note: '' }, prepared: r };
}

/** Times the prepared rows together, then returns their results (timings filled in) and frees them. */
async function finish(ctx: GpuContext, rows: Pending[]): Promise<Result[]> {
  const live = rows.flatMap((r) => (r.prepared ? [r.prepared] : []));
  await timeRows(ctx, live);
  for (const p of live) for (const k of p.kernels) k.destroy();
  return rows.map((r) => (r.prepared ? { ...r.result, ...stats(r.prepared) } : r.result));
}

/** Our f32 matmul (W[N, K]); N is split over dispatches when W exceeds the largest storage binding. */
async function f32Row(ctx: GpuContext, shape: string, M: number, N: number, K: number, a: Float32Array, seed: number): Promise<Result> {
  const parts = Math.ceil((N * K * 4) / ctx.info.limits.maxStorageBufferBindingSize);
  const Np = Math.ceil(N / parts);
  const rand = mulberry32(seed);
  const specs: Part[] = [];
  let kernel = '';
  for (let s = 0; s < parts; s++) {
    const n0 = s * Np;
    const n = Math.min(Np, N - n0);
    const w = uniformF32(n * K, rand, 1 / Math.sqrt(K));
    const p: MatmulProblem = { kind: 'matmul', batchShape: [], aBatchStrides: [], bBatchStrides: [], M, N: n, K, transA: false, transB: true, alpha: 1, beta: 1, bias: null, epilogue: [] };
    const t = templatesFor(p).find((c) => c.valid(p, c.defaults(p, ctx.info), ctx.info) === true);
    if (!t) throw new Error(`no f32 template serves M=${M}`);
    const knobs = t.defaults(p, ctx.info);
    kernel = `${t.name} ${JSON.stringify(knobs)}`;
    const ref = (m: number, j: number): number => {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += (a[m * K + k] as number) * (w[j * K + k] as number);
      return acc;
    };
    specs.push({ wgsl: emitSource(t, p, knobs, ctx.info), launch: t.launch(p, knobs), inputs: [a, w], outLen: M * n, check: (out: Float32Array) => sampledRelError(out, M, n, ref), label: t.name });
  }
  const r = await prepare(ctx, specs);
  const result = { shape, M, N, K, weights: 'f32', act: 'f32', family: 'f32', kernel: parts > 1 ? `${kernel} x${parts} dispatches (N split)` : kernel, ms: null, minMs: null, bytes: 4 * (M * K + N * K + M * N) };
  if ('failed' in r) return { ...result, relErr: r.failed, note: 'output check failed' };
  const [done] = await finish(ctx, [{ result: { ...result, relErr: r.relErr, note: '' }, prepared: r }]);
  return done as Result;
}

async function ortRow(ort: NonNullable<Awaited<ReturnType<typeof loadOrt>>['ort']>, shape: string, M: number, N: number, K: number, a: Float32Array, w: PackedCase): Promise<Result> {
  const base = { shape, M, N, K, weights: `W${w.bits} g${GROUP}`, act: 'f32', family: 'ORT webgpu', kernel: 'MatMulNBits (com.microsoft)', bytes: 4 * w.words.length + 4 * w.scales.length + 4 * (M * K + M * N) };
  const p: MatmulNBitsProblem = { kind: 'matmul-nbits', M, N, K, bits: w.bits, group: GROUP, layout: 'dense', bias: false, epilogue: [] };
  let session;
  try {
    session = await ort.InferenceSession.create(matmulNBitsModel(M, K, N, GROUP, w), { executionProviders: ['webgpu'], logSeverityLevel: 3 });
  } catch (e) {
    return { ...base, ms: null, minMs: null, relErr: null, note: `session: ${(e as Error).message.split('\n')[0]?.slice(0, 120)}` };
  }
  try {
    const feeds = { a: new ort.Tensor('float32', a, [M, K]) };
    const run = async (): Promise<{ out: Float32Array; ms: number }> => {
      const t0 = performance.now();
      const r = await session.run(feeds);
      return { out: r.y?.data as Float32Array, ms: performance.now() - t0 };
    };
    const first = await run();
    const relErr = sampledRelError(first.out, M, N, referenceOf(p, a, w, null));
    if (!(relErr <= TOLERANCE)) return { ...base, ms: null, minMs: null, relErr, note: 'output check failed' };
    const repeats = Math.max(1, Math.min(REPEATS, Math.floor(ROW_BUDGET_MS / Math.max(0.1, (await run()).ms))));
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push((await run()).ms);
    times.sort((x, y) => x - y);
    return { ...base, ms: times[Math.floor(times.length / 2)] as number, minMs: times[0] as number, relErr, note: 'wall ms per run' };
  } catch (e) {
    return { ...base, ms: null, minMs: null, relErr: null, note: `run: ${(e as Error).message.split('\n')[0]?.slice(0, 120)}` };
  } finally {
    await session.release();
  }
}

/** Writes the .md and .json (after every row, so a run stopped early still leaves its rows). */
function writeReport(final: boolean): void {
  const f32Of = (r: Result): Result | undefined => results.find((x) => x.shape === r.shape && x.M === r.M && x.family === 'f32');
  const lines = [
    `# n-bit matmul kernels on ${ctx.fingerprint.description}`, '',
    `${new Date().toISOString()}; ${os.cpus().length} CPU cores, load average ${loadAtStart} at the start, ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} now; ${REPEATS} samples per row in ${ROUNDS} interleaved rounds (one warm-up run each) over a family's widths (slow rows: fewer, one after another); GPU timestamps: ${ctx.hasTimestamps}.`,
    `Roofline (measured at start and end, the higher kept): copy ${roof.copyGBs.toFixed(2)} GB/s (read + write), FMA ${roof.fmaGflops.toFixed(1)} GFLOP/s. GB/s = bytes moved (packed weights + scales/zeros + activations + output) / time.`,
    'Ours: kernel time (GPU timestamps). ORT webgpu: wall time of session.run (upload + dispatch + readback), an upper bound on its kernel. A time counts only after its sampled float64 check (max |Δ| ≤ 1e-3 · max |ref|).', '',
    '| shape | M | weights | act | family | kernel | median ms | min ms | GB/s (min) | % copy roof | vs f32 (min) | rel err | note |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const gbs = r.minMs ? r.bytes / (r.minMs * 1e6) : null;
    const f = f32Of(r);
    lines.push(`| ${r.shape} | ${r.M} | ${r.weights} | ${r.act} | ${r.family} | ${r.kernel} | ${r.ms?.toFixed(2) ?? '—'} | ${r.minMs?.toFixed(2) ?? '—'} | ${gbs?.toFixed(2) ?? '—'} | ${gbs ? `${((100 * gbs) / roof.copyGBs).toFixed(0)}%` : '—'} | ${r.minMs && f?.minMs ? (r.minMs / f.minMs).toFixed(2) : '—'} | ${r.relErr?.toExponential(1) ?? '—'} | ${r.note} |`);
  }
  lines.push('', '## Latency as bits drop (W8 → W1, min ms)', '');
  const label = (r: Result): string => `${r.shape} · M=${r.M} · ${r.family}`;
  for (const key of new Set(results.filter((r) => r.weights !== 'f32' && r.family !== 'ORT webgpu').map(label))) {
    const q = results.filter((r) => label(r) === key && r.minMs !== null).sort((x, y) => Number(y.weights.slice(1, 2)) - Number(x.weights.slice(1, 2)));
    if (q.length < 2) continue;
    const falls = q.every((r, i) => i === 0 || (r.minMs as number) <= ((q[i - 1] as Result).minMs as number));
    const f = f32Of(q[0] as Result);
    lines.push(`- ${key}: ${falls ? 'falls monotonically' : 'NOT monotone'}: ${q.map((r) => `${r.weights.split(' ')[0]} ${(r.minMs as number).toFixed(2)}`).join(', ')}${f?.minMs ? `; f32 ${f.minMs.toFixed(2)}` : ''} ms`);
  }
  if (skipped.length) lines.push('', 'Skipped:', ...skipped.map((s) => `- ${s}`));
  const dir = path.resolve(OUT_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `quant-${ctx.fingerprint.id}.md`), `${lines.join('\n')}\n`);
  writeFileSync(path.join(dir, `quant-${ctx.fingerprint.id}.json`), `${JSON.stringify({ date: new Date().toISOString(), device: ctx.fingerprint, roofline: roof, group: GROUP, results, skipped }, null, 1)}\n`);
  if (final) console.log(lines.join('\n'));
}

const ctx = await acquireDevice();
const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(' ');
let roof = await measureRoofline(ctx);
console.log(`roofline: copy ${roof.copyGBs.toFixed(2)} GB/s, FMA ${roof.fmaGflops.toFixed(1)} GFLOP/s`);
const { ort, error: ortError } = await loadOrt();
const results: Result[] = [];
const skipped: string[] = [];
const record = (r: Result): void => {
  results.push(r);
  writeReport(false);
  console.log(`${r.shape} M${r.M} ${r.weights} ${r.act} ${r.family.padEnd(28)} ${r.ms === null ? '   --   ' : `${r.ms.toFixed(2).padStart(8)} (min ${r.minMs?.toFixed(2)})`} ms ${r.relErr?.toExponential(1) ?? ''} ${r.note}`);
};
for (const M of MS) {
  for (const [shape, N, K] of SHAPES) {
    if (!timeLeft()) { skipped.push(`M=${M} ${shape}: time budget spent`); continue; }
    const a = uniformF32(M * K, mulberry32(M * 131 + N + K));
    if (wanted(shape, 'f32')) record(await f32Row(ctx, shape, M, N, K, a, N + K));
    const acts = new Map<string, ActCase>();
    for (const fam of FAMILIES) {
      if ((fam.only4096 && shape !== SHAPES[0]?.[0]) || !fam.template(M) || !wanted(shape, fam.name)) continue;
      const pending: Pending[] = [];
      for (const bits of WIDTHS) {
        if (!timeLeft()) { skipped.push(`M=${M} ${shape} W${bits} ${fam.name}: time budget spent`); continue; }
        let act: ActCase | null = null;
        if (fam.actBits) {
          const key = `${fam.actBits}${fam.actLayout}`;
          act = acts.get(key) ?? actRows(a, M, K, fam.actBits, fam.actLayout);
          acts.set(key, act);
        }
        pending.push(await nbitsRow(ctx, fam, shape, M, N, K, a, randomWeights(N, K, bits, GROUP, fam.layout, bits * 7919 + N + K), act));
      }
      for (const r of await finish(ctx, pending)) record(r);
      if (!ort || fam !== FAMILIES[0]) continue;
      for (const bits of [8, 4, 2]) {
        if (timeLeft()) record(await ortRow(ort, shape, M, N, K, a, randomWeights(N, K, bits, GROUP, 'dense', bits * 7919 + N + K)));
      }
    }
  }
}
if (ortError) skipped.push(ortError);
// Measured again at the end: other processes sharing the CPU lower it, so the higher figure is kept.
const roofEnd = await measureRoofline(ctx);
roof = { copyGBs: Math.max(roof.copyGBs, roofEnd.copyGBs), fmaGflops: Math.max(roof.fmaGflops, roofEnd.fmaGflops) };

writeReport(true);
await releaseDevice();
