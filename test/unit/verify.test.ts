// The verifier: a valid graph yields [], and each broken invariant is reported by name.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { tensor, type TensorType } from '../../src/ir/tensor.ts';
import { assertValid, verifyGraph } from '../../src/ir/verify.ts';

function valid(): Graph {
  const b = new GraphBuilder('v');
  b.input('x', 'f32', ['batch', 3]);
  b.initializer('w', tensor('f32', [3, 2], new Float32Array(6)));
  const h = b.op('matmul', ['x', 'w'], {}, { name: 'mm' });
  b.output(b.op('relu', [h], {}, { name: 'act', output: 'y' }));
  return b.build();
}

const node = (name: string, op: string, inputs: string[], outputs: string[]): Node => ({ name, op, inputs, outputs, attrs: {} });
const withValue = (g: Graph, name: string, t: TensorType): Map<string, TensorType> => new Map(g.values).set(name, t);

describe('verifyGraph', () => {
  it('accepts a valid graph', () => {
    expect(verifyGraph(valid())).toEqual([]);
    expect(() => assertValid(valid())).not.toThrow();
  });

  it('catches a value defined twice', () => {
    const g = valid();
    const bad: Graph = { ...g, nodes: [...g.nodes, node('again', 'relu', ['mm'], ['mm'])] };
    expect(verifyGraph(bad)).toEqual(["value 'mm' is defined twice (again by node 'again')"]);
  });

  it('catches an initializer that is also a graph input', () => {
    const g = valid();
    expect(verifyGraph({ ...g, inputs: [...g.inputs, 'w'] })).toEqual(["value 'w' is defined twice (again by initializer)"]);
  });

  it('catches a use before definition (nodes out of order)', () => {
    const g = valid();
    const bad: Graph = { ...g, nodes: [...g.nodes].reverse() };
    expect(verifyGraph(bad)).toEqual(["node 'act' (relu) reads 'mm' before it is defined"]);
  });

  it('catches an unknown op', () => {
    const g = valid();
    const bad: Graph = { ...g, nodes: [...g.nodes, node('n', 'frobnicate', ['y'], ['z'])], values: withValue(g, 'z', { dtype: 'f32', shape: [1] }) };
    expect(verifyGraph(bad)).toEqual(["node 'n': unknown op 'frobnicate'"]);
  });

  it('catches a wrong recorded type', () => {
    const g = valid();
    const bad: Graph = { ...g, values: withValue(g, 'y', { dtype: 'f32', shape: ['batch', 3] }) };
    expect(verifyGraph(bad)).toEqual(["node 'act' (relu) output 'y' is typed f32[batch,3] but infers to f32[batch,2]"]);
    const badDtype: Graph = { ...g, values: withValue(g, 'y', { dtype: 'f16', shape: ['batch', 2] }) };
    expect(verifyGraph(badDtype)).toHaveLength(1);
  });

  it('catches an undefined graph output', () => {
    const g = valid();
    expect(verifyGraph({ ...g, outputs: ['y', 'ghost'] })).toEqual(["graph output 'ghost' is never defined"]);
  });

  it('catches an untyped value, an inference error and a mismatched initializer', () => {
    const g = valid();
    const values = new Map(g.values);
    values.delete('mm');
    expect(verifyGraph({ ...g, values })).toContain("value 'mm' (defined by node 'mm') has no type");
    const inits = new Map(g.initializers).set('w', tensor('f32', [2, 3], new Float32Array(6)));
    expect(verifyGraph({ ...g, initializers: inits })).toContain("initializer 'w' data does not match its type f32[3,2]");
    const badW: Graph = { ...g, values: withValue(g, 'w', { dtype: 'f32', shape: [4, 2] }), initializers: new Map([['w', tensor('f32', [4, 2], new Float32Array(8))]]) };
    expect(verifyGraph(badW)).toEqual(["node 'mm' (matmul): matmul inner dimensions differ: A has K=3, B has K=4"]);
  });

  it('reports every problem, not just the first', () => {
    const g = valid();
    const bad: Graph = { ...g, outputs: ['ghost'], nodes: [...g.nodes, node('n', 'frobnicate', [], ['q'])] };
    expect(verifyGraph(bad)).toHaveLength(2);
    expect(() => assertValid(bad, 'test')).toThrow(/invalid after test:\n {2}node 'n': unknown op 'frobnicate'\n {2}graph output 'ghost'/);
  });
});
