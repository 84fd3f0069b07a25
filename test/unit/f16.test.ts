// src/util/f16.ts: round-to-nearest-even at the awkward points (ties, subnormals, overflow)
// and the two-per-lane packing round trip, including odd lengths.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f16Lanes, packF16, roundToF16, toF16Bits, unpackF16 } from '../../src/util/f16.ts';
import { fcParams } from '../helpers/kernel-check.ts';

describe('f16 helpers', () => {
  it('rounds to nearest even at ties, subnormals and overflow', () => {
    expect([...toF16Bits([1, -2, 0.5, 65504, 65520, 1e6, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11])])
      .toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x7c00, 0x0001, 0x0000, 0x0002, 0x3c00, 0x3c02]);
  });

  it('round trips through the packed lanes for any length', () => {
    fc.assert(fc.property(fc.array(fc.float({ min: -60000, max: 60000, noNaN: true })), (xs) => {
      const lanes = packF16(xs);
      expect(lanes.length).toBe(f16Lanes(xs.length));
      expect([...unpackF16(lanes, xs.length)]).toEqual([...roundToF16(xs)]);
    }), fcParams(100));
  });

  it('rounding error is at most half an f16 ulp (relative 2^-11) in the normal range', () => {
    fc.assert(fc.property(fc.double({ min: 2 ** -14, max: 60000, noNaN: true }), (x) => {
      const r = roundToF16([x])[0] as number;
      expect(Math.abs(r - x)).toBeLessThanOrEqual(x * 2 ** -11 + 1e-12);
    }), fcParams(200));
  });
});
