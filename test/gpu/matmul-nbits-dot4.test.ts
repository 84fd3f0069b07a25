// matmul-nbits-dot4 vs the matmul_nbits op reference (act_bits): weight widths 1–8 (+ 2-bit bit
// balance), activation widths (mostly 8 and 4), groups 32/64/128/per-channel, odd and prime K and N,
// GEMV and GEMM M, symmetric/asymmetric (fractional) weight zeros, activation rows with and without
// a zero offset, bias, epilogues and random knobs (dot4 on/off, unrolled/looped, row/column blocks).

import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE, type AnyKernelTemplate, type DeviceInfo, type Knobs } from '../../codegen/kernel.ts';
import { matmulNBitsDot4Template as dot4 } from '../../codegen/kernels/matmul-nbits-dot4.ts';
import { matmulNBitsDot4GemmTemplate as dot4Gemm } from '../../codegen/kernels/matmul-nbits-dot4-gemm.ts';
import { templatesFor } from '../../codegen/kernels/index.ts';
import type { Epilogue, MatmulNBitsProblem } from '../../codegen/problems.ts';
import { DOT4_FEATURE } from '../../codegen/wgsl/dot4.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { getOp } from '../../src/ir/op-table.ts';
import { ndarray, tensor, type NdArray } from '../../src/ir/tensor.ts';
import { actRowWords, packActRows } from '../../src/quant/act.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { runKernel } from '../../src/runtime/kernel-runner.ts';
import { TuningDb } from '../../src/tuner/db.ts';
import { selectKernels } from '../../src/tuner/search.ts';
import { emitSource } from '../../codegen/kernels/index.ts';
import type { GpuContext } from '../../src/runtime/device.ts';
import { epilogueArb, epilogueReference, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';
import { fcParams } from '../prop/arbitraries.ts';
import { bundleVsInterpreter } from '../helpers/compiled-vs-interp.ts';

const ctx = await gpuForTests();

interface Case {
  M: number;
  N: number;
  K: number;
  bits: number;
  bitBalance: boolean;
  actBits: number;
  /** 0 means per-channel (group = K). */
  group: number;
  symmetric: boolean;
  /** Activation value range: [-1, 1) gives a mid zero point, [0, 2) zero 0, [-3, 0.5) a high one. */
  range: readonly [number, number];
  bias: boolean;
  epilogue: Epilogue;
  knobIndex: number;
  seed: number;
}

const caseArb = (Ms: fc.Arbitrary<number>): fc.Arbitrary<Case> => fc.record({
  M: Ms,
  N: fc.oneof(fc.constantFrom(1, 3, 7, 13, 33), fc.integer({ min: 1, max: 70 })),
  K: fc.oneof(fc.constantFrom(1, 3, 31, 33, 97, 200), fc.integer({ min: 1, max: 300 })),
  bits: fc.integer({ min: 1, max: 8 }),
  bitBalance: fc.boolean(),
  actBits: fc.constantFrom(8, 8, 4, 4, 2, 3, 5, 6, 7),
  group: fc.constantFrom(0, 32, 64, 128),
  symmetric: fc.boolean(),
  range: fc.constantFrom<readonly [number, number]>([-1, 1], [0, 2], [-3, 0.5]),
  bias: fc.boolean(),
  epilogue: epilogueArb,
  knobIndex: fc.nat(),
  seed: fc.nat(),
});

interface Built {
  problem: MatmulNBitsProblem;
  inputs: Float32Array[];
  ref: Float64Array;
}

/** Inputs as the lowered graph would bind them, and the op table's reference (+ epilogue via the interpreter). */
function build(c: Case): Built {
  const qm = quantizeMatrix(randomData(c.N * c.K, c.seed + 3), c.N, c.K, {
    bits: c.bits, group: c.group, symmetric: c.symmetric, method: 'rtn', layout: 'dense', bitBalance: c.bitBalance && c.bits === 2,
  });
  const w = qm.weight;
  const acts = packActRows(randomData(c.M * c.K, c.seed + 1, c.range[0], c.range[1]), c.M, c.K, c.actBits, 'dense');
  const bias = c.bias ? randomData(c.N, c.seed + 2) : null;
  const problem: MatmulNBitsProblem = {
    kind: 'matmul-nbits', M: c.M, N: c.N, K: c.K, bits: w.bits, group: w.group, layout: 'dense', bias: c.bias, epilogue: c.epilogue, actBits: c.actBits, actLayout: 'dense',
  };
  const G = w.scales.length / c.N;
  const attrs = { N: c.N, K: c.K, bits: w.bits, group: w.group, layout: 'dense', act_bits: c.actBits, act_layout: 'dense' };
  const ins = [ndarray([c.M, actRowWords(c.K, c.actBits, 'dense')], acts), ndarray([w.words.length], w.words), ndarray([c.N, G], w.scales), ndarray([c.N, G], w.zeros),
    ...(bias ? [ndarray([c.N], bias)] : [])];
  const y = epilogueReference((getOp('matmul_nbits')?.reference(ins, attrs)[0] as NdArray).data, c.M, c.N, c.epilogue);
  // runKernel takes Float32Arrays: views over the u32 words keep their bits.
  const inputs = [new Float32Array(acts.buffer), new Float32Array(w.words.buffer), w.scales, w.zeros, ...(bias ? [bias] : [])];
  return { problem, inputs, ref: y };
}

/** Max |gpu - ref| <= 1e-4 * max|ref|; the floor covers references below f32's range (GPUs flush them). */
function mismatch(out: Float32Array, ref: Float64Array): string | undefined {
  let scale = 1e-26;
  for (const r of ref) scale = Math.max(scale, Math.abs(r));
  const tol = 1e-4 * scale;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs((out[i] as number) - (ref[i] as number));
    if (!(err <= tol)) return `element ${i}: gpu ${out[i]}, reference ${ref[i]} (tolerance ${tol})`;
  }
  return undefined;
}

async function check(gpu: GpuContext, t: AnyKernelTemplate, c: Case, knobs?: Knobs): Promise<void> {
  const { problem, inputs, ref } = build(c);
  const k = knobs ?? pickKnobs(t, problem, gpu.info, c.knobIndex);
  const valid = t.valid(problem, k, gpu.info);
  if (valid !== true) throw new Error(`knobs ${JSON.stringify(k)} invalid: ${valid}`);
  const [out] = await runKernel(gpu, emitSource(t, problem, k, gpu.info), t.launch(problem, k), inputs, [ref.length]);
  const bad = mismatch(out as Float32Array, ref);
  if (bad) throw new Error(`${t.name} key=${t.key(problem)} knobs=${JSON.stringify(k)}: ${bad}`);
}

it.skipIf(!ctx)('this adapter has the dot4 WGSL feature (lavapipe does), so both dot4 knob values run', () => {
  expect(ctx?.info.wgslFeatures?.has(DOT4_FEATURE)).toBe(true);
});

// [template, M arbitrary, property runs, M of the four defaults cases]
const SUITES: [AnyKernelTemplate, fc.Arbitrary<number>, number, number[]][] = [
  [dot4, fc.integer({ min: 1, max: 8 }), 8, [1, 3, 8, 1]],
  [dot4Gemm, fc.constantFrom(1, 5, 9, 17, 33, 40, 70), 6, [9, 20, 40, 13]],
];

for (const [t, Ms, runs, defaultMs] of SUITES) describe.skipIf(!ctx)(`${t.name} on the GPU`, () => {
  const gpu = ctx as GpuContext;

  it('matches the WxAy reference for random problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb(Ms), (c) => check(gpu, t, c)), fcParams(runs));
  });

  it('defaults (and the fallback) are valid and correct: W8A8, W4A8, W3A8, W2A8 at K = 468', async () => {
    const cases: [number, number, number][] = [[8, 8, 128], [4, 8, 0], [3, 8, 64], [2, 8, 128]];
    for (const [i, [bits, actBits, group]] of cases.entries()) {
      const c: Case = { M: defaultMs[i] as number, N: 37, K: 468, bits, bitBalance: false, actBits, group, symmetric: i % 2 === 0, range: [-1, 1], bias: true, epilogue: [{ op: 'relu', attrs: {} }], knobIndex: 0, seed: i };
      const p = build(c).problem;
      const k = t.defaults(p, gpu.info);
      expect(k.dot4).toBe(1);
      await check(gpu, t, c, k);
      if (i === 1) await check(gpu, t, c, { ...k, dot4: 0 });
    }
  });
});

describe('matmul-nbits-dot4 validity', () => {
  const p: MatmulNBitsProblem = { kind: 'matmul-nbits', M: 1, N: 64, K: 256, bits: 3, group: 128, layout: 'dense', bias: false, epilogue: [], actBits: 8, actLayout: 'dense' };
  const withDot4: DeviceInfo = { ...DEFAULT_DEVICE, wgslFeatures: new Set([DOT4_FEATURE]) };
  const k = { workgroupSize: 64, rows: 1, cols: 2, dot4: 1, unroll: 1 };

  it('serves dense WxAy products of whole-chunk or per-channel groups, with reasons otherwise', () => {
    expect(templatesFor(p).map((t) => t.name)).toContain(dot4.name);
    expect(dot4.valid(p, k, withDot4)).toBe(true);
    expect(dot4.valid({ ...p, group: 300 }, k, withDot4)).toBe(true);
    expect(dot4.valid({ ...p, group: 48 }, k, withDot4)).toMatch(/multiple of 32/);
    expect(dot4.valid({ ...p, actLayout: 'planes' }, k, withDot4)).toMatch(/dense activation/);
    expect(dot4.valid({ ...p, layout: 'planes' }, k, withDot4)).toMatch(/dense weight/);
    expect(dot4.valid({ ...p, actBits: 0 }, k, withDot4)).toMatch(/weight-only/);
    expect(dot4.valid({ ...p, M: 8 }, { ...k, rows: 8, unroll: 0 }, withDot4)).toBe(true);
    expect(dot4.valid({ ...p, M: 8 }, { ...k, rows: 4 }, withDot4)).toMatch(/compile too slowly/);
    expect(dot4.valid({ ...p, M: 3 }, { ...k, rows: 8, unroll: 0 }, withDot4)).toMatch(/rows 8/);
    expect(dot4.valid({ ...p, M: 9 }, { ...k, unroll: 0 }, withDot4)).toMatch(/1\.\.8 rows/);
    expect(dot4Gemm.valid({ ...p, M: 9 }, dot4Gemm.defaults({ ...p, M: 9 }, withDot4), withDot4)).toBe(true);
    expect(dot4Gemm.valid({ ...p, group: 48 }, { threads: 8, micro: 1, dot4: 0 }, withDot4)).toMatch(/multiple of 32/);
    expect(dot4.valid(p, { ...k, rows: 8, cols: 8 }, withDot4)).toMatch(/accumulators/);
  });

  it('needs the WGSL feature for dot4=1 and defaults to the fallback without it', () => {
    expect(dot4.valid(p, k, DEFAULT_DEVICE)).toMatch(/packed_4x8_integer_dot_product/);
    expect(dot4.valid(p, { ...k, dot4: 0 }, DEFAULT_DEVICE)).toBe(true);
    expect(dot4.defaults(p, DEFAULT_DEVICE).dot4).toBe(0);
    expect(dot4.defaults(p, withDot4).dot4).toBe(1);
    expect(dot4.source(p, { ...k, dot4: 0 }, DEFAULT_DEVICE)).not.toMatch(/dot4U8Packed|unpack4x/);
  });
});

/** x -> quantize_act(8 bits, dense) -> matmul_nbits(3-bit dense weights, group 64, bias) -> relu. */
function w3a8Graph(batch: number, K: number, N: number): Graph {
  const g = new GraphBuilder('w3a8');
  const x = g.input('x', 'f32', [batch, K]);
  const q = quantizeMatrix(randomData(N * K, 7), N, K, { bits: 3, group: 64, symmetric: false, method: 'rtn', layout: 'dense' }).weight;
  const words = g.initializer('w.q', tensor('u32', [q.words.length], q.words));
  const scales = g.initializer('w.scales', tensor('f32', [N, q.scales.length / N], q.scales));
  const zeros = g.initializer('w.zeros', tensor('f32', [N, q.zeros.length / N], q.zeros));
  const bias = g.initializer('b', tensor('f32', [N], randomData(N, 8)));
  const qa = g.op('quantize_act', [x], { bits: 8, layout: 'dense' });
  const y = g.op('matmul_nbits', [qa, words, scales, zeros, bias], { N, K, bits: 3, group: 64, layout: 'dense', act_bits: 8, act_layout: 'dense' });
  g.output(g.op('relu', [y], {}, { output: 'y' }));
  return g.build();
}

describe.skipIf(!ctx)('WxA8 dot4 path compiled end to end', () => {
  const gpu = ctx as GpuContext;

  for (const batch of [1, 13]) {
    it(`W3A8 graph, batch ${batch}, equals the interpreter`, async () => {
      const r = await compileGraph(w3a8Graph(batch, 200, 37), { ctx: gpu });
      const templates = r.bundle.manifest.dispatches.map((d) => d.template);
      expect(templates).toEqual(['quantize-act', batch <= 8 ? 'matmul-nbits-dot4' : 'matmul-nbits-dot4-gemm']);
      const x = ndarray([batch, 200], Float32Array.from({ length: batch * 200 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 5))));
      expect(await bundleVsInterpreter(gpu, r.bundle, r.graph, { x })).toEqual([]);
    });
  }

  it('the tuner verifies and times dot4 candidates (none rejected)', async () => {
    const g = w3a8Graph(1, 200, 37);
    const db = TuningDb.open(path.join(mkdtempSync(path.join(os.tmpdir(), 'anybit-tune-')), 'db.json'), gpu.fingerprint);
    const { report } = await selectKernels(g, lowerGraph(g), { ctx: gpu, db, tune: { budgetSec: 60, maxCandidates: 2, repeats: 2, warmup: 1 } });
    expect(report.tuned).toBe(2);
    expect(report.candidatesRejected).toBe(0);
  });
});
