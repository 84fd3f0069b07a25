// Shared cases for the popcount WxAy kernel tests: random problems (widths W1–8 x A2–8, odd K and
// N, aligned/unaligned/per-channel groups, three weight sources), their inputs (activations by
// packActRows, planes weights) and the op reference with the epilogue through the interpreter.
// Not a test file itself.

import fc from 'fast-check';
import { expect } from 'vitest';
import type { AnyKernelTemplate } from '../../codegen/kernel.ts';
import type { Epilogue, MatmulNBitsProblem } from '../../codegen/problems.ts';
import { matmulNBitsOp } from '../../src/ir/ops/matmul-nbits.ts';
import { ndarray, type NdArray } from '../../src/ir/tensor.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { actRowWords, packActRows } from '../../src/quant/act.ts';
import { groupsPerRow, packCodes, type QuantizedWeight } from '../../src/quant/format.ts';
import type { GpuContext } from '../../src/runtime/device.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { epilogueArb, epilogueReference, expectKernelMatches, pickKnobs, randomData } from './kernel-check.ts';

export interface Case {
  M: number;
  N: number;
  K: number;
  bits: number;
  actBits: number;
  /** 0 means per-channel (group = K). */
  group: number;
  weights: 'symmetric' | 'asymmetric' | 'random-codes';
  bias: boolean;
  epilogue: Epilogue;
  knobIndex: number;
  seed: number;
}

export const caseArb = (Ms: fc.Arbitrary<number>): fc.Arbitrary<Case> => fc.record({
  M: Ms,
  N: fc.oneof(fc.constantFrom(1, 3, 7, 13, 33, 65), fc.integer({ min: 1, max: 70 })),
  K: fc.oneof(fc.constantFrom(1, 31, 32, 33, 97, 200, 257), fc.integer({ min: 1, max: 600 })),
  bits: fc.integer({ min: 1, max: 8 }),
  actBits: fc.oneof(fc.constantFrom(4, 8), fc.integer({ min: 2, max: 8 })),
  group: fc.constantFrom(0, 32, 64, 128, 48, 100, 7),
  weights: fc.constantFrom('symmetric', 'asymmetric', 'random-codes'),
  bias: fc.boolean(),
  epilogue: epilogueArb,
  knobIndex: fc.nat(),
  seed: fc.nat(),
});

export const problemOf = (c: Case): MatmulNBitsProblem => ({
  kind: 'matmul-nbits', M: c.M, N: c.N, K: c.K, bits: c.bits, group: c.group || c.K, layout: 'planes', bias: c.bias, epilogue: c.epilogue, actBits: c.actBits, actLayout: 'planes',
});

function weightOf(c: Case): QuantizedWeight {
  const rand = mulberry32(c.seed);
  const group = c.group || c.K;
  if (c.weights !== 'random-codes') {
    const w = randomData(c.N * c.K, c.seed + 3);
    return quantizeMatrix(w, c.N, c.K, { bits: c.bits, group, symmetric: c.weights === 'symmetric', method: 'rtn', layout: 'planes' }).weight;
  }
  // Full-range codes and fractional zero points: the largest integer sums and a non-integer zw.
  const G = groupsPerRow(c.K, group);
  const codes = Array.from({ length: c.N * c.K }, () => Math.floor(rand() * 2 ** c.bits));
  const scales = Float32Array.from({ length: c.N * G }, () => 0.01 + 0.09 * rand());
  const zeros = Float32Array.from({ length: c.N * G }, () => rand() * (2 ** c.bits - 1));
  return { N: c.N, K: c.K, bits: c.bits, group, layout: 'planes', words: packCodes(codes, c.N, c.K, c.bits, 'planes'), scales, zeros };
}

/** The op reference (integer code products per group) with the epilogue through the interpreter. */
function reference(c: Case, acts: Uint32Array, w: QuantizedWeight, bias: Float32Array | null): Float64Array {
  const attrs = { N: c.N, K: c.K, bits: c.bits, group: w.group, layout: 'planes', act_bits: c.actBits, act_layout: 'planes' };
  const ins = [ndarray([c.M, actRowWords(c.K, c.actBits, 'planes')], acts), ndarray([w.words.length], w.words), ndarray([c.N, groupsPerRow(c.K, w.group)], w.scales), ndarray([c.N, groupsPerRow(c.K, w.group)], w.zeros), ...(bias ? [ndarray([c.N], bias)] : [])];
  const y = (matmulNBitsOp.reference(ins, attrs) as NdArray[])[0] as NdArray;
  return epilogueReference(y.data, c.M, c.N, c.epilogue);
}

export async function check(gpu: GpuContext, template: AnyKernelTemplate, c: Case, knobs?: unknown): Promise<void> {
  const p = problemOf(c);
  const k = knobs ?? pickKnobs(template, p, gpu.info, c.knobIndex);
  const w = weightOf(c);
  // Activations with a per-row offset, so zero points vary from row to row.
  const x = randomData(c.M * c.K, c.seed + 1).map((v, i) => v + 0.3 * Math.sin(Math.floor(i / c.K)));
  const acts = packActRows(x, c.M, c.K, c.actBits, 'planes');
  const bias = c.bias ? randomData(c.N, c.seed + 2) : null;
  // runKernel takes Float32Arrays: views over the words keep their bits.
  const inputs = [new Float32Array(acts.buffer), new Float32Array(w.words.buffer), w.scales, w.zeros, ...(bias ? [bias] : [])];
  await expectKernelMatches(gpu, template, p, k as never, inputs, reference(c, acts, w, bias));
}

/** Defaults are valid and correct for each (bits, actBits, group) at K = 468 (not a multiple of 32), M rows, N = 37. */
export async function checkDefaults(gpu: GpuContext, t: AnyKernelTemplate, M: number, configs: readonly (readonly [number, number, number])[]): Promise<void> {
  for (const [bits, actBits, group] of configs) {
    const c: Case = { M, N: 37, K: 468, bits, actBits, group, weights: 'random-codes', bias: true, epilogue: [{ op: 'relu', attrs: {} }], knobIndex: 0, seed: bits * 10 + actBits };
    const p = problemOf(c);
    const k = t.defaults(p, gpu.info);
    expect(t.valid(p, k, gpu.info)).toBe(true);
    await check(gpu, t, c, k);
  }
}
