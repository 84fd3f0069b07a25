// DSL elaboration: parameters and --set, loops and hierarchical block names, dim arithmetic,
// scalar constants, annotations, imports, output names, checkpoint binding, and the RLFN
// example against both real checkpoints (names, shapes, parameter counts).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileAbit, formatCompiled } from '../../dsl/program.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { numel } from '../../src/ir/shape.ts';
import { ndarray, tensor, type Tensor } from '../../src/ir/tensor.ts';
import { loadCheckpoint } from '../../src/weights/index.ts';

function ok(src: string, opts: Parameters<typeof compileAbit>[2] = {}): NonNullable<ReturnType<typeof compileAbit>['graph']> & { annotations: ReturnType<typeof compileAbit>['annotations'] } {
  const r = compileAbit('t.abit', src, opts);
  if (!r.graph) throw new Error(formatCompiled(r));
  return Object.assign(r.graph, { annotations: r.annotations });
}

const RLFN = readFileSync('examples/rlfn.abit', 'utf8');
const params = (g: { initializers: ReadonlyMap<string, Tensor> }, pred = (k: string): boolean => !k.includes('const_')): number =>
  [...g.initializers].filter(([k]) => pred(k)).reduce((s, [, t]) => s + numel(t.shape), 0);

describe('DSL elaboration', () => {
  it('evaluates scalar constants and tensor arithmetic', () => {
    const g = ok('model m(x: f32[1, 4]) -> (y) {\n  let y = relu(x * 2.0 - 1)\n}\n');
    const y = interpret(g, { x: ndarray([1, 4], [0, 0.25, 0.75, 2]) }).get('y');
    expect([...(y?.data ?? [])]).toEqual([0, 0, 0.5, 3]);
  });

  it('names params hierarchically through repeat and nested blocks, honouring --set', () => {
    const src = `block lin(n)(x) {\n  param weight: [n, n]\n  return matmul(x, weight)\n}\nblock pair(n)(x) {\n  let a = lin(x, n=n)\n  return lin(a, n=n) as b.0\n}\nmodel m(n = 2, depth = 3)(x: f32[1, n]) -> (y) {\n  let y = x\n  repeat i in 0..depth {\n    y = pair(y, n=n) as layer_{i * 10}\n  }\n}\n`;
    const g = ok(src, { set: { depth: 2, n: 3 } });
    expect([...g.initializers.keys()]).toEqual(['layer_0.a.weight', 'layer_0.b.0.weight', 'layer_10.a.weight', 'layer_10.b.0.weight']);
    expect(g.initializers.get('layer_10.a.weight')?.shape).toEqual([3, 3]);
    expect(g.outputs).toEqual(['y']);
  });

  it('computes dims from bound input shapes, with / (exact), // and dim()/shape()', () => {
    const src = 'model m(x: f32[N, C, H, W]) -> (y) {\n  param w: [C * 2, C, 1, 1]\n  let y = resize(conv2d(x, w), mode="linear", sizes=[dim(x, 0), C * 2, H / 2 + (W //3), shape(x)[0] * 0 + 5])\n}\n';
    // shape(x)[0] is not valid syntax: indexing is not part of the language.
    expect(compileAbit('t.abit', src, { inputShapes: { x: [1, 2, 8, 9] } }).diagnostics.length).toBeGreaterThan(0);
    const g = ok(src.replace('shape(x)[0] * 0 + 5', 'dim(x, -1) - 4'), { inputShapes: { x: [1, 2, 8, 9] } });
    expect(g.values.get('y')?.shape).toEqual([1, 4, 7, 5]);
  });

  it('records annotations for every node created under them', () => {
    const src = '@keep(f32)\nblock act(x) {\n  return sigmoid(relu(x))\n}\nmodel m(x: f32[1, 4]) -> (y) {\n  @quant(bits=4, group=128)\n  let h = tanh(x)\n  let y = act(h)\n}\n';
    const g = ok(src);
    const a = Object.fromEntries([...g.annotations].map(([k, v]) => [k, v.map((r) => `${r.name}${JSON.stringify(r.args)}`)]));
    expect(a).toEqual({ h: ['quant{"bits":4,"group":128}'], 'y.relu': ['keep{"dtype":"f32"}'], 'y.sigmoid': ['keep{"dtype":"f32"}'] });
  });

  it('resolves imports relative to the importing file and rejects cycles', () => {
    const files: Record<string, string> = {
      'lib/act.abit': 'import "more.abit"\nblock act(x) {\n  return twice(relu(x))\n}\n',
      'lib/more.abit': 'block twice(x) {\n  return x + x\n}\n',
    };
    const read = (f: string): string => { const t = files[f]; if (t === undefined) throw new Error(`missing ${f}`); return t; };
    const r = compileAbit('main.abit', 'import "lib/act.abit"\nmodel m(x: f32[2]) -> (y) {\n  let y = act(x)\n}\n', { read });
    expect(r.diagnostics).toEqual([]);
    expect(interpret(r.graph as never, { x: ndarray([2], [-1, 2]) }).get('y')?.data).toEqual(new Float64Array([0, 4]));
    files['lib/more.abit'] = 'import "act.abit"\nblock twice(x) {\n  return x\n}\n';
    const c = compileAbit('main.abit', 'import "lib/act.abit"\nmodel m(x: f32[2]) -> (x) {\n}\n', { read });
    expect(c.diagnostics.map((d) => d.message)).toEqual(['import cycle: main.abit -> act.abit -> more.abit -> act.abit']);
  });

  it('gives outputs their declared names even after reassignment', () => {
    const g = ok('model m(x: f32[3]) -> (y, z) {\n  let y = relu(x)\n  let z = y\n  y = sigmoid(y)\n}\n');
    expect(g.outputs).toEqual(['y', 'z']);
    expect(g.nodes.map((n) => `${n.op}:${n.inputs.join()}->${n.outputs.join()}`)).toEqual(['relu:x->z', 'sigmoid:z->y']);
  });

  it('binds checkpoint tensors and reports missing, unexpected and mis-shaped ones together', () => {
    const src = 'model m(x: f32[1, 2]) -> (y) {\n  param a: [2, 2]\n  param b: [2, 3]\n  param c: [2]\n  let y = matmul(x, a) + c\n}\n';
    const t = (shape: number[], v: number[]): Tensor => tensor('f32', shape, new Float32Array(v));
    const good = ok(src.replace('  param b: [2, 3]\n', ''), { weights: new Map([['a', t([2, 2], [1, 2, 3, 4])], ['c', t([2], [10, 20])]]) });
    expect(interpret(good, { x: ndarray([1, 2], [1, 1]) }).get('y')?.data).toEqual(new Float64Array([14, 26]));
    const r = compileAbit('t.abit', src, { weights: new Map([['a', t([2, 2], [1, 2, 3, 4])], ['c', t([3], [0, 0, 0])], ['d', t([1], [0])]]) });
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "weight 'b' [2, 3] is declared by the model but missing from the checkpoint",
      "weight 'c': the model declares [2], the checkpoint has [3]",
      'the checkpoint has 1 tensor(s) the model does not declare: d',
    ]);
  });

  it('builds RLFN x4 whose params are exactly the checkpoint\'s 114 tensors', () => {
    const ckpt = loadCheckpoint('../shared/data/rlfn/rlfn_x4.pth');
    const r = compileAbit('examples/rlfn.abit', RLFN, { weights: ckpt, inputShapes: { x: [1, 3, 24, 24] } });
    expect(formatCompiled(r)).toBe('');
    const g = r.graph as NonNullable<typeof r.graph>;
    expect(params(g)).toBe(543_740);
    expect([...g.initializers.keys()].filter((k) => !k.includes('const_')).sort()).toEqual([...ckpt.keys()].sort());
    expect(g.values.get('y')?.shape).toEqual([1, 3, 96, 96]);
    expect(g.nodes.every((n) => n.loc?.file === 'examples/rlfn.abit')).toBe(true);
  });

  it('builds the NTIRE variant from --set values and its checkpoint unchanged', () => {
    const ckpt = loadCheckpoint('../shared/data/rlfn/rlfn_ntire_x4.pth');
    const set = { feature_channels: 46, mid_channels: 48, blocks: 4 };
    const r = compileAbit('examples/rlfn.abit', RLFN, { weights: ckpt, set, inputShapes: { x: [1, 3, 16, 16] } });
    expect(formatCompiled(r)).toBe('');
    expect(params(r.graph as never)).toBe(317_218);
    const wrong = compileAbit('examples/rlfn.abit', RLFN, { weights: ckpt, set: { blocks: 4 }, inputShapes: { x: [1, 3, 16, 16] } });
    expect(wrong.graph).toBeNull();
    expect(wrong.diagnostics[0]?.message).toBe("weight 'conv_1.weight': the model declares [52, 3, 3, 3], the checkpoint has [46, 3, 3, 3]");
  });
});
