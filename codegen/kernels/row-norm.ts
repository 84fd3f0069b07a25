// softmax, log_softmax, layer_norm and rms_norm: one row (lane of `len` elements, `inner` apart)
// per `threadsPerRow` invocations; each pass strides over the row and combines through
// workgroup memory or subgroups. Two-pass statistics (max then sum; mean then variance) for
// stability. The row is re-read from global memory on each pass (no caching in registers).

import type { KernelTemplate } from '../kernel.ts';
import type { RowNormProblem } from '../problems.ts';
import { dispatchProblem, f32Lit, foldDispatch, offsetFn, u32Lit, ShaderBuilder } from '../wgsl/shader.ts';
import {
  defaultRowLayout, lenUniform, reduceIdentity, reducePrelude, rowGroups, rowLayoutProblem, rowPrologue, workgroupReduceFn,
  ROW_REDUCE_KNOBS, type RowReduceKnobs,
} from '../wgsl/workgroup-reduce.ts';
import { numel } from '../../src/ir/shape.ts';

export type RowNormKnobs = RowReduceKnobs;

const KNOBS = ROW_REDUCE_KNOBS;

const rowsOf = (p: RowNormProblem): number => p.outer * p.inner;

/** `for` over this thread's elements of the row; `body` sees `j` (lane position) and `x` (the value). */
function lanes(p: RowNormProblem, k: RowNormKnobs, body: string[]): string {
  const at = p.inner === 1 ? 'base + j' : `base + j * ${u32Lit(p.inner)}`;
  return [
    'if (live) {',
    `  for (var j = t; j < params.len; j += ${k.threadsPerRow}u) {`,
    `    let at = ${at};`,
    '    let x = src[at];',
    ...body.map((l) => `    ${l}`),
    '  }',
    '}',
  ].join('\n');
}

function normBody(b: ShaderBuilder, p: RowNormProblem, k: RowNormKnobs): string[] {
  const sum = (): string => workgroupReduceFn(b, 'sum', k);
  const n = f32Lit(p.len);
  if (p.op === 'softmax' || p.op === 'log_softmax') {
    const max = workgroupReduceFn(b, 'max', k);
    const write = p.op === 'softmax' ? 'dst[at] = exp(x - m) / s;' : 'dst[at] = x - m - log(s);';
    return [
      `var pm = ${reduceIdentity('max')};`, lanes(p, k, ['pm = max(pm, x);']), `let m = ${max}(pm, lidx);`,
      'var ps = 0.0;', lanes(p, k, ['ps += exp(x - m);']), `let s = ${sum()}(ps, lidx);`,
      lanes(p, k, [write]),
    ];
  }
  const scale = p.scaleStrides ? b.helper('scaleOff', offsetFn('scaleOff', p.paramShape, p.scaleStrides)) : undefined;
  const bias = p.biasStrides ? b.helper('biasOff', offsetFn('biasOff', p.paramShape, p.biasStrides)) : undefined;
  const affine = `${scale ? ' * scale[scaleOff(j)]' : ''}${bias ? ' + bias[biasOff(j)]' : ''}`;
  const out: string[] = [];
  if (p.op === 'layer_norm') {
    out.push('var p1 = 0.0;', lanes(p, k, ['p1 += x;']), `let mean = ${sum()}(p1, lidx) / ${n};`);
  } else out.push('let mean = 0.0;');
  out.push(
    'var p2 = 0.0;', lanes(p, k, ['let d = x - mean;', 'p2 += d * d;']),
    `let inv = 1.0 / sqrt(${sum()}(p2, lidx) / ${n} + ${f32Lit(p.epsilon)});`,
    lanes(p, k, [`dst[at] = (x - mean) * inv${affine};`]),
  );
  return out;
}

export const rowNormTemplate: KernelTemplate<RowNormProblem, RowNormKnobs> = {
  name: 'row-norm',
  knobs: KNOBS,

  valid(p, k, dev) {
    if (p.len < 1 || p.outer < 1 || p.inner < 1) return 'empty rows';
    const isNorm = p.op === 'layer_norm' || p.op === 'rms_norm';
    if (isNorm && (p.inner !== 1 || numel(p.paramShape) !== p.len || !p.scaleStrides)) return `${p.op} normalizes trailing dims with a scale`;
    if (!isNorm && (p.scaleStrides || p.biasStrides)) return `${p.op} takes no scale or bias`;
    const bad = rowLayoutProblem(k, dev.features);
    if (bad) return bad;
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) {
      return `workgroup ${k.workgroupSize} exceeds the device's invocation limits`;
    }
    if (rowsOf(p) * p.len > 0xffffffff - k.workgroupSize) return 'too many elements for u32 indexing';
    return dispatchProblem(rowGroups(k, rowsOf(p))) ?? true;
  },

  key(p) {
    const params = p.scaleStrides ? `;param[${p.paramShape.join(',')}]s[${p.scaleStrides.join(',')}]b[${p.biasStrides?.join(',') ?? '-'}]` : '';
    return `${p.op};${p.outer}x${p.len}x${p.inner};eps=${p.epsilon}${params}`;
  },

  source(p, k) {
    const inputs = ['src', ...(p.scaleStrides ? ['scale'] : []), ...(p.biasStrides ? ['bias'] : [])];
    const b = new ShaderBuilder({ inputs, outputs: ['dst'], uniforms: lenUniform(p.len) });
    const base = p.inner === 1 ? `row * ${u32Lit(p.len)}` : `(row / ${u32Lit(p.inner)}) * ${u32Lit(p.len * p.inner)} + row % ${u32Lit(p.inner)}`;
    const body = [rowPrologue(k, rowsOf(p)), `let base = ${base};`, ...normBody(b, p, k)].join('\n');
    return reducePrelude(k) + b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return { dispatch: foldDispatch(rowGroups(k, rowsOf(p))), uniforms: lenUniform(p.len) };
  },

  defaults(p) {
    return defaultRowLayout(p.len);
  },
};
