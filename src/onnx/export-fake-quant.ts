// ONNX export of a fake-quantized graph (src/quant/fake-quant.ts): each ActSite's identity becomes an
// f32 quant-dequant over its axis with src/quant/act.ts's grid (lo = min(0, min x), hi = max(0, max x),
// scale (hi - lo) / (2^b - 1), 1 below 2^-126; Round is half-to-even). ORT divides in f32, so a code
// may differ from act.ts by one at an exact tie. Only the default domain, opset 17.

import type { FakeQuantGraph } from '../quant/fake-quant.ts';
import { MIN_NORMAL_F32 } from '../quant/act.ts';
import { exportOnnx } from './export.ts';
import { decodeModel, DT, encodeModel, onnx, type NodeProto, type TensorProto } from './proto.ts';

const T = onnx.AttributeProto.AttributeType;

/** ONNX bytes of `fq.graph` with its activation sites rounding (opset 17, default domain). */
export function exportFakeQuantOnnx(fq: FakeQuantGraph): Uint8Array {
  const model = decodeModel(exportOnnx(fq.graph));
  const graph = model.graph;
  if (!graph) throw new Error('export-fake-quant: exported model has no graph');
  const sites = new Map(fq.sites.map((s) => [s.node, s]));
  const inits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const scalar = (name: string, v: number): string => {
    inits.push({ name, dims: [], dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.of(v).buffer) });
    return name;
  };
  for (const n of graph.node ?? []) {
    const s = n.name ? sites.get(n.name) : undefined;
    if (!s) {
      nodes.push(n);
      continue;
    }
    if (n.opType !== 'Identity') throw new Error(`export-fake-quant: site '${s.node}' exported as ${n.opType}, not Identity`);
    const p = `${s.node}/`;
    const op = (opType: string, input: string[], out: string, attribute: NodeProto['attribute'] = []): string => {
      nodes.push({ opType, input, output: [p + out], name: p + out, attribute, domain: '' });
      return p + out;
    };
    const red = [{ name: 'axes', type: T.INTS, ints: [s.axis] }, { name: 'keepdims', type: T.INT, i: 1 }];
    const top = 2 ** s.bits - 1;
    const zeroC = scalar(`${p}c_zero`, 0);
    const topC = scalar(`${p}c_top`, top);
    const x = s.input;
    const lo = op('Min', [op('ReduceMin', [x], 'rmin', red), zeroC], 'lo');
    const hi = op('Max', [op('ReduceMax', [x], 'rmax', red), zeroC], 'hi');
    const raw = op('Div', [op('Sub', [hi, lo], 'range'), topC], 'scale0');
    const tiny = op('Less', [raw, scalar(`${p}c_tiny`, MIN_NORMAL_F32)], 'tiny');
    const scale = op('Where', [tiny, scalar(`${p}c_one`, 1), raw], 'scale');
    const zero = op('Clip', [op('Round', [op('Div', [op('Neg', [lo], 'nlo'), scale], 'zr')], 'zround'), zeroC, topC], 'zero');
    const q = op('Clip', [op('Add', [op('Round', [op('Div', [x, scale], 'xs')], 'xr'), zero], 'xz'), zeroC, topC], 'q');
    nodes.push({ opType: 'Mul', input: [op('Sub', [q, zero], 'qz'), scale], output: [s.output], name: s.node, attribute: [], domain: '' });
  }
  return encodeModel({ ...model, graph: { ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...inits] } });
}
