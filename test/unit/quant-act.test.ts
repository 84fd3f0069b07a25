import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getOp } from '../../src/ir/op-table.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { actRowWords, packActRows, quantizeActRow, roundEven, unpackActRows } from '../../src/quant/act.ts';
import type { PackedLayout } from '../../src/quant/format.ts';
import { quantizeMatrix } from '../../src/passes/quantize/quantizer.ts';
import { fcParams } from '../prop/arbitraries.ts';

const rowArb = fc.integer({ min: 1, max: 97 }).chain((K) => fc.array(fc.float({ min: -8, max: 8, noNaN: true, noDefaultInfinity: true }), { minLength: K, maxLength: K }));

describe('per-token activation quantization', () => {
  it('rounds half to even like WGSL round()', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundEven)).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });

  it("codes are within scale/2 of every value (the integer zero shifts the clip ends by < scale/2), and 0 is exact", () => {
    fc.assert(fc.property(rowArb, fc.integer({ min: 2, max: 8 }), (x, bits) => {
      const q = quantizeActRow(x, bits);
      expect(Number.isInteger(q.zero)).toBe(true);
      expect(q.scale * (q.zero - q.zero)).toBe(0);
      const amax = Math.max(...x.map(Math.abs));
      for (let i = 0; i < x.length; i++) {
        expect(Math.abs(q.scale * ((q.codes[i] as number) - q.zero) - Math.fround(x[i] as number))).toBeLessThanOrEqual(q.scale / 2 + 1e-5 * q.scale + 2 ** -22 * amax) // f32 scale and range rounding;
      }
    }), fcParams(300));
  });

  it('packed rows round-trip header and codes in both layouts', () => {
    fc.assert(fc.property(rowArb, fc.integer({ min: 2, max: 8 }), fc.constantFrom<PackedLayout>('dense', 'planes'), fc.integer({ min: 1, max: 3 }), (x, bits, layout, rows) => {
      const K = x.length;
      const data = Array.from({ length: rows * K }, (_, i) => (x[i % K] as number) * (1 + Math.floor(i / K)));
      const words = packActRows(data, rows, K, bits, layout);
      expect(words.length).toBe(rows * actRowWords(K, bits, layout));
      const back = unpackActRows(words, rows, K, bits, layout);
      for (let r = 0; r < rows; r++) {
        const q = quantizeActRow(data.slice(r * K, (r + 1) * K), bits);
        expect(back[r]?.scale).toBe(q.scale);
        expect(back[r]?.zero).toBe(q.zero);
        expect(back[r]?.codes).toEqual(q.codes);
      }
    }), fcParams(200));
  });

  it('matmul_nbits with act_bits equals the dequantized-operand product', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 2, max: 8 }), fc.constantFrom<PackedLayout>('dense', 'planes'), fc.constantFrom(0, 16, 32), fc.nat(),
      (M, N, K, wbits, abits, layout, group, seed) => {
        let s = seed;
        const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
        const a = Array.from({ length: M * K }, rnd);
        const w = Array.from({ length: N * K }, rnd);
        const qm = quantizeMatrix(w, N, K, { bits: wbits, group, symmetric: wbits >= 4, method: 'rtn', layout });
        const aw = packActRows(a, M, K, abits, 'planes');
        const rw = actRowWords(K, abits, 'planes');
        const op = getOp('matmul_nbits')!;
        const attrs = { N, K, bits: qm.weight.bits, group: qm.weight.group, layout, act_bits: abits, act_layout: 'planes' };
        const ins = [ndarray([M, rw], Float64Array.from(aw)), ndarray([qm.weight.words.length], Float64Array.from(qm.weight.words)),
          ndarray([N, qm.weight.scales.length / N], Float64Array.from(qm.weight.scales)), ndarray([N, qm.weight.zeros.length / N], Float64Array.from(qm.weight.zeros))];
        const [y] = op.reference(ins, attrs);
        const acts = unpackActRows(aw, M, K, abits, 'planes');
        const G = qm.weight.scales.length / N;
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            let ref = 0;
            for (let k = 0; k < K; k++) {
              const g = n * G + Math.floor(k / qm.weight.group);
              const av = acts[m]!.scale * (acts[m]!.codes[k]! - acts[m]!.zero);
              ref += av * qm.weight.scales[g]! * (qm.codes[n * K + k]! - qm.weight.zeros[g]!);
            }
            expect(Math.abs(y!.data[m * N + n]! - ref)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(ref)));
          }
        }
      },
    ), fcParams(150));
  });
});
