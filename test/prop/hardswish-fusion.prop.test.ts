// HardSwish fusion equivalence: random graphs with the exported HardSwish chain appended in
// both spellings (div(mul(x, clip(x+3,0,6)), 6) and mul(x, div(clip, 6))) give the same outputs
// after the pass, every planted chain is fused, and chains with a shared intermediate are not.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import type { Graph, Node } from '../../src/ir/graph.ts';
import { tensor, type TensorType } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { passContext } from '../../src/passes/pass.ts';
import { hardswishFusion } from '../../src/passes/simplify/hardswish-fusion.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { arbGraph, fcParams } from './arbitraries.ts';

/** Appends 5 * v -> HardSwish chain (spelling `form`) as a new graph output. */
function plant(g: Graph, v: string, form: 0 | 1, tag: string, alsoOutput = false): Graph {
  const t = g.values.get(v) as TensorType;
  const values = new Map(g.values);
  const inits = new Map(g.initializers);
  const k = (name: string, val: number): string => {
    inits.set(`${tag}_${name}`, tensor('f32', [], Float32Array.of(val)));
    values.set(`${tag}_${name}`, { dtype: 'f32', shape: [] });
    return `${tag}_${name}`;
  };
  const nodes: Node[] = [...g.nodes];
  const op = (name: string, o: string, inputs: string[], attrs: Node['attrs'] = {}): string => {
    const out = `${tag}_${name}`;
    nodes.push({ name: out, op: o, inputs, outputs: [out], attrs });
    values.set(out, t);
    return out;
  };
  const x = op('x', 'mul', [v, k('five', 5)]);
  const c = op('clip', 'clip', [op('add', 'add', [k('three', 3), x])], { min: 0, max: 6 });
  const y = form === 0 ? op('y', 'div', [op('m', 'mul', [c, x]), k('six', 6)]) : op('y', 'mul', [x, op('d', 'div', [c, k('six', 6)])]);
  return { ...g, nodes, values, initializers: inits, outputs: [...g.outputs, y, ...(alsoOutput ? [c] : [])] };
}

describe('hardswish fusion', () => {
  it('fuses planted chains and keeps every output (to float rounding)', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 5 }), fc.nat(), fc.boolean(), ({ graph, inputs }, pick, second) => {
      const v = graph.outputs[pick % graph.outputs.length] as string;
      let g = plant(graph, v, 0, 'hs0');
      if (second) g = plant(g, v, 1, 'hs1');
      const r = hardswishFusion.run(g, passContext(true));
      expect(verifyGraph(r.graph)).toEqual([]);
      expect(r.stats?.fused).toBe(second ? 2 : 1);
      const want = interpret(g, inputs);
      const got = interpret(r.graph, inputs);
      for (const o of g.outputs) expect(compareOutputs(got.get(o)?.data ?? [], want.get(o)?.data ?? [], 1e-6), o).toBeNull();
      expect(hardswishFusion.run(r.graph, passContext(true)).changed).toBe(false);
    }), fcParams(100));
  });

  it('leaves a chain alone when an intermediate is also a graph output', () => {
    fc.assert(fc.property(arbGraph({ maxNodes: 3 }), ({ graph }) => {
      const g = plant(graph, graph.outputs[0] as string, 1, 'hs', true);
      expect(hardswishFusion.run(g, passContext(true)).changed).toBe(false);
    }), fcParams(20));
  });
});
