// The ONNX support matrix: one Map from ONNX op type (default domain) to its importer. An
// importer reads operands through NodeCtx and emits IR ops; constant-only nodes never reach it
// when fold.ts can evaluate them. Ops missing here, or whose IR op is not in the IR op table,
// are reported together by import.ts. Only 2-D spatial ops (NCHW) are handled.

import type { Attrs } from '../ir/graph.ts';
import { reshapeTarget } from '../ir/ops/layout.ts';
import { isConcrete } from '../ir/shape.ts';
import { constOf, kindOfDataType, scalarOf, type ConstTensor } from './const-tensor.ts';
import type { NodeCtx } from './context.ts';
import { axesOf, flattenShape, normAxis, sliceSpec, squeezeShape, unsqueezeShape } from './params.ts';
import { transposeWindow, window2d } from './spatial.ts';

export type OnnxImporter = (c: NodeCtx) => void;

const UNARY: Record<string, string> = {
  Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', Sqrt: 'sqrt', Exp: 'exp', Abs: 'abs', Neg: 'neg',
  Erf: 'erf', HardSwish: 'hardswish',
};
const BINARY: Record<string, string> = { Add: 'add', Sub: 'sub', Mul: 'mul', Div: 'div', Pow: 'pow' };

/** Reshape to a concrete shape when known, else the IR op `fallback` (squeeze, flatten ...). */
function reshapeOr(c: NodeCtx, shape: () => number[], fallback: string, attrs: Attrs): void {
  if (isConcrete(c.shape(0))) c.setOutput(0, c.emit('reshape', [c.value(0)], { shape: shape() }, 0));
  else c.setOutput(0, c.emit(fallback, [c.value(0)], attrs, 0));
}

function conv(c: NodeCtx): void {
  const w = c.concreteShape(1);
  if (w.length !== 4) c.fail(`only 2-D convolution is supported (weight rank ${w.length})`);
  const win = window2d(c, [w[2] as number, w[3] as number], c.shape(0).slice(2));
  const ins = [c.value(0, 'float'), c.value(1, 'float')];
  if (c.has(2)) ins.push(c.value(2, 'float'));
  c.setOutput(0, c.emit('conv2d', ins, { strides: win.strides, pads: win.pads, dilations: win.dilations, group: c.int('group', 1) }, 0));
}

function convTranspose(c: NodeCtx): void {
  const w = c.concreteShape(1);
  if (w.length !== 4) c.fail(`only 2-D transposed convolution is supported (weight rank ${w.length})`);
  const win = transposeWindow(c, [w[2] as number, w[3] as number], c.shape(0).slice(2));
  const ins = [c.value(0, 'float'), c.value(1, 'float')];
  if (c.has(2)) ins.push(c.value(2, 'float'));
  c.setOutput(0, c.emit('conv_transpose2d', ins, {
    strides: win.strides, pads: win.pads, dilations: win.dilations, group: c.int('group', 1), output_padding: win.outputPadding,
  }, 0));
}

function pool(op: 'max_pool2d' | 'avg_pool2d'): OnnxImporter {
  return (c) => {
    const k = c.ints('kernel_shape') ?? [];
    if (k.length !== 2) c.fail(`only 2-D pooling is supported (kernel_shape [${k.join(',')}])`);
    const win = window2d(c, [k[0] as number, k[1] as number], c.shape(0).slice(2));
    const attrs: Record<string, number | number[]> = { kernel_shape: k, strides: win.strides, pads: win.pads, ceil_mode: c.int('ceil_mode', 0) };
    if (op === 'max_pool2d') attrs.dilations = win.dilations;
    else attrs.count_include_pad = c.int('count_include_pad', 0);
    if (c.outputCount > 1 && c.node.output?.[1]) c.fail('MaxPool indices output is not supported');
    c.setOutput(0, c.emit(op, [c.value(0)], attrs, 0));
  };
}

function batchNorm(c: NodeCtx): void {
  const eps = c.float('epsilon', 1e-5);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => c.constant(i));
  if (!scale || !bias || !mean || !variance) {
    c.setOutput(0, c.emit('batch_norm', [0, 1, 2, 3, 4].map((i) => c.value(i, 'float')), { epsilon: eps }, 0));
    return;
  }
  // Constant statistics fold into one multiply-add, which the elementwise kernels fuse.
  const C = scale.data.length;
  const tail = c.shape(0).slice(2).map(() => 1);
  const s = Array.from(scale.data, (g, i) => g / Math.sqrt((variance.data[i] as number) + eps));
  const t = Array.from(bias.data, (b, i) => b - (mean.data[i] as number) * (s[i] as number));
  const sv = c.constValue(constOf('float', [C, ...tail], s), 'scale');
  const tv = c.constValue(constOf('float', [C, ...tail], t), 'shift');
  c.setOutput(0, c.emit('add', [c.emit('mul', [c.value(0), sv]), tv], {}, 0));
}

function matmul(c: NodeCtx): void {
  const ra = c.rank(0);
  const rb = c.rank(1);
  if (ra >= 2 && rb >= 2) {
    c.setOutput(0, c.emit('matmul', [c.value(0, 'float'), c.value(1, 'float')], {}, 0));
    return;
  }
  // 1-D operands: promote to a matrix, multiply, drop the promoted dim (NumPy rules).
  const sa = c.concreteShape(0);
  const sb = c.concreteShape(1);
  const a = ra === 1 ? c.emit('reshape', [c.value(0, 'float')], { shape: [1, sa[0] as number] }) : c.value(0, 'float');
  const b = rb === 1 ? c.emit('reshape', [c.value(1, 'float')], { shape: [sb[0] as number, 1] }) : c.value(1, 'float');
  const y = c.emit('matmul', [a, b]);
  const ys = c.concreteShapeOf(y);
  const out = ys.filter((_, i) => !((ra === 1 && i === ys.length - 2) || (rb === 1 && i === ys.length - 1)));
  c.setOutput(0, c.emit('reshape', [y], { shape: out }, 0));
}

function clip(c: NodeCtx): void {
  const attrs: Record<string, number> = {};
  if (c.opset < 11) {
    const lo = c.float('min', -Infinity);
    const hi = c.float('max', Infinity);
    if (lo > -3.4e38) attrs.min = lo;
    if (hi < 3.4e38) attrs.max = hi;
  } else {
    if (c.has(1)) attrs.min = scalarOf(c.needConst(1, 'min')) ?? c.fail('min must be a scalar');
    if (c.has(2)) attrs.max = scalarOf(c.needConst(2, 'max')) ?? c.fail('max must be a scalar');
  }
  c.setOutput(0, c.emit('clip', [c.value(0)], attrs, 0));
}

function binary(op: string): OnnxImporter {
  return (c) => {
    const e = c.constant(1);
    const p = e && op === 'pow' ? scalarOf(e) : undefined;
    // x^2 and x^0.5 from LayerNorm decompositions: exact, and cheaper than pow.
    if (p === 2) return c.setOutput(0, c.emit('mul', [c.value(0), c.value(0)], {}, 0));
    if (p === 0.5) return c.setOutput(0, c.emit('sqrt', [c.value(0)], {}, 0));
    if (p === 1) return c.alias(0, 0);
    c.setOutput(0, c.emit(op, [c.value(0, 'float'), c.value(1, 'float')], {}, 0));
  };
}

function reduce(op: string, inputSince: number): OnnxImporter {
  return (c) => {
    const rank = c.rank(0);
    let axes = axesOf(c, 1, inputSince);
    if (!axes || axes.length === 0) {
      if (c.int('noop_with_empty_axes', 0)) return c.alias(0, 0);
      axes = Array.from({ length: rank }, (_, i) => i);
    }
    const norm = axes.map((a) => normAxis(c, a, rank));
    c.setOutput(0, c.emit(op, [c.value(0)], { axes: norm, keepdims: c.int('keepdims', 1) }, 0));
  };
}

function softmax(op: string): OnnxImporter {
  return (c) => {
    const rank = c.rank(0);
    const axis = normAxis(c, c.int('axis', c.opset < 13 ? 1 : -1), rank);
    if (c.opset >= 13 || axis === rank - 1) return c.setOutput(0, c.emit(op, [c.value(0)], { axis }, 0));
    // Before opset 13 the input is coerced to 2-D at `axis`.
    const s = c.concreteShape(0);
    const rows = s.slice(0, axis).reduce((a, b) => a * b, 1);
    const flat = c.emit('reshape', [c.value(0)], { shape: [rows, s.slice(axis).reduce((a, b) => a * b, 1)] });
    c.setOutput(0, c.emit('reshape', [c.emit(op, [flat], { axis: 1 })], { shape: s }, 0));
  };
}

function resize(c: NodeCtx): void {
  const inShape = c.concreteShape(0);
  let sizes: number[];
  const scalesIdx = c.op === 'Upsample' || c.opset < 11 ? 1 : 2;
  const sz = c.opset >= 11 && c.op === 'Resize' && c.has(3) ? c.needConst(3, 'sizes') : undefined;
  if (sz && sz.data.length) sizes = [...sz.data];
  else {
    const sc = c.op === 'Upsample' && c.opset < 9 ? c.floats('scales') ?? [] : [...c.needConst(scalesIdx, 'scales').data];
    if (sc.length !== inShape.length) c.fail(`scales [${sc.join(',')}] do not match the input rank ${inShape.length}`);
    sizes = inShape.map((d, i) => Math.floor(d * (sc[i] as number)));
  }
  if (c.ints('axes')) c.fail('Resize with axes is not supported');
  const old = c.op === 'Upsample' || c.opset < 11;
  c.setOutput(0, c.emit('resize', [c.value(0)], {
    mode: c.str('mode', 'nearest'),
    coordinate_transformation_mode: old ? 'asymmetric' : c.str('coordinate_transformation_mode', 'half_pixel'),
    nearest_mode: old ? 'floor' : c.str('nearest_mode', 'round_prefer_floor'),
    sizes,
  }, 0));
}

function pad(c: NodeCtx): void {
  const mode = c.str('mode', 'constant');
  if (c.opset < 11) {
    c.setOutput(0, c.emit('pad', [c.value(0)], { pads: c.ints('pads') ?? [], mode, value: c.float('value', 0) }, 0));
    return;
  }
  const rank = c.rank(0);
  let pads = [...c.needConst(1, 'pads').data];
  const value = c.has(2) ? (scalarOf(c.needConst(2, 'constant_value')) ?? 0) : 0;
  if (c.has(3)) {
    const axes = [...c.needConst(3, 'axes').data].map((a) => normAxis(c, a, rank));
    const full = new Array<number>(2 * rank).fill(0);
    axes.forEach((a, i) => { full[a] = pads[i] as number; full[a + rank] = pads[i + axes.length] as number; });
    pads = full;
  }
  c.setOutput(0, c.emit('pad', [c.value(0)], { pads, mode, value }, 0));
}

function split(c: NodeCtx): void {
  const s = c.concreteShape(0);
  const axis = normAxis(c, c.int('axis', 0), s.length);
  let sizes = c.opset < 13 ? c.ints('split') : c.has(1) ? [...c.needConst(1, 'split').data] : undefined;
  if (!sizes || sizes.length === 0) {
    const n = c.int('num_outputs', c.outputCount);
    const dim = s[axis] as number;
    const each = Math.ceil(dim / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
  }
  c.emitMulti('split', [c.value(0)], { axis, split: sizes }).forEach((v, k) => c.setOutput(k, v));
}

function slice(c: NodeCtx): void {
  const shape = c.concreteShape(0);
  const spec = sliceSpec(c, shape);
  // A clamped end of -1 (negative step, run to the front) would read as "last" in ONNX terms.
  const ends = spec.ends.map((e, i) => (e === -1 ? -((shape[spec.axes[i] as number] as number) + 1) : e));
  c.setOutput(0, c.emit('slice', [c.value(0)], { starts: spec.starts, ends, axes: spec.axes, steps: spec.steps }, 0));
}

function gather(c: NodeCtx): void {
  const axis = normAxis(c, c.int('axis', 0), c.rank(0));
  const idx = c.constant(1);
  let iv: string;
  if (idx) {
    const dim = c.concreteShape(0)[axis] as number;
    iv = c.constValue(constOf('int', idx.shape, Array.from(idx.data, (v) => (v < 0 ? v + dim : v))), 'indices');
  } else iv = c.value(1);
  c.setOutput(0, c.emit('gather', [c.value(0), iv], { axis }, 0));
}

function cast(c: NodeCtx): void {
  const to = kindOfDataType(c.int('to', 1));
  const from = c.entry(0);
  const fromFloat = from.kind === 'value' && (c.dtypeOf(0) === 'f32' || c.dtypeOf(0) === 'f16');
  if (to === 'float' && fromFloat) return c.alias(0, 0);
  const ir = to === 'float' ? 'f32' : to === 'int' ? 'i32' : to === 'bool' ? 'bool' : c.fail(`cannot cast to ONNX data type ${c.int('to', 1)}`);
  c.setOutput(0, c.emit('cast', [c.value(0)], { to: ir }, 0));
}

function shapeOp(c: NodeCtx): void {
  const s = c.concreteShape(0);
  const start = c.int('start', 0);
  const end = c.int('end', s.length);
  const part = s.slice(start < 0 ? start + s.length : start, end < 0 ? end + s.length : end);
  c.setOutput(0, constOf('int', [part.length], part));
}

function constant(c: NodeCtx): void {
  const a = c.node.attribute?.[0];
  if (!a) return c.fail('Constant has no value');
  let v: ConstTensor;
  if (a.name === 'value') v = c.tensorAttr(a);
  else if (a.name === 'value_float') v = constOf('float', [], [a.f ?? 0]);
  else if (a.name === 'value_floats') v = constOf('float', [a.floats?.length ?? 0], a.floats ?? []);
  else if (a.name === 'value_int') v = constOf('int', [], [c.int('value_int', 0)]);
  else if (a.name === 'value_ints') { const xs = c.ints('value_ints') ?? []; v = constOf('int', [xs.length], xs); }
  else return c.fail(`Constant attribute '${a.name}' is not supported`);
  c.setOutput(0, v);
}

function constantOfShape(c: NodeCtx): void {
  const shape = [...c.needConst(0, 'shape').data];
  if (shape.some((d) => d < 0)) c.fail(`shape [${shape.join(',')}] has a negative dim`);
  const a = c.node.attribute?.find((x) => x.name === 'value');
  const v = a ? c.tensorAttr(a) : constOf('float', [1], [0]);
  const n = shape.reduce((p, d) => p * d, 1);
  c.setOutput(0, constOf(v.kind, shape, new Float64Array(n).fill(v.data[0] ?? 0)));
}

/** PRelu and Elu through relu: min(x, 0) = x - relu(x), so no select op is needed. */
function prelu(c: NodeCtx): void {
  const x = c.value(0);
  const r = c.emit('relu', [x]);
  c.setOutput(0, c.emit('add', [r, c.emit('mul', [c.emit('sub', [x, r]), c.value(1, 'float')])], {}, 0));
}

function elu(c: NodeCtx): void {
  const x = c.value(0);
  const r = c.emit('relu', [x]);
  const em1 = c.emit('sub', [c.emit('exp', [c.emit('sub', [x, r])]), c.constValue(constOf('float', [], [1]), 'one')]);
  c.setOutput(0, c.emit('add', [r, c.emit('mul', [em1, c.constValue(constOf('float', [], [c.float('alpha', 1)]), 'alpha')])], {}, 0));
}

/** InstanceNormalization = layer_norm over the spatial dims, then per-channel scale and bias. */
function instanceNorm(c: NodeCtx): void {
  const s = c.concreteShape(0);
  const spatial = s.slice(2);
  const ones = c.constValue(constOf('float', spatial, new Float64Array(spatial.reduce((a, b) => a * b, 1)).fill(1)), 'ones');
  const ln = c.emit('layer_norm', [c.value(0), ones], { axis: 2, epsilon: c.float('epsilon', 1e-5) });
  const perChannel = (i: number): string => c.emit('reshape', [c.value(i, 'float')], { shape: [s[1] as number, ...spatial.map(() => 1)] });
  c.setOutput(0, c.emit('add', [c.emit('mul', [ln, perChannel(1)]), perChannel(2)], {}, 0));
}

export const ONNX_OPS: ReadonlyMap<string, OnnxImporter> = new Map<string, OnnxImporter>([
  ...Object.entries(UNARY).map(([k, op]): [string, OnnxImporter] => [k, (c) => c.setOutput(0, c.emit(op, [c.value(0)], {}, 0))]),
  ...Object.entries(BINARY).map(([k, op]): [string, OnnxImporter] => [k, binary(op)]),
  ['LeakyRelu', (c) => c.setOutput(0, c.emit('leaky_relu', [c.value(0)], { alpha: c.float('alpha', 0.01) }, 0))],
  ['HardSigmoid', (c) => c.setOutput(0, c.emit('hardsigmoid', [c.value(0)], { alpha: c.float('alpha', 0.2), beta: c.float('beta', 0.5) }, 0))],
  ['Gelu', (c) => c.setOutput(0, c.emit('gelu', [c.value(0)], { approximate: c.str('approximate', 'none') }, 0))],
  ['Clip', clip],
  ['PRelu', prelu],
  ['Elu', elu],
  ['Reciprocal', (c) => c.setOutput(0, c.emit('div', [c.constValue(constOf('float', [], [1]), 'one'), c.value(0)], {}, 0))],
  ['InstanceNormalization', instanceNorm],
  ['Sum', (c) => {
    let acc = c.value(0, 'float');
    for (let i = 1; i < c.inputCount; i++) acc = c.emit('add', [acc, c.value(i, 'float')], {}, i === c.inputCount - 1 ? 0 : undefined);
    c.setOutput(0, acc);
  }],
  ['MatMul', matmul],
  ['Gemm', (c) => {
    const ins = [c.value(0, 'float'), c.value(1, 'float')];
    if (c.has(2)) ins.push(c.value(2, 'float'));
    c.setOutput(0, c.emit('gemm', ins, { alpha: c.float('alpha', 1), beta: c.float('beta', 1), transA: c.int('transA', 0), transB: c.int('transB', 0) }, 0));
  }],
  ['Conv', conv],
  ['ConvTranspose', convTranspose],
  ['MaxPool', pool('max_pool2d')],
  ['AveragePool', pool('avg_pool2d')],
  ['GlobalAveragePool', (c) => c.setOutput(0, c.emit('global_avg_pool', [c.value(0)], {}, 0))],
  ['GlobalMaxPool', (c) => c.setOutput(0, c.emit('reduce_max', [c.value(0)], { axes: [2, 3], keepdims: 1 }, 0))],
  ['BatchNormalization', batchNorm],
  ['LayerNormalization', (c) => {
    const ins = [c.value(0), c.value(1, 'float')];
    if (c.has(2)) ins.push(c.value(2, 'float'));
    c.setOutput(0, c.emit('layer_norm', ins, { axis: normAxis(c, c.int('axis', -1), c.rank(0)), epsilon: c.float('epsilon', 1e-5) }, 0));
  }],
  ['Softmax', softmax('softmax')],
  ['LogSoftmax', softmax('log_softmax')],
  ['ReduceMean', reduce('reduce_mean', 18)],
  ['ReduceSum', reduce('reduce_sum', 13)],
  ['ReduceMax', reduce('reduce_max', 18)],
  ['Resize', resize],
  ['Upsample', resize],
  ['DepthToSpace', (c) => c.setOutput(0, c.emit('depth_to_space', [c.value(0)], { blocksize: c.int('blocksize', 1), mode: c.str('mode', 'DCR') }, 0))],
  ['Pad', pad],
  ['Concat', (c) => {
    const ins = Array.from({ length: c.inputCount }, (_, i) => i).filter((i) => c.has(i));
    c.setOutput(0, c.emit('concat', ins.map((i) => c.value(i)), { axis: normAxis(c, c.int('axis', 0), c.rank(0)) }, 0));
  }],
  ['Split', split],
  ['Slice', slice],
  ['Gather', gather],
  ['Transpose', (c) => {
    const rank = c.rank(0);
    c.setOutput(0, c.emit('transpose', [c.value(0)], { perm: c.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i) }, 0));
  }],
  ['Reshape', (c) => {
    const spec = c.opset < 5 ? (c.ints('shape') ?? []) : [...c.needConst(1, 'shape').data];
    if (c.int('allowzero', 0) && spec.includes(0)) c.fail('Reshape with allowzero=1 and a 0 in the shape is not supported');
    const target = reshapeTarget(c.shape(0), spec);
    if (typeof target === 'string') return c.fail(target);
    c.setOutput(0, c.emit('reshape', [c.value(0)], { shape: isConcrete(target) ? [...target] : spec }, 0));
  }],
  ['Flatten', (c) => reshapeOr(c, () => flattenShape(c, c.concreteShape(0)), 'flatten', { axis: c.int('axis', 1) })],
  ['Squeeze', (c) => {
    const axes = axesOf(c, 1, 13);
    reshapeOr(c, () => squeezeShape(c, c.concreteShape(0), axes), 'squeeze', axes ? { axes: axes.map((a) => normAxis(c, a, c.rank(0))) } : {});
  }],
  ['Unsqueeze', (c) => {
    const axes = axesOf(c, 1, 13) ?? c.fail('Unsqueeze needs axes');
    reshapeOr(c, () => unsqueezeShape(c, c.concreteShape(0), axes), 'unsqueeze', { axes: axes.map((a) => normAxis(c, a, c.rank(0) + axes.length)) });
  }],
  ['Identity', (c) => c.alias(0, 0)],
  ['Dropout', (c) => c.alias(0, 0)],
  ['Cast', cast],
  ['Shape', shapeOp],
  ['Size', (c) => c.setOutput(0, constOf('int', [], [c.concreteShape(0).reduce((a, b) => a * b, 1)]))],
  ['Constant', constant],
  ['ConstantOfShape', constantOfShape],
]);

