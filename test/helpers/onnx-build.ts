// Test support for the ONNX front-end: builds small ONNX models with onnx-proto (independent
// of src/onnx/export.ts, so import tests do not trust the exporter) and runs models in
// onnxruntime-node on the CPU provider, the oracle for real-model parity.

import * as ort from 'onnxruntime-node';
import { onnx, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../../src/onnx/proto.ts';

export type AttrInit = number | string | number[] | { floats: number[] } | { float: number } | { tensor: TensorProto };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Record<string, AttrInit>;
  readonly name?: string;
  readonly domain?: string;
}

export interface ModelSpec {
  readonly inputs: readonly { name: string; shape: readonly (number | string)[]; elemType?: number }[];
  readonly outputs: readonly string[];
  readonly nodes: readonly NodeSpec[];
  readonly inits?: Record<string, TensorProto>;
  readonly opset?: number;
}

export function floatTensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  const f = Float32Array.from(data);
  return { name, dims: [...dims], dataType: 1, rawData: new Uint8Array(f.buffer) };
}

/** Typed-field encoding (float_data), the other way exporters store floats. */
export function floatTensorTyped(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: 1, floatData: Array.from(data) };
}

export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): TensorProto {
  return { name, dims: [...dims], dataType: 7, int64Data: [...data] };
}

function attr(name: string, v: AttrInit): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: v.tensor };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const nodes: NodeProto[] = spec.nodes.map((n, i) => ({
    name: n.name ?? `${n.op.toLowerCase()}_${i}`, opType: n.op, input: [...n.inputs], output: [...n.outputs], domain: n.domain ?? '',
    attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
  }));
  const vi = (name: string, shape?: readonly (number | string)[], elemType = 1): ValueInfoProto => ({
    name, type: { tensorType: { elemType, ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}) } },
  });
  const domains = new Set(spec.nodes.map((n) => n.domain ?? '').filter((d) => d));
  const m: ModelProto = {
    irVersion: 8, producerName: 'anybit-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }, ...[...domains].map((d) => ({ domain: d, version: 1 }))],
    graph: {
      name: 'test', node: nodes, initializer: Object.entries(spec.inits ?? {}).map(([k, t]) => ({ ...t, name: k })),
      input: spec.inputs.map((i) => vi(i.name, i.shape, i.elemType)), output: spec.outputs.map((o) => vi(o)),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}

/** Runs a model in onnxruntime-node (CPU) on float32 inputs; returns every graph output. */
export async function runOrt(model: Uint8Array, inputs: Record<string, { shape: readonly number[]; data: Float32Array }>, provider = 'cpu'): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const sess = await ort.InferenceSession.create(model, { executionProviders: [provider] });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) feeds[k] = new ort.Tensor('float32', v.data, [...v.shape]);
    const res = await sess.run(feeds);
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const name of sess.outputNames) {
      const t = res[name] as ort.Tensor;
      out.set(name, { shape: [...t.dims], data: Float32Array.from(t.data as Float32Array) });
    }
    return out;
  } finally {
    await sess.release();
  }
}

/** max |a - b| and max |b| over two equally long arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; maxRef: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    maxRef = Math.max(maxRef, Math.abs(b[i] as number));
  }
  return { maxAbs, maxRef };
}
