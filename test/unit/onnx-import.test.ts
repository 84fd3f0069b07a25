// ONNX import vs onnxruntime-node (CPU): small models built with onnx-proto run through our
// float64 interpreter must match within 1e-5 absolute; unsupported ops are all reported in one
// error; folding, external data and opts.inputShapes behave as documented.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { importOnnx, OnnxImportError } from '../../src/onnx/import.ts';
import { exitCodeFor, EXIT } from '../../src/cli/errors.ts';
import { buildModel, floatTensor, int64Tensor, maxDiff, runOrt } from '../helpers/onnx-build.ts';
import { onnxCases } from '../helpers/onnx-cases.ts';

function shapesOf(inputs: Record<string, { shape: number[] }>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.shape]));
}

describe('ONNX import matches onnxruntime-node through the interpreter', () => {
  for (const c of onnxCases()) {
    it(c.name, async () => {
      const g = importOnnx(c.model, { inputShapes: shapesOf(c.inputs) });
      const ref = await runOrt(c.model, c.inputs);
      const ours = interpret(g, Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, ndarray(v.shape, v.data)])));
      expect(ref.size).toBe(g.outputs.length);
      [...ref].forEach(([name, want], i) => {
        const got = ours.get(g.outputs[i] as string);
        expect(got?.shape, name).toEqual(want.shape);
        expect(maxDiff(got?.data ?? [], want.data).maxAbs, name).toBeLessThanOrEqual(1e-5);
      });
    });
  }

  it('folds the Shape subgraph away (no shape ops reach the IR)', () => {
    const c = onnxCases()[4];
    const g = importOnnx(c?.model as Uint8Array, { inputShapes: { x: [3, 6, 7] } });
    expect(g.nodes.map((n) => n.op)).toEqual(['reshape', 'transpose']);
    expect(g.values.get(g.outputs[0] as string)?.shape).toEqual([42, 3]);
  });

  it('keeps dynamic dims symbolic when no shapes are given, and says what to bind for Shape', () => {
    const mm = onnxCases()[3];
    const g = importOnnx(mm?.model as Uint8Array);
    expect(g.values.get('x')?.shape).toEqual(['batch', 5, 13]);
    expect(() => importOnnx(onnxCases()[4]?.model as Uint8Array)).toThrow(/node 'shape_0' \(Shape\): needs the shape of 'x', which has dynamic dims \[n,6,7\]/);
  });

  it('reports every unsupported op in one error, grouped by op with node names', () => {
    const model = buildModel({
      inputs: [{ name: 'x', shape: [2, 3] }], outputs: ['y'],
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'Celu', inputs: ['a'], outputs: ['b'], name: 'celu_a' },
        { op: 'Celu', inputs: ['b'], outputs: ['c'], name: 'celu_b' },
        { op: 'Hardmax', inputs: ['c'], outputs: ['d'], name: 'hm' },
        { op: 'FusedThing', inputs: ['d'], outputs: ['y'], name: 'ft', domain: 'com.example' },
      ],
      opset: 14,
    });
    let err: unknown;
    try {
      importOnnx(model);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxImportError);
    const msg = (err as Error).message;
    expect(msg).toBe("unsupported ONNX ops (3): Celu (ai.onnx, opset 14) at nodes 'celu_a', 'celu_b'; Hardmax (ai.onnx, opset 14) at node 'hm'; FusedThing (com.example, opset 1) at node 'ft'");
    expect(msg).not.toContain('\n');
    expect(exitCodeFor(err)).toBe(EXIT.userError);
  });

  it('says which operand must be constant (Reshape shape computed at run time)', () => {
    const model = buildModel({
      inputs: [{ name: 'x', shape: [2, 3] }, { name: 's', shape: [2], elemType: 7 }], outputs: ['y'],
      nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'], name: 'r' }],
    });
    expect(() => importOnnx(model)).toThrow("node 'r' (Reshape): input 1 (shape) must be a constant after folding, but 's' is computed at run time");
  });

  it('reads external data relative to the model file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'anybit-onnx-'));
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const pad = new Uint8Array(8);
    writeFileSync(path.join(dir, 'w.bin'), Buffer.concat([pad, new Uint8Array(w.buffer)]));
    const model = buildModel({
      inputs: [{ name: 'x', shape: [1, 2] }], outputs: ['y'],
      inits: { w: { dims: [2, 3], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '8' }, { key: 'length', value: '24' }] } },
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const file = path.join(dir, 'm.onnx');
    writeFileSync(file, model);
    const g = importOnnx(model, { file });
    expect(Array.from(g.initializers.get('w')?.data ?? [])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => importOnnx(model)).toThrow(/keeps its data in 'w.bin'/);
    const x = Float32Array.from([0.5, -1]);
    const ref = await runOrt(model, { x: { shape: [1, 2], data: x } }).catch(() => null);
    if (ref) expect(maxDiff(interpret(g, { x: ndarray([1, 2], x) }).get('y')?.data ?? [], [...ref.values()][0]?.data ?? []).maxAbs).toBeLessThanOrEqual(1e-6);
  });

  it('folds int64 shape arithmetic: Range, ConstantOfShape, Cast, Equal/Where, Div', () => {
    const model = buildModel({
      inputs: [{ name: 'x', shape: [2, 12] }], outputs: ['y'],
      inits: { two: int64Tensor('two', [], [2]), zero: int64Tensor('zero', [], [0]), one: int64Tensor('one', [], [1]), m1: int64Tensor('m1', [1], [-1]) },
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Div', inputs: ['s', 'two'], outputs: ['h'] },
        { op: 'Equal', inputs: ['h', 'one'], outputs: ['is1'] },
        { op: 'Where', inputs: ['is1', 'm1', 'h'], outputs: ['shape'] },
        { op: 'Range', inputs: ['zero', 'two', 'one'], outputs: ['r'] },
        { op: 'Cast', inputs: ['r'], outputs: ['rf'], attrs: { to: 1 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['xr'] },
        { op: 'Shape', inputs: ['xr'], outputs: ['s2'] },
        { op: 'ConstantOfShape', inputs: ['s2'], outputs: ['ones'], attrs: { value: { tensor: floatTensor('v', [1], [1.5]) } } },
        { op: 'Mul', inputs: ['xr', 'ones'], outputs: ['y'] },
      ],
      opset: 13,
    });
    const g = importOnnx(model);
    expect(g.nodes.map((n) => n.op)).toEqual(['reshape', 'mul']);
    expect(g.values.get('y')?.shape).toEqual([4, 6]);
  });
});
