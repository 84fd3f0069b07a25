// WxAy end to end: x -> quantize_act(4 bits, planes) -> matmul_nbits(act_bits 4, planes weights,
// bias) -> relu, compiled (quantize-act kernel, then a popcount kernel with relu as epilogue) and
// run by the executor, equal to the float64 interpreter of the same graph — one GEMV batch and
// one GEMM batch, with odd K and N and a group that does not divide K. The tuner verifies and
// times both kernels (valid activation rows as input, u32 rows compared bit for bit).

import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileGraph } from '../../src/compile/compile.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { ndarray, tensor } from '../../src/ir/tensor.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { TuningDb } from '../../src/tuner/db.ts';
import { selectKernels } from '../../src/tuner/search.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { randomData } from '../helpers/kernel-check.ts';
import { bundleVsInterpreter } from '../helpers/compiled-vs-interp.ts';

const K = 200;
const N = 37;
const GROUP = 64;

function wxaGraph(batch: number, bits: number, actBits: number): Graph {
  const g = new GraphBuilder('w4a4');
  const x = g.input('x', 'f32', [batch, K]);
  const q = quantizeMatrix(randomData(N * K, 7), N, K, { bits, group: GROUP, symmetric: false, method: 'rtn', layout: 'planes' }).weight;
  const words = g.initializer('w.q', tensor('u32', [q.words.length], q.words));
  const scales = g.initializer('w.scales', tensor('f32', [N, q.scales.length / N], q.scales));
  const zeros = g.initializer('w.zeros', tensor('f32', [N, q.zeros.length / N], q.zeros));
  const bias = g.initializer('b', tensor('f32', [N], randomData(N, 8)));
  const qa = g.op('quantize_act', [x], { bits: actBits, layout: 'planes' });
  const y = g.op('matmul_nbits', [qa, words, scales, zeros, bias], { N, K, bits, group: GROUP, layout: 'planes', act_bits: actBits, act_layout: 'planes' });
  g.output(g.op('relu', [y], {}, { output: 'y' }));
  return g.build();
}

describe.skipIf(noGpu)('WxAy popcount path compiled end to end', () => {
  for (const batch of [1, 13]) {
    it(`W4A4 graph, batch ${batch}, equals the interpreter`, async () => {
      const ctx = await gpu();
      const r = await compileGraph(wxaGraph(batch, 4, 4), { ctx });
      const kernels = r.bundle.manifest.dispatches.map((d) => d.kernel);
      // Two dispatches: relu rides in the popcount kernel's epilogue.
      expect(kernels).toHaveLength(2);
      expect(kernels.some((k) => k.startsWith('quantize-act'))).toBe(true);
      expect(kernels.some((k) => k.startsWith(batch <= 8 ? 'matmul-nbits-popcount-gemv' : 'matmul-nbits-popcount-gemm'))).toBe(true);
      const x = ndarray([batch, K], Float32Array.from({ length: batch * K }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 5))));
      expect(await bundleVsInterpreter(ctx, r.bundle, r.graph, { x })).toEqual([]);
    });
  }

  it('the tuner verifies and times quantize-act and popcount candidates (none rejected)', async () => {
    const ctx = await gpu();
    const g = wxaGraph(1, 3, 4);
    const db = TuningDb.open(path.join(mkdtempSync(path.join(os.tmpdir(), 'anybit-tune-')), 'db.json'), ctx.fingerprint);
    const { report } = await selectKernels(g, lowerGraph(g), { ctx, db, tune: { budgetSec: 60, maxCandidates: 2, repeats: 2, warmup: 1 } });
    expect(report.tuned).toBe(2);
    expect(report.candidatesRejected).toBe(0);
    expect(report.candidatesTimed).toBeGreaterThanOrEqual(4);
  });
});
