// `anybit export`: write a model (.abir, .onnx or .abit with --weights/--set; shapes optionally
// bound with --input) as an ONNX file (opset 17), e.g. to check a graph in onnxruntime.
// Written atomically.

import { bindGraph } from '../ir/bind.ts';
import { exportOnnx } from '../onnx/export.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { Out } from './context.ts';
import { UserError } from './errors.ts';
import { loadModel, parseShapeSpecs } from './model-io.ts';

export async function cmdExport(model: string, o: { output: string; input: string[]; json?: boolean; weights?: string | undefined; set?: string[] | undefined }, out: Out): Promise<void> {
  if (!o.output.toLowerCase().endsWith('.onnx')) throw new UserError(`-o '${o.output}': the export file must end in .onnx`);
  const shapes = parseShapeSpecs(o.input);
  const g = bindGraph(await loadModel(model, shapes, { weights: o.weights, set: o.set }), shapes);
  const bytes = exportOnnx(g);
  await writeFileAtomic(o.output, bytes);
  out.log(`exported ${g.name}: ${g.nodes.length} nodes -> ${o.output} (${bytes.byteLength} bytes, opset 17)`);
  out.result({ model: g.name, output: o.output, nodes: g.nodes.length, bytes: bytes.byteLength });
}
