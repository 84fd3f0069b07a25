// Whole graphs with the transformer/reduction ops through compileGraph + Executor vs the
// interpreter: a tiny attention block (gather embedding, matmul, softmax, matmul, layer_norm,
// views, rms_norm, erf, reduce), random chains of these ops, tuning (every candidate verified),
// and the clear errors for what the GPU path does not support.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile/compile.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { numel } from '../../src/ir/shape.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { TuningDb } from '../../src/tuner/db.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { arbDim, fcParams, inputsFor } from '../prop/arbitraries.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { compiledVsInterpreter } from '../helpers/compiled-vs-interp.ts';

const runBoth = compiledVsInterpreter;

/** Embedding lookup + one attention head + residual + layer_norm, then views, rms_norm, erf, a reduce. */
function attentionBlock(T: number, D: number, V: number): Graph {
  const rand = mulberry32(11);
  const b = new GraphBuilder('attention');
  const w = (name: string, shape: number[]): string => b.initializer(name, tensor('f32', shape, uniformF32(numel(shape), rand)));
  const ids = b.initializer('ids', tensor('i32', [T], Int32Array.from({ length: T }, (_, i) => ((i * 5) % V) - (i % 2 ? V : 0))));
  const x = b.op('add', [b.op('gather', [w('table', [V, D]), ids], { axis: 0 }), b.input('pos', 'f32', [T, D])]);
  const q = b.op('matmul', [x, w('wq', [D, D])]);
  const k = b.op('matmul', [x, w('wk', [D, D])]);
  const v = b.op('matmul', [x, w('wv', [D, D])]);
  const s = b.op('mul', [b.op('matmul', [q, b.op('transpose', [k], { perm: [1, 0] })]), w('scale', [1])]);
  const attn = b.op('matmul', [b.op('softmax', [s], { axis: -1 }), v]);
  const h = b.op('layer_norm', [b.op('cast', [b.op('add', [attn, x])], { to: 'f32' }), w('gamma', [D]), w('beta', [D])], { axis: -1, epsilon: 1e-5 });
  const u = b.op('rms_norm', [b.op('unsqueeze', [h], { axes: [0] }), w('g2', [D])], { axis: -1 });
  const y = b.op('erf', [b.op('identity', [b.op('flatten', [b.op('squeeze', [u], { axes: [0] })], { axis: 1 })])]);
  b.output(y);
  b.output(b.op('reduce_mean', [h], { axes: [0], keepdims: 0 }));
  b.output(b.op('log_softmax', [s], { axis: 0 }));
  return b.build();
}

const stepArb = fc.record({ op: fc.nat({ max: 11 }), p: fc.nat(), q: fc.nat() });

/** A random chain over one input: each step applies one of the new ops with valid random attrs. */
function randomChain(shape: number[], steps: readonly { op: number; p: number; q: number }[]): Graph {
  const rand = mulberry32(steps.length * 7 + shape.length);
  const b = new GraphBuilder('chain');
  let v = b.input('x', 'f32', shape);
  for (const [i, st] of steps.entries()) {
    const s = b.typeOf(v).shape as number[];
    const r = s.length;
    const axis = st.p % r;
    const w = (shp: number[]): string => b.initializer(`w${i}`, tensor('f32', shp, uniformF32(numel(shp), rand)));
    switch (st.op) {
      case 0: v = b.op('softmax', [v], { axis: axis - r }); break;
      case 1: v = b.op('log_softmax', [v], { axis }); break;
      case 2: case 3: case 4: {
        const axes = s.map((_, d) => d).filter((d) => (st.q >> d) & 1);
        const out = b.op(['reduce_sum', 'reduce_mean', 'reduce_max'][st.op - 2] as string, [v], { axes, keepdims: st.p % 2 });
        v = (b.typeOf(out).shape.length ? out : b.op('unsqueeze', [out], { axes: [0] }));
        break;
      }
      case 5: v = b.op('layer_norm', [v, w(s.slice(axis))], { axis, epsilon: 1e-3 }); break;
      case 6: v = b.op('rms_norm', [v, w(s.slice(-1))], { axis: -1 }); break;
      case 7: {
        const len = s[axis] as number;
        const n = 1 + (st.q % 5);
        const ids = b.initializer(`ids${i}`, tensor('i32', [n], Int32Array.from({ length: n }, (_, j) => ((st.q >> j) % (2 * len)) - len)));
        v = b.op('gather', [v, ids], { axis });
        break;
      }
      case 8: v = b.op('unsqueeze', [v], { axes: [st.q % (r + 1)] }); break;
      case 9: v = s.includes(1) ? b.op('squeeze', [v], {}) : b.op('flatten', [v], { axis: st.q % (r + 1) }); break;
      case 10: v = b.op('erf', [v]); break;
      default: v = b.op('identity', [v]);
    }
    if (!b.typeOf(v).shape.length) v = b.op('unsqueeze', [v], { axes: [0] });
  }
  b.output(v);
  return b.build();
}

describe.skipIf(noGpu)('transformer/reduction ops in compiled graphs', () => {
  it('a tiny attention block matches the interpreter on every output', async () => {
    const g = attentionBlock(7, 12, 11);
    const kinds = lowerGraph(g).kernels.map((k) => k.problem.kind);
    expect(kinds).toEqual(expect.arrayContaining(['gather', 'row-norm', 'reduce', 'matmul']));
    expect(await runBoth(g, inputsFor(g, 5))).toEqual([]);
  });

  it('random chains of the new ops match the interpreter', async () => {
    const shapeArb = fc.array(arbDim({ max: 17 }), { minLength: 1, maxLength: 3 });
    await fc.assert(fc.asyncProperty(shapeArb, fc.array(stepArb, { minLength: 1, maxLength: 4 }), async (shape, steps) => {
      const g = randomChain(shape, steps);
      expect(await runBoth(g, inputsFor(g, 3))).toEqual([]);
    }), fcParams(25));
  });

  it('tuning verifies every candidate (gather indices stay constants in the subgraph)', async () => {
    const db = TuningDb.open(path.join(mkdtempSync(path.join(os.tmpdir(), 'anybit-b-')), 'db.json'), (await gpu()).fingerprint);
    const b = new GraphBuilder('tuned');
    const ids = b.initializer('ids', tensor('i32', [4], Int32Array.from([3, -1, 0, 3])));
    const e = b.op('gather', [b.input('x', 'f32', [5, 33]), ids], { axis: 0 });
    const n = b.op('layer_norm', [b.op('softmax', [e], { axis: 0 }), b.initializer('g', tensor('f32', [33], uniformF32(33, mulberry32(1))))], {});
    b.output(b.op('reduce_max', [n], { axes: [1], keepdims: 1 }));
    const g = b.build();
    const { selection } = await compileGraph(g, { ctx: await gpu(), db, tune: { budgetSec: 60, maxCandidates: 3, warmup: 1, repeats: 2 } });
    expect(selection.candidatesRejected).toBe(0);
    expect(selection.tuned).toBe(4);
    expect(selection.candidatesTimed).toBeGreaterThan(4);
    expect(await runBoth(g, inputsFor(g, 2), db)).toEqual([]);
  });

  it('rejects dtype-changing casts with a one-line user error', () => {
    const b = new GraphBuilder('c');
    b.output(b.op('cast', [b.input('x', 'f32', [3])], { to: 'i32' }, { name: 'toint' }));
    expect(() => lowerGraph(b.build())).toThrow(expect.objectContaining({
      name: 'LoweringError', message: "node 'toint' (cast): cast from f32 to i32 is not supported on the GPU yet (only same-type and f16 -> f32 casts)",
    }));
  });
});
