// The tuner never picks a wrong kernel: candidates are verified before they are timed, and a
// template whose non-default candidates are fast but wrong must lose to its correct default.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyKernelTemplate } from '../../codegen/kernel.ts';
import { KERNELS, templatesFor } from '../../codegen/kernels/index.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { TuningDb } from '../../src/tuner/db.ts';
import { selectKernels } from '../../src/tuner/search.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';

function model() {
  const rand = mulberry32(9);
  const b = new GraphBuilder('tune-me');
  const x = b.input('x', 'f32', [37, 53]);
  const w = b.initializer('w', tensor('f32', [53, 29], uniformF32(53 * 29, rand)));
  const y = b.op('relu', [b.op('matmul', [x, w])]);
  b.output(y);
  return b.build();
}

/** Same as `base`, except every non-default candidate writes nothing: fast and wrong. */
function sabotaged(base: AnyKernelTemplate): AnyKernelTemplate {
  return {
    ...base,
    name: `${base.name}-sabotaged`,
    source(p: unknown, k: Record<string, unknown>, dev: never) {
      const def = base.defaults(p, dev);
      if (JSON.stringify(k) === JSON.stringify(def)) return base.source(p, k, dev);
      const src = base.source(p, k, dev);
      const body = src.indexOf('{', src.indexOf('fn main('));
      return `${src.slice(0, body + 1)}\n  if (true) { return; }${src.slice(body + 1)}`;
    },
  } as AnyKernelTemplate;
}

describe.skipIf(noGpu)('tuner', () => {
  it('verifies every candidate, never picks a wrong one, and stores all measurements', async () => {
    const ctx = await gpu();
    const g = model();
    const lowered = lowerGraph(g);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'anybit-tune-')), 'db.json');
    const db = TuningDb.open(file, ctx.fingerprint);
    const bad = sabotaged(KERNELS.get('matmul-tiled') ?? (templatesFor(lowered.kernels[0]!.problem)[0] as AnyKernelTemplate));
    const { choices, report } = await selectKernels(g, lowered, {
      ctx, db, tune: { budgetSec: 60, maxCandidates: 6, repeats: 3, warmup: 1 }, templates: () => [bad],
    });
    const p = lowered.kernels[0]!.problem;
    expect(choices[0]!.knobs).toEqual(bad.defaults(p, ctx.info));
    expect(report.candidatesRejected).toBeGreaterThan(0);
    const rec = TuningDb.open(file, ctx.fingerprint).get(bad.name, bad.key(p), (await import('../../codegen/kernel.ts')).knobSpaceChecksum(bad));
    expect(rec).toBeDefined();
    const rejected = rec!.measurements.filter((m) => m.rejected);
    expect(rejected.length).toBeGreaterThan(0);
    for (const m of rejected) expect(m.rejected).toMatch(/wrong result/);
    expect(rec!.measurements.filter((m) => m.medianMs !== undefined).map((m) => m.knobs)).toEqual([bad.defaults(p, ctx.info)]);
  });

  it('tunes the real templates and then answers from the database', async () => {
    const ctx = await gpu();
    const g = model();
    const lowered = lowerGraph(g);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'anybit-tune-')), 'db.json');
    const db = TuningDb.open(file, ctx.fingerprint);
    const first = await selectKernels(g, lowered, { ctx, db, tune: { budgetSec: 60, maxCandidates: 5, repeats: 3, warmup: 1 } });
    expect(first.report.tuned).toBe(1);
    expect(first.report.candidatesTimed).toBeGreaterThan(1);
    const again = await selectKernels(g, lowered, { ctx, db: TuningDb.open(file, ctx.fingerprint), tune: null });
    expect(again.report.fromDb).toBe(1);
    expect(again.choices[0]!.knobs).toEqual(first.choices[0]!.knobs);
  });
});
