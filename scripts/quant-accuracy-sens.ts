// Per-layer sensitivity for docs/quant-accuracy.md: PP-OCRv4 rec with exactly one weight layer
// quantized (W4 g128 RTN, everything else float) on the first rendered lines; the layers whose
// quantization alone changes the decoded text most. Same fake-quant path as the main table.

import type { Graph } from '../src/ir/graph.ts';
import { passContext } from '../src/passes/pass.ts';
import { defaultPipeline, runPipeline } from '../src/passes/pipeline.ts';
import { weightLayers } from '../src/passes/quantize/quantize-pass.ts';
import { editDistance, exactly, fakeQuantOnnx, floatOnnx, pct, runAll } from './quant-accuracy-lib.ts';

export async function recSensitivity(g: Graph, xs: readonly Float32Array[], shape: readonly number[], decode: (o: Float32Array) => string, top: number): Promise<string[]> {
  const ref = (await runAll(floatOnnx(g), xs, shape)).map(decode);
  const chars = ref.reduce((s, t) => s + [...t].length, 0);
  const pg = runPipeline(g, passContext(), defaultPipeline());
  const layers = weightLayers(pg);
  const rows: { name: string; what: string; cer: number; same: number }[] = [];
  for (const L of layers) {
    const keep = layers.filter((n) => n !== L).map((n) => exactly(n.name));
    const fq = fakeQuantOnnx(g, { label: 'W4 g128', bits: 4, group: 128 }, 'rtn', { keep, keepEnds: false });
    if (fq.convs + fq.matmuls !== 1) continue; // stays float under the policy (depthwise)
    const texts = (await runAll(fq.onnx, xs, shape)).map(decode);
    const w = pg.initializers.get(L.inputs[1] as string)?.shape ?? [];
    rows.push({
      name: L.name, what: `${L.op} [${w.join('×')}]`, cer: texts.reduce((s, t, i) => s + editDistance(t, ref[i] as string), 0) / chars,
      same: texts.filter((t, i) => t === ref[i]).length / texts.length,
    });
    process.stderr.write(`  sens ${L.name}: CER ${pct(rows[rows.length - 1]?.cer ?? 0)}\n`);
  }
  rows.sort((a, b) => b.cer - a.cer || a.same - b.same);
  return [
    `### rec: the ${top} most sensitive layers alone at W4 g128 (RTN), ${xs.length} lines`, '',
    `Each row quantizes only that layer (the policy's ends included; ${rows.length} eligible layers tried); CER vs the float`,
    'model\'s strings. Weight shapes after BatchNorm folding.', '',
    '| layer | op [weight] | same text | CER |', '|---|---|---|---|',
    ...rows.slice(0, top).map((r) => `| ${r.name} | ${r.what} | ${pct(r.same)} | ${pct(r.cer)} |`),
    '', `All other layers alone: CER ≤ ${pct(rows[top]?.cer ?? 0)}.`, '',
  ];
}
