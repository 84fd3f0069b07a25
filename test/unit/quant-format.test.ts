import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denseRowWords, packCodes, unpackCodes, type PackedLayout } from '../../src/quant/format.ts';
import { fcParams } from '../prop/arbitraries.ts';

describe('packed weight formats', () => {
  it('pack/unpack round-trips every width, layout and awkward K', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }), fc.constantFrom<PackedLayout>('dense', 'planes'),
      fc.integer({ min: 1, max: 5 }), fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(31, 32, 33, 63, 64, 65, 127)), fc.nat(),
      (bits, layout, N, K, seed) => {
        const codes = Uint8Array.from({ length: N * K }, (_, i) => ((i * 2654435761 + seed) >>> 7) & ((1 << bits) - 1));
        expect(unpackCodes(packCodes(codes, N, K, bits, layout), N, K, bits, layout)).toEqual(codes);
      },
    ), fcParams(300));
  });

  it('dense rows are little-endian bit streams starting on word boundaries', () => {
    // 3-bit codes 1..11 in one row: code 10 (=0b011 at bits 30..32) straddles words 0 and 1.
    const codes = Uint8Array.from({ length: 11 }, (_, k) => (k + 1) & 7);
    const words = packCodes(codes, 1, 11, 3, 'dense');
    expect(words.length).toBe(denseRowWords(11, 3));
    expect(words[0]! & 7).toBe(1);
    expect((words[0]! >>> 3) & 7).toBe(2);
    expect(((words[0]! >>> 30) | (words[1]! << 2)) & 7).toBe(codes[10]);
  });
});
