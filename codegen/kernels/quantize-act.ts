// quantize_act: per-row (per-token) dynamic asymmetric quantization of f32 rows to u32 rows
// [scale bits, zero, codes] exactly as src/quant/act.ts: `threadsPerRow` lanes reduce min/max,
// then each lane builds whole output words from 32-code chunks. Scale, zero and every code are
// bit-equal to the reference (exact division helpers in ../wgsl/exact-div.ts); codes past K are 0.
// Not handled: NaN inputs, and subnormal inputs on devices that flush them.

import type { KernelTemplate, Uniform } from '../kernel.ts';
import type { QuantizeActProblem } from '../problems.ts';
import { exactRoundDivFn, exactScaleFn } from '../wgsl/exact-div.ts';
import { ceilDiv, dispatchProblem, foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { reducePrelude, ROW_REDUCE_KNOBS, rowGroups, rowLayoutProblem, rowPrologue, workgroupReduceFn, type RowReduceKnobs } from '../wgsl/workgroup-reduce.ts';
import { actRowWords } from '../../src/quant/act.ts';

export type QuantizeActKnobs = RowReduceKnobs;

const rowWordsOf = (p: QuantizeActProblem): number => actRowWords(p.K, p.bits, p.layout);

/** Trip counts as uniforms: literal bounds make lavapipe's LLVM unroll (seconds per shader). */
function uniforms(p: QuantizeActProblem): Uniform[] {
  return [
    { name: 'K', type: 'u32', value: p.K },
    { name: 'chunks', type: 'u32', value: ceilDiv(p.K, 32) },
  ];
}

/** Statements packing `q` (code i of the chunk) into the chunk's output words. */
function packStatements(p: QuantizeActProblem): string[] {
  if (p.layout === 'planes') {
    // Plane j of the chunk is one word: bit i of it is bit j of code i.
    return Array.from({ length: p.bits }, (_, j) => `pl${j} = pl${j} | (((q >> ${u32Lit(j)}) & 1u) << i);`);
  }
  // Dense stream: append `bits` bits, spilling a finished word to memory as it fills.
  return [
    'cur = cur | (q << used);',
    `used = used + ${u32Lit(p.bits)};`,
    'if (used >= 32u) {',
    '  out[wo] = cur;',
    '  wo = wo + 1u;',
    '  used = used - 32u;',
    `  cur = select(0u, q >> (${u32Lit(p.bits)} - used), used > 0u);`,
    '}',
  ];
}

function body(b: ShaderBuilder, p: QuantizeActProblem, k: QuantizeActKnobs): string {
  const red = workgroupReduceFn(b, 'max', k);
  const scaleFn = exactScaleFn(b);
  const roundDiv = exactRoundDivFn(b);
  const top = 2 ** p.bits - 1;
  const RW = rowWordsOf(p);
  const KW = ceilDiv(p.K, 32);
  const T = u32Lit(k.threadsPerRow);
  const chunkInit = p.layout === 'planes'
    ? Array.from({ length: p.bits }, (_, j) => `var pl${j} = 0u;`)
    : ['var cur = 0u;', 'var used = 0u;', `var wo = ob + 2u + c * ${u32Lit(p.bits)};`];
  const chunkEnd = p.layout === 'planes'
    ? Array.from({ length: p.bits }, (_, j) => `out[ob + 2u + ${u32Lit(j * KW)} + c] = pl${j};`)
    // Only the last chunk ends mid-word; its partial word is the row's last.
    : ['if (used > 0u) { out[wo] = cur; }'];
  return [
    rowPrologue(k, p.rows),
    // Dead rows read row 0 so that every lane reaches the reductions' barriers.
    `let xb = select(0u, row * ${u32Lit(p.K)}, live);`,
    'var mx = 0.0;',
    'var mn = 0.0;',
    `for (var kk = t; kk < params.K; kk += ${T}) {`,
    '  let v = x[xb + kk];',
    '  mx = max(mx, v);',
    '  mn = min(mn, v);',
    '}',
    // lo = min(0, min x), hi = max(0, max x): the accumulators start at 0.
    `let hi = ${red}(mx, lidx);`,
    `let lo = -${red}(-mn, lidx);`,
    `let scale = ${scaleFn}(hi - lo, ${u32Lit(top)});`,
    `let zero = min(${roundDiv}(-lo, scale), ${u32Lit(top)});`,
    'if (!live) { return; }',
    `let ob = row * ${u32Lit(RW)};`,
    'if (t == 0u) {',
    '  out[ob] = bitcast<u32>(scale);',
    '  out[ob + 1u] = zero;',
    '}',
    `for (var c = t; c < params.chunks; c += ${T}) {`,
    ...chunkInit.map((l) => `  ${l}`),
    '  let k0 = c * 32u;',
    '  let n = min(32u, params.K - k0);',
    '  for (var i = 0u; i < n; i++) {',
    '    let v = x[xb + k0 + i];',
    `    let r = i32(${roundDiv}(abs(v), scale));`,
    `    let q = u32(clamp(select(r, -r, v < 0.0) + i32(zero), 0i, ${top}i));`,
    ...packStatements(p).map((l) => `    ${l}`),
    '  }',
    ...chunkEnd.map((l) => `  ${l}`),
    '}',
  ].join('\n');
}

export const quantizeActTemplate: KernelTemplate<QuantizeActProblem, QuantizeActKnobs> = {
  name: 'quantize-act',
  knobs: ROW_REDUCE_KNOBS,

  valid(p, k, dev) {
    if (!Number.isInteger(p.bits) || p.bits < 2 || p.bits > 8) return `activation bits must be 2..8, got ${p.bits}`;
    if (p.rows < 1 || p.K < 1) return 'empty quantize_act';
    if (k.workgroupSize > dev.limits.maxComputeInvocationsPerWorkgroup || k.workgroupSize > dev.limits.maxComputeWorkgroupSizeX) return 'workgroup too large for the device';
    if (k.workgroupSize * 4 > dev.limits.maxComputeWorkgroupStorageSize) return 'reduction scratch exceeds workgroup storage';
    if (k.threadsPerRow > 1 && k.threadsPerRow / 2 >= p.K) return `threadsPerRow ${k.threadsPerRow} is more than twice K=${p.K}`;
    if (p.rows * p.K > 0xffffffff || p.rows * rowWordsOf(p) > 0xffffffff) return 'rows overflow u32 indexing';
    return rowLayoutProblem(k, dev.features) ?? dispatchProblem(rowGroups(k, p.rows)) ?? true;
  },

  key(p) {
    return `R${p.rows}K${p.K};a${p.bits}${p.layout}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: ['x'], outputs: ['out'], outputTypes: ['u32'], uniforms: uniforms(p) });
    return reducePrelude(k) + b.build([k.workgroupSize, 1, 1], body(b, p, k));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(rowGroups(k, p.rows)), uniforms: uniforms(p) };
  },

  defaults(p) {
    // One lane per ~2 chunks of the row (so packing is spread), at least 16 for the min/max pass.
    const chunks = ceilDiv(p.K, 32);
    const threadsPerRow = Math.min(64, Math.max(p.K >= 32 ? 16 : 1, 2 ** Math.ceil(Math.log2(Math.max(1, chunks / 2)))));
    return { threadsPerRow, workgroupSize: 64, subgroups: false };
  },
};
