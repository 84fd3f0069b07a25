// IR graph -> ONNX model (opset 17, default domain), so compiled graphs can be checked in
// onnxruntime-node. Ops without a single ONNX equivalent at opset 17 (gelu, silu, rms_norm)
// are written as small decompositions. Packed integer dtypes have no ONNX form and are
// rejected, as are ops the table below does not know (the error names the node).

import { isPacked, type DType } from '../ir/dtype.ts';
import { intsAttr, numberAttr, stringAttr, type Graph, type Node } from '../ir/graph.ts';
import type { Tensor } from '../ir/tensor.ts';
import { DT, encodeModel, onnx, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';

export const EXPORT_OPSET = 17;

export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

const T = onnx.AttributeProto.AttributeType;
const ai = (name: string, i: number): AttributeProto => ({ name, type: T.INT, i });
const af = (name: string, f: number): AttributeProto => ({ name, type: T.FLOAT, f });
const ais = (name: string, ints: readonly number[]): AttributeProto => ({ name, type: T.INTS, ints: [...ints] });
const as = (name: string, s: string): AttributeProto => ({ name, type: T.STRING, s: new TextEncoder().encode(s) });

function dtypeCode(d: DType, what: string): number {
  if (isPacked(d)) throw new OnnxExportError(`${what}: packed integer dtypes have no ONNX equivalent`);
  return { f32: DT.FLOAT, f16: DT.FLOAT16, i32: DT.INT32, u32: DT.UINT32, bool: DT.BOOL }[d];
}

function tensorProto(name: string, t: Tensor): TensorProto {
  const code = dtypeCode(t.dtype, `initializer '${name}'`);
  const d = t.data;
  const raw = code === DT.BOOL ? Uint8Array.from(d, (v) => (v ? 1 : 0))
    : code === DT.FLOAT ? new Uint8Array(Float32Array.from(d).buffer)
      : code === DT.FLOAT16 ? new Uint8Array(Uint16Array.from(d).buffer)
        : code === DT.INT32 ? new Uint8Array(Int32Array.from(d).buffer) : new Uint8Array(Uint32Array.from(d).buffer);
  return { name, dims: [...t.shape], dataType: code, rawData: raw };
}

/** Collects ONNX nodes and the int64/float constants the decompositions need. */
class Writer {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private n = 0;

  constructor(private readonly g: Graph) {}

  tmp(base: string): string {
    return `${base}__${this.n++}`;
  }

  int64(values: readonly number[], base: string): string {
    const name = this.tmp(base);
    this.inits.push({ name, dims: [values.length], dataType: DT.INT64, int64Data: [...values] });
    return name;
  }

  float(v: number, base: string): string {
    const name = this.tmp(base);
    this.inits.push({ name, dims: [], dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.of(v).buffer) });
    return name;
  }

  add(opType: string, input: readonly string[], output: readonly string[], attribute: AttributeProto[] = [], name?: string): void {
    this.nodes.push({ opType, input: [...input], output: [...output], attribute, name: name ?? this.tmp(opType), domain: '' });
  }

  /** A one-output op into a fresh temporary. */
  op(opType: string, input: readonly string[], base: string, attribute: AttributeProto[] = []): string {
    const out = this.tmp(base);
    this.add(opType, input, [out], attribute);
    return out;
  }

  rank(v: string): number {
    return this.g.values.get(v)?.shape.length ?? 0;
  }

  shape(v: string): readonly (number | string)[] {
    return this.g.values.get(v)?.shape ?? [];
  }
}

/**
 * Opset 13 dropped tf_half_pixel_for_nearest. With c = (x + 0.5) / scale and half_pixel's
 * y = c - 0.5: floor(c) = round_prefer_ceil(y) and round_prefer_floor(c) = ceil(y), so those
 * two combinations survive; the others have no opset-17 spelling.
 */
export function resizeModes(n: Node): [string, string] {
  const coord = stringAttr(n.attrs, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = stringAttr(n.attrs, 'nearest_mode', 'round_prefer_floor');
  if (coord !== 'tf_half_pixel_for_nearest') return [coord, nearest];
  if (stringAttr(n.attrs, 'mode', 'nearest') === 'nearest') {
    if (nearest === 'floor') return ['half_pixel', 'round_prefer_ceil'];
    if (nearest === 'round_prefer_floor') return ['half_pixel', 'ceil'];
  }
  throw new OnnxExportError(`node '${n.name}' (resize): tf_half_pixel_for_nearest with mode ${stringAttr(n.attrs, 'mode', 'nearest')}/${nearest} has no opset-${EXPORT_OPSET} equivalent`);
}

type Exporter = (w: Writer, n: Node, ins: readonly string[], out: string) => void;

const direct = (opType: string, attrs: (n: Node) => AttributeProto[] = () => []): Exporter =>
  (w, n, ins, out) => w.add(opType, ins, [out], attrs(n), n.name);

const window = (n: Node): AttributeProto[] => [
  ais('strides', intsAttr(n.attrs, 'strides', [1, 1])), ais('pads', intsAttr(n.attrs, 'pads', [0, 0, 0, 0])),
  ais('dilations', intsAttr(n.attrs, 'dilations', [1, 1])),
];

const EXPORTERS: ReadonlyMap<string, Exporter> = new Map<string, Exporter>([
  ...Object.entries({ relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', sqrt: 'Sqrt', exp: 'Exp', abs: 'Abs', neg: 'Neg', erf: 'Erf', hardswish: 'HardSwish', identity: 'Identity', add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', pow: 'Pow', matmul: 'MatMul', global_avg_pool: 'GlobalAveragePool' })
    .map(([k, v]): [string, Exporter] => [k, direct(v)]),
  ['leaky_relu', direct('LeakyRelu', (n) => [af('alpha', numberAttr(n.attrs, 'alpha', 0.01))])],
  ['hardsigmoid', direct('HardSigmoid', (n) => [af('alpha', numberAttr(n.attrs, 'alpha', 0.2)), af('beta', numberAttr(n.attrs, 'beta', 0.5))])],
  ['gelu', (w, n, [x], out) => {
    const xs = x as string;
    if (stringAttr(n.attrs, 'approximate', 'none') === 'tanh') {
      const cube = w.op('Mul', [w.op('Mul', [xs, xs], 'x2'), xs], 'x3');
      const inner = w.op('Mul', [w.op('Add', [xs, w.op('Mul', [cube, w.float(0.044715, 'c')], 'cx3')], 'sum'), w.float(Math.sqrt(2 / Math.PI), 'k')], 'inner');
      const t = w.op('Add', [w.op('Tanh', [inner], 't'), w.float(1, 'one')], 't1');
      w.add('Mul', [w.op('Mul', [xs, w.float(0.5, 'half')], 'hx'), t], [out], [], n.name);
    } else {
      const e = w.op('Add', [w.op('Erf', [w.op('Mul', [xs, w.float(Math.SQRT1_2, 'rs2')], 'xs')], 'erf'), w.float(1, 'one')], 'e1');
      w.add('Mul', [w.op('Mul', [xs, w.float(0.5, 'half')], 'hx'), e], [out], [], n.name);
    }
  }],
  ['affine', (w, n, [x], out) => {
    const scaled = w.op('Mul', [x as string, w.float(numberAttr(n.attrs, 'scale', 1), 'scale')], 'scaled');
    w.add('Add', [scaled, w.float(numberAttr(n.attrs, 'shift', 0), 'shift')], [out], [], n.name);
  }],
  ['silu', (w, n, [x], out) => w.add('Mul', [x as string, w.op('Sigmoid', [x as string], 'sig')], [out], [], n.name)],
  ['clip', (w, n, [x], out) => {
    const lo = numberAttr(n.attrs, 'min', -Infinity);
    const hi = numberAttr(n.attrs, 'max', Infinity);
    const ins = [x as string, Number.isFinite(lo) ? w.float(lo, 'min') : '', Number.isFinite(hi) ? w.float(hi, 'max') : ''];
    while (ins[ins.length - 1] === '') ins.pop();
    w.add('Clip', ins, [out], [], n.name);
  }],
  ['gemm', direct('Gemm', (n) => [af('alpha', numberAttr(n.attrs, 'alpha', 1)), af('beta', numberAttr(n.attrs, 'beta', 1)), ai('transA', numberAttr(n.attrs, 'transA', 0)), ai('transB', numberAttr(n.attrs, 'transB', 0))])],
  ['conv2d', (w, n, ins, out) => {
    const ws = w.shape(ins[1] as string);
    w.add('Conv', ins, [out], [...window(n), ai('group', numberAttr(n.attrs, 'group', 1)), ais('kernel_shape', ws.slice(2) as number[])], n.name);
  }],
  ['conv_transpose2d', (w, n, ins, out) => {
    const ws = w.shape(ins[1] as string);
    w.add('ConvTranspose', ins, [out], [...window(n), ai('group', numberAttr(n.attrs, 'group', 1)), ais('kernel_shape', ws.slice(2) as number[]), ais('output_padding', intsAttr(n.attrs, 'output_padding', [0, 0]))], n.name);
  }],
  ['reshape', (w, n, [x], out) => w.add('Reshape', [x as string, w.int64(intsAttr(n.attrs, 'shape', []), 'shape')], [out], [], n.name)],
  ['transpose', (w, n, [x], out) => {
    const perm = intsAttr(n.attrs, 'perm', []);
    w.add('Transpose', [x as string], [out], perm.length ? [ais('perm', perm)] : [], n.name);
  }],
  ['reduce_sum', (w, n, [x], out) => {
    const axes = intsAttr(n.attrs, 'axes', []);
    w.add('ReduceSum', axes.length ? [x as string, w.int64(axes, 'axes')] : [x as string], [out], [ai('keepdims', numberAttr(n.attrs, 'keepdims', 1))], n.name);
  }],
  ...(['reduce_mean', 'reduce_max'] as const).map((k): [string, Exporter] => [k, (w, n, [x], out) => {
    const axes = intsAttr(n.attrs, 'axes', []);
    w.add(k === 'reduce_mean' ? 'ReduceMean' : 'ReduceMax', [x as string], [out], [...(axes.length ? [ais('axes', axes)] : []), ai('keepdims', numberAttr(n.attrs, 'keepdims', 1))], n.name);
  }]),
  ['softmax', direct('Softmax', (n) => [ai('axis', numberAttr(n.attrs, 'axis', -1))])],
  ['log_softmax', direct('LogSoftmax', (n) => [ai('axis', numberAttr(n.attrs, 'axis', -1))])],
  ['layer_norm', direct('LayerNormalization', (n) => [ai('axis', numberAttr(n.attrs, 'axis', -1)), af('epsilon', numberAttr(n.attrs, 'epsilon', 1e-5))])],
  ['rms_norm', (w, n, [x, scale], out) => {
    const r = w.rank(x as string);
    const a0 = numberAttr(n.attrs, 'axis', -1);
    const axis = a0 < 0 ? a0 + r : a0;
    const ms = w.op('ReduceMean', [w.op('Mul', [x as string, x as string], 'sq')], 'ms', [ais('axes', Array.from({ length: r - axis }, (_, i) => axis + i)), ai('keepdims', 1)]);
    const rms = w.op('Sqrt', [w.op('Add', [ms, w.float(numberAttr(n.attrs, 'epsilon', 1e-5), 'eps')], 'mse')], 'rms');
    w.add('Mul', [w.op('Div', [x as string, rms], 'xn'), scale as string], [out], [], n.name);
  }],
  ['gather', direct('Gather', (n) => [ai('axis', numberAttr(n.attrs, 'axis', 0))])],
  ['squeeze', (w, n, [x], out) => {
    const axes = intsAttr(n.attrs, 'axes', []);
    w.add('Squeeze', axes.length ? [x as string, w.int64(axes, 'axes')] : [x as string], [out], [], n.name);
  }],
  ['unsqueeze', (w, n, [x], out) => w.add('Unsqueeze', [x as string, w.int64(intsAttr(n.attrs, 'axes', []), 'axes')], [out], [], n.name)],
  ['flatten', direct('Flatten', (n) => [ai('axis', numberAttr(n.attrs, 'axis', 1))])],
  ['cast', direct('Cast', (n) => [ai('to', dtypeCode(stringAttr(n.attrs, 'to', 'f32') as DType, `node '${n.name}'`))])],
  ['max_pool2d', direct('MaxPool', (n) => [...window(n), ais('kernel_shape', intsAttr(n.attrs, 'kernel_shape', [])), ai('ceil_mode', numberAttr(n.attrs, 'ceil_mode', 0))])],
  ['avg_pool2d', direct('AveragePool', (n) => [
    ais('strides', intsAttr(n.attrs, 'strides', [1, 1])), ais('pads', intsAttr(n.attrs, 'pads', [0, 0, 0, 0])),
    ais('kernel_shape', intsAttr(n.attrs, 'kernel_shape', [])), ai('ceil_mode', numberAttr(n.attrs, 'ceil_mode', 0)),
    ai('count_include_pad', numberAttr(n.attrs, 'count_include_pad', 0)),
  ])],
  ['resize', (w, n, [x], out) => {
    const [coord, nearest] = resizeModes(n);
    w.add('Resize', [x as string, '', '', w.int64(intsAttr(n.attrs, 'sizes', []), 'sizes')], [out], [
      as('mode', stringAttr(n.attrs, 'mode', 'nearest')), as('coordinate_transformation_mode', coord), as('nearest_mode', nearest),
    ], n.name);
  }],
  ['depth_to_space', direct('DepthToSpace', (n) => [ai('blocksize', numberAttr(n.attrs, 'blocksize', 1)), as('mode', stringAttr(n.attrs, 'mode', 'DCR'))])],
  ['pad', (w, n, [x], out) => w.add('Pad', [x as string, w.int64(intsAttr(n.attrs, 'pads', []), 'pads'), w.float(numberAttr(n.attrs, 'value', 0), 'value')], [out], [as('mode', stringAttr(n.attrs, 'mode', 'constant'))], n.name)],
  ['concat', direct('Concat', (n) => [ai('axis', numberAttr(n.attrs, 'axis', 0))])],
  ['slice', (w, n, [x], out) => {
    const starts = intsAttr(n.attrs, 'starts', []);
    const axes = intsAttr(n.attrs, 'axes', starts.map((_, i) => i));
    const steps = intsAttr(n.attrs, 'steps', starts.map(() => 1));
    w.add('Slice', [x as string, w.int64(starts, 'starts'), w.int64(intsAttr(n.attrs, 'ends', []), 'ends'), w.int64(axes, 'axes'), w.int64(steps, 'steps')], [out], [], n.name);
  }],
  ['batch_norm', direct('BatchNormalization', (n) => [af('epsilon', numberAttr(n.attrs, 'epsilon', 1e-5))])],
]);

function valueInfo(g: Graph, v: string): ValueInfoProto {
  const t = g.values.get(v);
  if (!t) throw new OnnxExportError(`value '${v}' has no type`);
  return {
    name: v,
    type: { tensorType: { elemType: dtypeCode(t.dtype, `value '${v}'`), shape: { dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export function exportOnnx(g: Graph): Uint8Array {
  const w = new Writer(g);
  for (const n of g.nodes) {
    if (n.op === 'split') {
      const axis = numberAttr(n.attrs, 'axis', 0);
      const sizes = n.outputs.map((o) => {
        const s = g.values.get(o)?.shape ?? [];
        return s[axis < 0 ? axis + s.length : axis];
      });
      if (sizes.some((s) => typeof s !== 'number')) throw new OnnxExportError(`node '${n.name}' (split): output sizes must be concrete to export`);
      w.add('Split', [n.inputs[0] as string, w.int64(sizes as number[], 'split')], n.outputs, [ai('axis', axis)], n.name);
      continue;
    }
    const ex = EXPORTERS.get(n.op);
    if (!ex) throw new OnnxExportError(`node '${n.name}': IR op '${n.op}' has no ONNX export`);
    ex(w, n, n.inputs, n.outputs[0] as string);
  }
  const initializers = [...g.initializers].map(([k, t]) => tensorProto(k, t));
  return encodeModel({
    irVersion: 8, producerName: 'anybit', producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    graph: {
      name: g.name, node: w.nodes, initializer: [...initializers, ...w.inits],
      input: g.inputs.map((v) => valueInfo(g, v)), output: g.outputs.map((v) => valueInfo(g, v)),
    },
  });
}

/** IR ops exportOnnx can write (the export half of the support matrix). */
export function exportableOps(): string[] {
  return [...EXPORTERS.keys(), 'split'];
}
