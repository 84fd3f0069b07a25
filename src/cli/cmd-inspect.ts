// `anybit inspect`: for a model, the IR text plus a per-layer table (op, output type,
// parameters, FLOPs, bytes); for a bundle directory, its dispatches with template and knobs,
// and for quantized bundles the per-layer bits and the weight compression ratio.

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bindGraph } from '../ir/bind.ts';
import { getOp } from '../ir/op-table.ts';
import { printGraph, printType } from '../ir/print.ts';
import { numel } from '../ir/shape.ts';
import type { TensorType } from '../ir/tensor.ts';
import { loadBundle } from '../runtime/bundle-loader.ts';
import type { Out } from './context.ts';
import { loadModel, parseShapeSpecs } from './model-io.ts';
import { parseGraph } from '../ir/parse.ts';
import { compressionRatio, layerLabel, quantLayers } from './quant-cli.ts';

export async function cmdInspect(p: string, o: { input: string[] }, out: Out): Promise<void> {
  if (existsSync(p) && statSync(p).isDirectory()) return inspectBundle(p, out);
  const shapes = parseShapeSpecs(o.input);
  const g = bindGraph(await loadModel(p, shapes), shapes);
  const rows = g.nodes.map((n) => {
    const ins = n.inputs.filter((v) => v !== '').map((v) => g.values.get(v) as TensorType);
    const outs = n.outputs.map((v) => g.values.get(v) as TensorType);
    const cost = getOp(n.op)?.cost(ins, outs, n.attrs) ?? { flops: 0, bytes: 0 };
    const params = n.inputs.filter((v) => g.initializers.has(v)).reduce((s, v) => s + numel(g.initializers.get(v)?.shape ?? []), 0);
    return { node: n.name, op: n.op, output: outs.map((t) => printType(t)).join(', '), params, flops: cost.flops, bytes: cost.bytes };
  });
  const totals = rows.reduce((s, r) => ({ params: s.params + r.params, flops: s.flops + r.flops }), { params: 0, flops: 0 });
  const paramBytes = [...g.initializers.values()].reduce((s, t) => s + t.data.byteLength, 0);
  out.log(printGraph(g));
  const w = Math.max(4, ...rows.map((r) => r.node.length));
  const ow = Math.max(6, ...rows.map((r) => r.output.length));
  out.log(`${'node'.padEnd(w)}  ${'op'.padEnd(10)}  ${'output'.padEnd(ow)}  ${'params'.padStart(10)}  ${'FLOPs'.padStart(12)}`);
  for (const r of rows) out.log(`${r.node.padEnd(w)}  ${r.op.padEnd(10)}  ${r.output.padEnd(ow)}  ${String(r.params).padStart(10)}  ${String(r.flops).padStart(12)}`);
  out.log(`total: ${g.nodes.length} nodes, ${totals.params} parameters (${paramBytes} bytes), ${totals.flops} FLOPs`);
  out.result({ model: g.name, nodes: rows, parameters: totals.params, parameterBytes: paramBytes, flops: totals.flops });
}

async function inspectBundle(dir: string, out: Out): Promise<void> {
  const b = await loadBundle(dir);
  const m = b.manifest;
  out.log(`bundle ${path.resolve(dir)}: model ${m.model}, ${m.compiler}, tuned for ${m.tunedFor?.id ?? '(defaults)'}`);
  out.log(`inputs: ${m.inputs.map((i) => `${i.name} f32[${i.shape.join(',')}]`).join(', ')}`);
  out.log(`outputs: ${m.outputs.map((i) => `${i.name} f32[${i.shape.join(',')}]`).join(', ')}`);
  out.log(`weights ${m.weights.bytes} B in ${m.weights.tensors.length} tensors; activations ${m.stats.activationBytes} B in ${m.slots.length} slots (unplanned ${m.stats.unplannedActivationBytes} B)`);
  for (const d of m.dispatches) {
    out.log(`  ${d.nodes.join('+').padEnd(28)} ${d.template.padEnd(20)} wg=${d.workgroups.join('x').padEnd(12)} ${JSON.stringify(d.knobs)}`);
  }
  // Quantized layers are read from the bundle's graph (weights elided: only attrs are needed).
  const abir = path.join(dir, 'model.abir');
  const g = existsSync(abir) ? parseGraph(readFileSync(abir, 'utf8'), { file: abir, elided: 'zeros' }) : null;
  const layers = g ? quantLayers(g) : [];
  if (!g || !layers.length) return out.result(m);
  const cr = compressionRatio(g, m);
  out.log(`quantized layers: ${layers.length}; weights ${cr.bytes} B vs ${cr.floatBytes} B as f32 (compression ${cr.ratio.toFixed(2)}x)`);
  for (const l of layers) out.log(`  ${l.node.padEnd(28)} ${layerLabel(l).padEnd(16)} [${l.N}x${l.K}] ${l.layout}`);
  out.result({ ...m, quantized: layers, compression: cr });
}
