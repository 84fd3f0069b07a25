// quantize-act kernel vs the quantize_act op reference (src/quant/act.ts): every output word —
// scale bits, zero and packed codes in both layouts — must be bit-equal (the kernel's divisions
// are exact). Rows mix random ranges, all-positive/all-negative rows, all-zero rows, values
// below the normal scale, and "grid" rows whose x / scale and -lo / scale land on exact ties.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { templatesFor } from '../../codegen/kernels/index.ts';
import { quantizeActTemplate } from '../../codegen/kernels/quantize-act.ts';
import type { QuantizeActProblem } from '../../codegen/problems.ts';
import { emitSource } from '../../codegen/kernels/index.ts';
import { actRowWords, packActRows } from '../../src/quant/act.ts';
import type { PackedLayout } from '../../src/quant/format.ts';
import { runKernel } from '../../src/runtime/kernel-runner.ts';
import { mulberry32 } from '../../src/util/random.ts';
import { gpuForTests, pickKnobs } from '../helpers/kernel-check.ts';
import { fcParams } from '../prop/arbitraries.ts';

const ctx = await gpuForTests();

type RowKind = 'uniform' | 'positive' | 'negative' | 'zeros' | 'tiny' | 'grid' | 'grid-half-zero';
const ROW_KINDS: readonly RowKind[] = ['uniform', 'positive', 'negative', 'zeros', 'tiny', 'grid', 'grid-half-zero'];

interface Case {
  rows: number;
  K: number;
  bits: number;
  layout: PackedLayout;
  kinds: RowKind[];
  knobIndex: number;
  seed: number;
}

/** One row of K f32 values of the given kind. */
function rowOf(kind: RowKind, K: number, bits: number, rand: () => number): number[] {
  const top = 2 ** bits - 1;
  const span = 2 ** (Math.floor(rand() * 20) - 10);
  switch (kind) {
    case 'uniform': return Array.from({ length: K }, () => (rand() * 2 - 1) * span);
    case 'positive': return Array.from({ length: K }, () => (0.5 + rand()) * span);
    case 'negative': return Array.from({ length: K }, () => -(0.5 + rand()) * span);
    case 'zeros': return new Array<number>(K).fill(0);
    // Scale (hi - lo) / top falls below 2^-126: the reference uses 1, so every code is the zero point.
    case 'tiny': return Array.from({ length: K }, () => (rand() * 2 - 1) * 2e-37);
    case 'grid':
    case 'grid-half-zero': {
      // lo = -z * d (or -(z + 1/2) * d), hi = lo + top * d with d a power of two: scale = d exactly,
      // so half-integer multiples of d are exact rounding ties for the codes (and the zero).
      const d = span / 64;
      const z = Math.floor(rand() * top) + (kind === 'grid-half-zero' ? 0.5 : 0);
      const lo = -z * d;
      const hi = lo + top * d;
      const row = Array.from({ length: K }, () => lo + (Math.floor(rand() * (2 * top + 1)) / 2) * d);
      if (K >= 2) {
        row[Math.floor(rand() * K)] = lo;
        row[Math.floor(rand() * K)] = hi;
      }
      return row;
    }
  }
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  rows: fc.oneof(fc.constantFrom(1, 2, 3, 7, 13), fc.integer({ min: 1, max: 40 })),
  K: fc.oneof(fc.constantFrom(1, 2, 31, 32, 33, 64, 97, 200, 257), fc.integer({ min: 1, max: 700 })),
  bits: fc.oneof(fc.constantFrom(4, 8), fc.integer({ min: 2, max: 8 })),
  layout: fc.constantFrom<PackedLayout>('planes', 'dense'),
  kinds: fc.array(fc.constantFrom(...ROW_KINDS), { minLength: 1, maxLength: 6 }),
  knobIndex: fc.nat(),
  seed: fc.nat(),
});

function inputOf(c: Case): Float32Array {
  const rand = mulberry32(c.seed);
  const x = new Float32Array(c.rows * c.K);
  for (let r = 0; r < c.rows; r++) x.set(rowOf(c.kinds[r % c.kinds.length] as RowKind, c.K, c.bits, rand), r * c.K);
  return x;
}

async function check(gpu: NonNullable<typeof ctx>, c: Case, knobs?: unknown): Promise<void> {
  const p: QuantizeActProblem = { kind: 'quantize-act', rows: c.rows, K: c.K, bits: c.bits, layout: c.layout };
  const k = (knobs ?? pickKnobs(quantizeActTemplate, p, gpu.info, c.knobIndex)) as Parameters<typeof quantizeActTemplate.source>[1];
  expect(quantizeActTemplate.valid(p, k, gpu.info)).toBe(true);
  const x = inputOf(c);
  const want = packActRows(x, c.rows, c.K, c.bits, c.layout);
  const wgsl = emitSource(quantizeActTemplate, p, k, gpu.info);
  const [out] = await runKernel(gpu, wgsl, quantizeActTemplate.launch(p, k), [x], [want.length]);
  const got = new Uint32Array((out as Float32Array).buffer);
  const rw = actRowWords(c.K, c.bits, c.layout);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      const r = Math.floor(i / rw);
      throw new Error(`${quantizeActTemplate.key(p)} knobs=${JSON.stringify(k)}: word ${i % rw} of row ${r} (${c.kinds[r % c.kinds.length]}) is ${got[i]}, reference ${want[i]}`);
    }
  }
}

describe.skipIf(!ctx)('quantize-act on the GPU', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('equals the reference bit for bit for random rows, widths, layouts and knobs', async () => {
    await fc.assert(fc.asyncProperty(caseArb, (c) => check(gpu, c)), fcParams(14));
  });

  it('defaults are valid and exact on LLaMA-like rows (K = 4096, 11008) and a single value', async () => {
    for (const [rows, K, bits, layout] of [[2, 4096, 4, 'planes'], [1, 11008, 8, 'dense'], [3, 1, 3, 'planes']] as const) {
      const c: Case = { rows, K, bits, layout, kinds: ['grid', 'uniform', 'zeros'], knobIndex: 0, seed: K };
      await check(gpu, c, quantizeActTemplate.defaults({ kind: 'quantize-act', rows, K, bits, layout }, gpu.info));
    }
  });
});

describe('quantize-act registry', () => {
  it('serves quantize-act problems and rejects bad widths with a reason', () => {
    const p: QuantizeActProblem = { kind: 'quantize-act', rows: 4, K: 100, bits: 4, layout: 'planes' };
    expect(templatesFor(p).map((t) => t.name)).toEqual(['quantize-act']);
    const dev = { features: new Set<string>(), limits: { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 27 } };
    expect(quantizeActTemplate.valid(p, quantizeActTemplate.defaults(p, dev), dev)).toBe(true);
    expect(quantizeActTemplate.valid({ ...p, bits: 1 }, quantizeActTemplate.defaults(p, dev), dev)).toMatch(/2\.\.8/);
  });
});
