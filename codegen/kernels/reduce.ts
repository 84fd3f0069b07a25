// reduce_sum / reduce_mean / reduce_max over any axis set: `threadsPerRow` invocations stride
// over one output's reduced elements, then combine through workgroup memory (or subgroups).
// Offsets of kept and reduced dims are decoded separately, so any axis set works unpermuted.

import type { KernelTemplate } from '../kernel.ts';
import type { ReduceProblem } from '../problems.ts';
import { dispatchProblem, f32Lit, foldDispatch, offsetFn, ShaderBuilder } from '../wgsl/shader.ts';
import {
  lenUniform, combineExpr, defaultRowLayout, reduceIdentity, reducePrelude, rowGroups, rowLayoutProblem, rowPrologue, workgroupReduceFn,
  ROW_REDUCE_KNOBS, type RowReduceKnobs,
} from '../wgsl/workgroup-reduce.ts';
import { numel } from '../../src/ir/shape.ts';

export type ReduceKnobs = RowReduceKnobs;

const KNOBS = ROW_REDUCE_KNOBS;

const rowsOf = (p: ReduceProblem): number => numel(p.keptShape);
const lenOf = (p: ReduceProblem): number => numel(p.reducedShape);

export const reduceTemplate: KernelTemplate<ReduceProblem, ReduceKnobs> = {
  name: 'reduce',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (p.keptShape.length !== p.keptStrides.length || p.reducedShape.length !== p.reducedStrides.length) return 'shape/stride ranks differ';
    if (lenOf(p) < 1) return 'nothing to reduce';
    const bad = rowLayoutProblem(k, dev.features);
    if (bad) return bad;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    if (rowsOf(p) * lenOf(p) > 0xffffffff - k.workgroupSize) return 'too many elements for u32 indexing';
    return dispatchProblem(rowGroups(k, rowsOf(p))) ?? true;
  },

  key(p) {
    return `${p.op};kept[${p.keptShape.join(',')}]/[${p.keptStrides.join(',')}];red[${p.reducedShape.join(',')}]/[${p.reducedStrides.join(',')}]`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['src'], outputs: ['dst'], uniforms: lenUniform(lenOf(p)) });
    const c = p.op === 'max' ? 'max' : 'sum';
    const red = workgroupReduceFn(b, c, k);
    b.helper('keptOff', offsetFn('keptOff', p.keptShape, p.keptStrides));
    b.helper('redOff', offsetFn('redOff', p.reducedShape, p.reducedStrides));
    const len = lenOf(p);
    const result = p.op === 'mean' ? `total / ${f32Lit(len)}` : 'total';
    const body = [
      rowPrologue(k, rowsOf(p)),
      `var acc = ${reduceIdentity(c)};`,
      'if (live) {',
      '  let base = keptOff(row);',
      `  for (var r = t; r < params.len; r += ${k.threadsPerRow}u) {`,
      `    acc = ${combineExpr(c, 'acc', 'src[base + redOff(r)]')};`,
      '  }',
      '}',
      `let total = ${red}(acc, lidx);`,
      `if (live && t == 0u) { dst[row] = ${result}; }`,
    ].join('\n');
    return reducePrelude(k) + b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(rowGroups(k, rowsOf(p))), uniforms: lenUniform(lenOf(p)) };
  },

  defaults(p) {
    return defaultRowLayout(lenOf(p));
  },
};
