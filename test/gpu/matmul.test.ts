// matmul-tiled, matmul-lanes and the gemvs vs the interpreter: random M, N, K (awkward and tile-edge sizes), batch
// broadcasting, transA/transB, alpha, bias shapes with beta, epilogues, and random valid knobs.
// The reference graph is transpose? -> matmul -> mul(alpha) -> add(beta * C) -> epilogue.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GEMV_MAX_ROWS, gemvTemplate } from '../../codegen/kernels/gemv.ts';
import { GEMV_VEC4_MAX_ROWS, gemvVec4Template } from '../../codegen/kernels/gemv-vec4.ts';
import { matmulTemplate } from '../../codegen/kernels/matmul.ts';
import { matmulLanesTemplate } from '../../codegen/kernels/matmul-lanes.ts';
import type { AnyKernelTemplate } from '../../codegen/kernel.ts';
import type { Epilogue, MatmulProblem } from '../../codegen/problems.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { broadcastShapes, broadcastStrides, numel } from '../../src/ir/shape.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { awkwardSize, epilogueArb, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();

interface Case {
  aBatch: number[];
  bBatch: number[];
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  biasShape: number[] | null;
  epilogue: Epilogue;
  knobIndex: number;
  dataSeed: number;
}

const BIAS_SHAPES = (M: number, N: number): number[][] => [[M, N], [1, N], [N], [M, 1], [1, 1], [1]];

const caseArb = (maxM: number, maxK: number): fc.Arbitrary<Case> => fc.record({
  batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  aMask: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  bMask: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  aDrop: fc.nat(2), bDrop: fc.nat(2),
  M: awkwardSize(maxM), N: awkwardSize(70), K: awkwardSize(maxK),
  transA: fc.boolean(), transB: fc.boolean(),
  alpha: fc.constantFrom(1, 0.5, -2), beta: fc.constantFrom(1, 0.25, -1),
  bias: fc.option(fc.nat(5), { nil: null }),
  epilogue: epilogueArb, knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((r) => {
  // Each operand's batch dims: some broadcast (1), some leading ones dropped.
  const own = (mask: boolean[], drop: number): number[] => r.batch.map((d, i) => (mask[i] ? 1 : d)).slice(Math.min(drop, r.batch.length));
  return {
    aBatch: own(r.aMask, r.aDrop), bBatch: own(r.bMask, r.bDrop), M: r.M, N: r.N, K: r.K,
    transA: r.transA, transB: r.transB, alpha: r.alpha, beta: r.beta,
    biasShape: r.bias === null ? null : (BIAS_SHAPES(r.M, r.N)[r.bias] as number[]),
    epilogue: r.epilogue, knobIndex: r.knobIndex, dataSeed: r.dataSeed,
  };
});

function problemOf(c: Case): MatmulProblem {
  const batch = broadcastShapes(c.aBatch, c.bBatch) as number[];
  let bias: MatmulProblem['bias'] = null;
  if (c.biasShape) {
    const s = broadcastStrides(c.biasShape, [c.M, c.N]);
    bias = { strideM: s[0] as number, strideN: s[1] as number };
  }
  return {
    kind: 'matmul', batchShape: batch,
    aBatchStrides: broadcastStrides(c.aBatch, batch).map((s) => s * c.M * c.K),
    bBatchStrides: broadcastStrides(c.bBatch, batch).map((s) => s * c.K * c.N),
    M: c.M, N: c.N, K: c.K, transA: c.transA, transB: c.transB, alpha: c.alpha, beta: c.beta, bias, epilogue: c.epilogue,
  };
}

function reference(c: Case, a: Float32Array, b: Float32Array, bias: Float32Array | null): Float64Array {
  const g = new GraphBuilder('mm');
  const swap = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const aShape = [...c.aBatch, ...(c.transA ? [c.K, c.M] : [c.M, c.K])];
  const bShape = [...c.bBatch, ...(c.transB ? [c.N, c.K] : [c.K, c.N])];
  let av = g.input('A', 'f32', aShape);
  let bv = g.input('B', 'f32', bShape);
  if (c.transA) av = g.op('transpose', [av], { perm: swap(aShape.length) });
  if (c.transB) bv = g.op('transpose', [bv], { perm: swap(bShape.length) });
  let y = g.op('matmul', [av, bv]);
  y = g.op('mul', [y, g.initializer('alpha', tensor('f32', [1], new Float32Array([c.alpha])))]);
  const inputs: Record<string, ReturnType<typeof ndarray>> = { A: ndarray(aShape, a), B: ndarray(bShape, b) };
  if (c.biasShape && bias) {
    const cv = g.input('C', 'f32', c.biasShape);
    inputs.C = ndarray(c.biasShape, bias);
    y = g.op('add', [y, g.op('mul', [cv, g.initializer('beta', tensor('f32', [1], new Float32Array([c.beta])))])]);
  }
  for (const e of c.epilogue) y = g.op(e.op, [y], e.attrs);
  g.output(y);
  return (interpret(g.build(), inputs).get(y) as ReturnType<typeof ndarray>).data;
}

/** The vec4 GEMV's cases, moved to the shapes it serves. */
function vec4Case(c: Case): Case {
  // B[k, n] needs N % 4 == 0, B[n, k] needs K % 4 == 0; K % 4 == 0 also switches A to vec4 loads.
  const up = (x: number): number => 4 * Math.ceil(x / 4);
  const N = c.transB ? c.N : up(c.N);
  const K = c.transB || c.dataSeed % 2 ? up(c.K) : c.K;
  const i = BIAS_SHAPES(c.M, c.N).findIndex((s) => c.biasShape !== null && s.join() === c.biasShape.join());
  return { ...c, N, K, biasShape: c.biasShape && (BIAS_SHAPES(c.M, N)[i] as number[]) };
}
const asIs = (c: Case): Case => c;

for (const [template, maxM, maxK, runs, fit] of [[matmulTemplate, 70, 70, 30, asIs], [matmulLanesTemplate, 70, 70, 16, asIs], [gemvTemplate, GEMV_MAX_ROWS, 300, 10, asIs], [gemvVec4Template, GEMV_VEC4_MAX_ROWS, 300, 16, vec4Case]] as [AnyKernelTemplate, number, number, number, (c: Case) => Case][]) describe.skipIf(!ctx)(`${template.name} on the GPU`, () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random problems and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb(maxM, maxK).map(fit), async (c) => {
      const p = problemOf(c);
      const k = pickKnobs(template, p, gpu.info, c.knobIndex);
      const a = randomData(numel(c.aBatch) * c.M * c.K, c.dataSeed);
      const b = randomData(numel(c.bBatch) * c.K * c.N, c.dataSeed + 1);
      const bias = c.biasShape ? randomData(numel(c.biasShape), c.dataSeed + 2) : null;
      await expectKernelMatches(gpu, template, p, k, bias ? [a, b, bias] : [a, b], reference(c, a, b, bias));
    }), fcParams(runs));
  });

  it('defaults are valid and correct for GEMV-like and square problems', async () => {
    for (const [M, N, K] of [[1, 1, 1], [1, 65, 33], [3, 300, 1031], [64, 64, 64], [65, 7, 129]] as const) {
      if (M > maxM) continue;
      const c: Case = fit({ aBatch: [], bBatch: [], M, N, K, transA: false, transB: true, alpha: 1, beta: 1, biasShape: [N], epilogue: [{ op: 'relu', attrs: {} }], knobIndex: 0, dataSeed: M + N + K });
      const p = problemOf(c);
      const k = template.defaults(p, gpu.info);
      expect(template.valid(p, k, gpu.info)).toBe(true);
      const a = randomData(M * c.K, 1);
      const b = randomData(c.K * c.N, 2);
      const bias = randomData(c.N, 3);
      await expectKernelMatches(gpu, template, p, k, [a, b, bias], reference(c, a, b, bias));
    }
  });
});
