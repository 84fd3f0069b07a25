// elementwise vs the interpreter: random fused DAGs over broadcasting inputs (every op of the
// elementwise table, domain-safe compositions so values stay finite), each op on edge values
// (large |x| for tanh/sigmoid, negative bases for pow, infinite clip bounds), and a dispatch
// large enough to need the 2-D fold.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { elementwiseTemplate } from '../../codegen/kernels/elementwise.ts';
import type { ElementwiseProblem, ElementwiseStep } from '../../codegen/problems.ts';
import { MAX_WORKGROUPS_PER_DIM } from '../../codegen/wgsl/shader.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { numel } from '../../src/ir/shape.ts';
import { ndarray, type NdArray } from '../../src/ir/tensor.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { awkwardSize, epilogueArb, expectKernelMatches, fcParams, gpuForTests, pickKnobs, randomData, randomInts } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();

type Macro = 'unary' | 'exp' | 'sqrt' | 'add' | 'sub' | 'mul' | 'div' | 'pow_int' | 'pow_real';

interface Case {
  outShape: number[];
  inputShapes: number[][];
  intInput: boolean[]; // integer-valued data in [-2, 3] (pow exponents)
  steps: ElementwiseStep[];
  knobIndex: number;
  dataSeed: number;
}

/** Builds a DAG whose every value feeds the result, so the output shape is the full broadcast. */
function buildSteps(nInputs: number, intInput: boolean[], macros: { m: Macro; a: number; b: number; u: { op: string; attrs: Attrs } }[]): ElementwiseStep[] {
  const steps: ElementwiseStep[] = [];
  const unread = new Set<string>(Array.from({ length: nInputs }, (_, i) => `i${i}`));
  const realPool = (): { ref: string; arg: ElementwiseStep['args'][number] }[] => [
    ...Array.from({ length: nInputs }, (_, i) => i).filter((i) => !intInput[i]).map((i) => ({ ref: `i${i}`, arg: { input: i } })),
    ...steps.map((_, s) => ({ ref: `s${s}`, arg: { step: s } })),
  ];
  const push = (op: string, args: ElementwiseStep['args'], attrs: Attrs = {}): ElementwiseStep['args'][number] => {
    for (const a of args) unread.delete('input' in a ? `i${a.input}` : `s${a.step}`);
    steps.push({ op, attrs, args });
    unread.add(`s${steps.length - 1}`);
    return { step: steps.length - 1 };
  };
  const intIdx = intInput.map((b, i) => (b ? i : -1)).filter((i) => i >= 0);
  for (const { m, a, b, u } of macros) {
    const pool = realPool();
    const x = (pool[a % pool.length] as { arg: ElementwiseStep['args'][number] }).arg;
    const y = (pool[b % pool.length] as { arg: ElementwiseStep['args'][number] }).arg;
    if (m === 'unary') push(u.op, [x], u.attrs);
    else if (m === 'exp') push('exp', [push('tanh', [x])]);
    else if (m === 'sqrt') push('sqrt', [push('abs', [x])]);
    else if (m === 'div') push('div', [x, push('exp', [push('tanh', [y])])]);
    else if (m === 'pow_real') push('pow', [push('exp', [push('tanh', [x])]), y]);
    else if (m === 'pow_int' && intIdx.length) {
      const e = { input: intIdx[b % intIdx.length] as number };
      // Clipped base: negative bases with integer exponents, bounded magnitude; 0 ** -k = inf on both sides.
      push('pow', [push('clip', [x], { min: -2, max: 2 }), e]);
    } else push(m === 'pow_int' ? 'mul' : m, [x, y]);
  }
  // Fold every value nothing reads (and any unread inputs) into the result.
  let acc: ElementwiseStep['args'][number] | undefined;
  for (const r of [...unread].sort()) {
    const arg = r.startsWith('i') ? { input: Number(r.slice(1)) } : { step: Number(r.slice(1)) };
    acc = acc === undefined ? arg : push('add', [acc, arg]);
  }
  // No steps only happens for a single input and no macros: the kernel's plain-copy path.
  return steps;
}

const dim = awkwardSize(40, [64, 65, 129, 257]);
const caseArb: fc.Arbitrary<Case> = fc.record({
  outShape: fc.array(dim, { maxLength: 4 }).filter((s) => numel(s) <= 6000),
  inputs: fc.array(fc.record({ mask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), drop: fc.constantFrom(0, 0, 1, 2), isInt: fc.boolean() }), { minLength: 0, maxLength: 3 }),
  macros: fc.array(fc.record({
    m: fc.constantFrom<Macro>('unary', 'unary', 'exp', 'sqrt', 'add', 'sub', 'mul', 'div', 'pow_int', 'pow_real'),
    a: fc.nat(), b: fc.nat(),
    u: fc.oneof(epilogueArb.map((e) => e[0] ?? { op: 'relu', attrs: {} }), fc.constant({ op: 'gelu', attrs: { approximate: 'none' } })),
  }), { maxLength: 6 }),
  knobIndex: fc.nat(), dataSeed: fc.nat(),
}).map((r) => {
  // Input 0 has the full output shape; the others broadcast (dims set to 1, leading dims dropped).
  const extra = r.inputs.map((i) => r.outShape.map((d, j) => (i.mask[j] ? 1 : d)).slice(Math.min(i.drop, r.outShape.length)));
  const inputShapes = [r.outShape, ...extra];
  const intInput = [false, ...r.inputs.map((i) => i.isInt)];
  return { outShape: r.outShape, inputShapes, intInput, steps: buildSteps(inputShapes.length, intInput, r.macros), knobIndex: r.knobIndex, dataSeed: r.dataSeed };
});

function inputsOf(c: Case): Float32Array[] {
  return c.inputShapes.map((s, j) => (c.intInput[j] ? randomInts(numel(s), c.dataSeed + j, -2, 3) : randomData(numel(s), c.dataSeed + j, -3, 3)));
}

function reference(c: Case, inputs: readonly Float32Array[]): Float64Array {
  const g = new GraphBuilder('ew');
  const feeds: Record<string, NdArray> = {};
  const names = c.inputShapes.map((s, j) => {
    feeds[`x${j}`] = ndarray(s, inputs[j]);
    return g.input(`x${j}`, 'f32', s);
  });
  const vals: string[] = [];
  for (const s of c.steps) vals.push(g.op(s.op, s.args.map((a) => ('input' in a ? names[a.input] : vals[a.step]) as string), s.attrs));
  const out = vals.length ? (vals[vals.length - 1] as string) : (names[0] as string);
  const shape = g.typeOf(out).shape;
  if (shape.join(',') !== c.outShape.join(',')) throw new Error(`test bug: DAG result [${shape.join(',')}] is not the output shape`);
  g.output(out);
  return (interpret(g.build(), feeds).get(out) as NdArray).data;
}

const problemOf = (c: Case): ElementwiseProblem => ({ kind: 'elementwise', outShape: c.outShape, inputShapes: c.inputShapes, steps: c.steps });

describe.skipIf(!ctx)('elementwise on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('matches the interpreter for random fused DAGs, broadcasts and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const p = problemOf(c);
      const inputs = inputsOf(c);
      await expectKernelMatches(gpu, elementwiseTemplate, p, pickKnobs(elementwiseTemplate, p, gpu.info, c.knobIndex), inputs, reference(c, inputs));
    }), fcParams(40));
  });

  it('every op matches on edge values', async () => {
    const xs = new Float32Array([-1e4, -100, -20, -3, -2.5, -2, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2, 2.5, 3, 20, 100, 1e4]);
    const unary: [string, Attrs][] = [
      ['relu', {}], ['leaky_relu', { alpha: 0.1 }], ['sigmoid', {}], ['tanh', {}], ['gelu', {}], ['gelu', { approximate: 'tanh' }],
      ['silu', {}], ['hardsigmoid', { alpha: 0.3, beta: 0.4 }], ['hardswish', {}], ['clip', { min: -Infinity, max: 1.5 }],
      ['clip', { min: -0.5 }], ['clip', {}], ['abs', {}], ['neg', {}], ['affine', { scale: -1.5, shift: 0.25 }], ['affine', { scale: 3, shift: -0 }],
    ];
    const cases: Case[] = unary.map(([op, attrs]) => ({ outShape: [xs.length], inputShapes: [[xs.length]], intInput: [false], steps: [{ op, attrs, args: [{ input: 0 }] }], knobIndex: 0, dataSeed: 0 }));
    const pos = xs.map((x) => Math.abs(x) / 300); // exp stays finite in f32
    cases.push(...['sqrt', 'exp'].map((op) => ({ outShape: [xs.length], inputShapes: [[xs.length]], intInput: [false], steps: [{ op, attrs: {}, args: [{ input: 0 }] }], knobIndex: 0, dataSeed: -1 })));
    for (const c of cases) {
      const data = c.dataSeed === -1 ? pos : xs;
      const p = problemOf(c);
      await expectKernelMatches(gpu, elementwiseTemplate, p, elementwiseTemplate.defaults(p, gpu.info), [data], reference(c, [data]));
    }
    // Binary ops on a grid: negative bases with integer exponents, zero bases, fractional exponents.
    const a = new Float32Array([-3, -2, -1.5, -1, 0, 0.5, 1, 2, 3]);
    const b = new Float32Array([-2, -1, 0, 1, 2, 3, 0.5]);
    for (const op of ['add', 'sub', 'mul', 'div', 'pow']) {
      const c: Case = { outShape: [a.length, b.length], inputShapes: [[a.length, 1], [b.length]], intInput: [false, false], steps: [{ op, attrs: {}, args: [{ input: 0 }, { input: 1 }] }], knobIndex: 0, dataSeed: 0 };
      const p = problemOf(c);
      await expectKernelMatches(gpu, elementwiseTemplate, p, elementwiseTemplate.defaults(p, gpu.info), [a, b], reference(c, [a, b]));
    }
  });

  it('folds dispatches past maxComputeWorkgroupsPerDimension into 2-D', async () => {
    const n = 64 * (MAX_WORKGROUPS_PER_DIM + 3) + 5;
    const p: ElementwiseProblem = { kind: 'elementwise', outShape: [n], inputShapes: [[n]], steps: [{ op: 'relu', attrs: {}, args: [{ input: 0 }] }] };
    const k = { workgroupSize: 64, elemsPerThread: 1 };
    expect(elementwiseTemplate.launch(p, k).dispatch[1]).toBeGreaterThan(1);
    const x = randomData(n, 7);
    await expectKernelMatches(gpu, elementwiseTemplate, p, k, [x], Float64Array.from(x, (v) => Math.max(v, 0)));
  });
});
