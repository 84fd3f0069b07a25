// Weights over the binding limit, end to end: a matmul, a transB gemm with a bias and a 4-bit
// matmul_nbits compiled with a small maxBindingBytes become column blocks + concat in the bundle,
// no weight binding exceeds the limit, and the GPU result equals the interpreter of the source graph.
// Weights over the buffer limit: the executor uploads weights.bin as several pages and still runs it.

import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile/compile.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { bundleVsInterpreter } from '../helpers/compiled-vs-interp.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { inputsFor } from '../prop/arbitraries.ts';


function model(): ReturnType<GraphBuilder['build']> {
  const rand = mulberry32(5);
  const b = new GraphBuilder('wide');
  const x = b.input('x', 'f32', [3, 37]);
  const h = b.op('matmul', [x, b.initializer('w1', tensor('f32', [37, 29], uniformF32(37 * 29, rand)))]);
  const g = b.op('gemm', [h, b.initializer('w2', tensor('f32', [41, 29], uniformF32(41 * 29, rand))), b.initializer('c2', tensor('f32', [41], uniformF32(41, rand)))], { transB: 1 });
  b.output(b.op('relu', [g]));
  return b.build();
}

describe.skipIf(noGpu)('split-wide-weights on the GPU', () => {
  it('split f32 and 4-bit weights run equal to the interpreter', async () => {
    const ctx = await gpu();
    // Packed 4-bit weights are ~8x smaller, so their limit is too.
    for (const [LIMIT, quantize] of [[2048, undefined], [256, { bits: 4, group: 16, keepEnds: false }]] as const) {
      const src = model();
      const r = await compileGraph(src, { ctx, verifyPasses: true, maxBindingBytes: LIMIT, ...(quantize ? { quantize } : {}) });
      expect(r.graph.nodes.filter((n) => n.op === 'concat').length).toBe(2);
      const m = r.bundle.manifest;
      for (const d of m.dispatches) for (const ref of d.bindings) if (ref.buffer < 0) expect(ref.bytes).toBeLessThanOrEqual(LIMIT);
      // The quantized graph differs from the source; compare each against what was compiled from it.
      const problems = await bundleVsInterpreter(ctx, r.bundle, quantize ? r.graph : src, inputsFor(src, 3));
      expect(problems).toEqual([]);
    }
  });

  it('weights.bin over maxBufferSize runs from several pages', async () => {
    const ctx = await gpu();
    const src = model();
    const { bundle } = await compileGraph(src, { ctx, maxBindingBytes: 2048 });
    const limit = 4096;
    expect(bundle.weights.byteLength).toBeGreaterThan(2 * limit);
    const ins = inputsFor(src, 4);
    const ex = await Executor.create(ctx, bundle, { maxBufferBytes: limit });
    try {
      const got = await ex.run(new Map(Object.entries(ins).map(([k, v]) => [k, Float32Array.from(v.data)])));
      for (const [name, ref] of interpret(src, ins)) expect(compareOutputs(got.outputs.get(name) as Float32Array, ref.data)).toBeNull();
    } finally {
      ex.destroy();
    }
    await expect(Executor.create(ctx, bundle, { maxBufferBytes: 1024 })).rejects.toThrow(/larger than this device's maxBufferSize \(1024\)/);
  });
});
