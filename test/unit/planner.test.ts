import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planBuffers, type Lifetime } from '../../src/runtime/planner.ts';

const seed = Number(process.env.ANYBIT_SEED ?? 42);

const arbLifetimes = fc.array(
  fc.record({ bytes: fc.integer({ min: 4, max: 4096 }), def: fc.integer({ min: -1, max: 30 }), len: fc.integer({ min: 0, max: 10 }), out: fc.boolean() }),
  { minLength: 1, maxLength: 40 },
).map((xs) => xs.map((x, i): Lifetime => ({ name: `v${i}`, bytes: x.bytes, def: x.def, lastUse: x.out && i % 5 === 0 ? Infinity : x.def + x.len })));

describe('planBuffers', () => {
  it('never lets two overlapping lifetimes share a slot, and every slot is big enough', () => {
    fc.assert(fc.property(arbLifetimes, (vals) => {
      const plan = planBuffers(vals);
      for (const v of vals) {
        const s = plan.slotOf.get(v.name) as number;
        expect(plan.slotBytes[s]).toBeGreaterThanOrEqual(v.bytes);
      }
      for (const a of vals) {
        for (const b of vals) {
          if (a === b || plan.slotOf.get(a.name) !== plan.slotOf.get(b.name)) continue;
          // Same slot: one must be dead (last read) strictly before the other is written.
          expect(a.lastUse < b.def || b.lastUse < a.def).toBe(true);
        }
      }
    }), { seed, numRuns: 300 });
  });

  it('reuses memory along a chain', () => {
    const chain: Lifetime[] = Array.from({ length: 10 }, (_, i) => ({ name: `t${i}`, bytes: 1000, def: i - 1, lastUse: i }));
    const plan = planBuffers(chain);
    expect(plan.slotBytes.length).toBe(2);
    expect(plan.slotBytes.reduce((a, b) => a + b, 0)).toBe(2000);
  });

  it('never puts a kernel input and its output in one slot', () => {
    // t1 is read by step 1, which writes t2: they must not share.
    const plan = planBuffers([
      { name: 't1', bytes: 8, def: 0, lastUse: 1 },
      { name: 't2', bytes: 8, def: 1, lastUse: 2 },
    ]);
    expect(plan.slotOf.get('t1')).not.toBe(plan.slotOf.get('t2'));
  });
});
