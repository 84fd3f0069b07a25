// RLFN x4 (examples/rlfn.abit + the real checkpoint) compiled with quantize {bits: 4}: its 3x3 and
// 1x1 convs become conv2d_nbits (the first and last stay float) and the compiled bundle on WebGPU
// matches the float64 interpreter of the quantized graph on a 32x32 image (the float RLFN test's
// tolerance). Only the quantized path is checked here; test/gpu/rlfn.test.ts covers float.

import { describe, expect, it } from 'vitest';
import { loadAbitModel } from '../../dsl/program.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { loadCheckpoint } from '../../src/weights/index.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';

const SIZE = 32;
const image = Float32Array.from({ length: 3 * SIZE * SIZE }, (_, i) => 0.5 + 0.45 * Math.sin(i * 0.37) * Math.cos(i * 0.011));

describe.skipIf(noGpu)('RLFN x4 quantized to 4 bits on WebGPU', () => {
  it('matches the float64 interpreter of the quantized graph on a 32x32 image', async () => {
    const weights = loadCheckpoint('../shared/data/rlfn/rlfn_x4.pth');
    const { graph } = loadAbitModel('examples/rlfn.abit', { weights, inputShapes: { x: [1, 3, SIZE, SIZE] } });
    const ctx = await gpu();
    const r = await compileGraph(graph, { ctx, quantize: { bits: 4, convBits: 4 } });
    const convs = r.graph.nodes.filter((n) => n.op === 'conv2d');
    expect(r.graph.nodes.filter((n) => n.op === 'conv2d_nbits')).toHaveLength(55);
    expect(convs).toHaveLength(2);
    expect(r.lowered.kernels.filter((k) => k.problem.kind === 'conv2d-nbits').length).toBe(55);
    const ex = await Executor.create(ctx, r.bundle);
    try {
      const got = (await ex.run(new Map([['x', image]]))).outputs.get('y') as Float32Array;
      const want = interpret(r.graph, { x: ndarray([1, 3, SIZE, SIZE], image) }).get('y');
      expect(want?.shape).toEqual([1, 3, SIZE * 4, SIZE * 4]);
      expect(compareOutputs(got, want?.data ?? [])).toBeNull();
      // Still a super-resolved image, not noise: close to the float model's output.
      const float = interpret(graph, { x: ndarray([1, 3, SIZE, SIZE], image) }).get('y')?.data ?? [];
      let se = 0;
      for (let i = 0; i < got.length; i++) se += ((got[i] as number) - (float[i] as number)) ** 2;
      const psnr = 10 * Math.log10(1 / (se / got.length));
      expect(psnr).toBeGreaterThan(25);
    } finally {
      ex.destroy();
    }
  }, 300_000);
});
