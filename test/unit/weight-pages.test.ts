// Weight pages: for random tensor layouts (256-aligned, some bound twice or in part) and limits,
// every page fits the limit, every range lies in the page pageOf names, and a blob that fits
// is one page; a tensor over the limit is refused with a clear message.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pageOf, weightPages, type WeightRange } from '../../src/runtime/weight-pages.ts';
import { fcParams } from '../prop/arbitraries.ts';

const arbLayout = fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 12 }).map((sizes) => {
  const ranges: WeightRange[] = [];
  let off = 0;
  for (const s of sizes) {
    ranges.push({ offset: off, bytes: s });
    off = Math.ceil((off + s) / 256) * 256;
  }
  return { ranges, total: off };
});

describe('weight pages', () => {
  it('cover every range within the limit', () => {
    fc.assert(fc.property(arbLayout, fc.integer({ min: 0, max: 3 }), fc.double({ min: 1, max: 4, noNaN: true }), ({ ranges, total }, extra, f) => {
      // Some tensors are bound again in part (a view of the first bytes).
      const all = [...ranges, ...ranges.slice(0, extra).map((r) => ({ offset: r.offset, bytes: Math.ceil(r.bytes / 2) }))];
      const max = Math.max(...ranges.map((r) => r.bytes)) * f;
      const pages = weightPages(all, total, max);
      if (total <= max) expect(pages).toEqual([{ start: 0, end: total }]);
      for (const p of pages) expect(p.end - p.start).toBeLessThanOrEqual(Math.max(max, total <= max ? total : 0));
      for (const r of all) {
        const p = pages[pageOf(pages, r.offset, r.bytes)] as { start: number; end: number };
        expect(r.offset).toBeGreaterThanOrEqual(p.start);
        expect(r.offset + r.bytes).toBeLessThanOrEqual(p.end);
        expect(p.start % 256).toBe(0);
      }
    }), fcParams(300));
  });

  it('refuses a tensor larger than the limit', () => {
    expect(() => weightPages([{ offset: 0, bytes: 100 }, { offset: 256, bytes: 900 }], 1156, 512)).toThrow(/900 bytes is larger than this device's maxBufferSize \(512\)/);
  });
});
