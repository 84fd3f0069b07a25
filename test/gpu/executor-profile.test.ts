// Executor.profile (each dispatch in its own timed pass) and executor start-up: the profile
// covers every dispatch in bundle order with non-negative times and leaves the outputs of a
// normal run; `anybit run --profile` prints it; byte-identical kernels share one pipeline; a
// kernel that does not compile names itself.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/write.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { writeNpy } from '../../src/io/npy.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { tensor, type NdArray } from '../../src/ir/tensor.ts';
import type { GpuContext } from '../../src/runtime/device.ts';
import { Executor } from '../../src/runtime/executor.ts';
import type { BundleData } from '../../src/runtime/manifest.ts';
import { aggregateProfile } from '../../src/runtime/profile.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { arbGraph, fcParams } from '../prop/arbitraries.ts';

const feedsOf = (inputs: Record<string, NdArray>): Map<string, Float32Array> =>
  new Map(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v.data)]));

/** Profiles `bundle` on `ctx` and checks the profile against the manifest and a normal run. */
async function checkProfile(ctx: GpuContext, bundle: BundleData, feeds: Map<string, Float32Array>, timing: 'timestamp' | 'wall'): Promise<void> {
  const ex = await Executor.create(ctx, bundle);
  try {
    // Other inputs first, so a profile that skipped dispatches would read their stale outputs.
    await ex.run(new Map([...feeds].map(([k, v]) => [k, v.map((e) => 0.5 - e)])));
    const prof = await ex.profile(feeds);
    const normal = await ex.run(feeds);
    const m = bundle.manifest;
    expect(prof.timing).toBe(timing);
    expect(prof.dispatches.map((d) => [d.index, d.kernel, d.template, d.nodes, d.workgroups]))
      .toEqual(m.dispatches.map((d, i) => [i, d.kernel, d.template, d.nodes, d.workgroups]));
    for (const d of prof.dispatches) expect(Number.isFinite(d.ms) && d.ms >= 0, `dispatch ${d.index}: ${d.ms} ms`).toBe(true);
    expect([...prof.outputs.keys()]).toEqual(m.outputs.map((o) => o.name));
    for (const [name, y] of normal.outputs) expect(prof.outputs.get(name), name).toEqual(y);
  } finally {
    ex.destroy();
  }
}

/** x -> (matmul W_i, relu) x3 with same-shaped weights: three dispatches, one kernel source. */
function chain(): Graph {
  const rand = mulberry32(3);
  const b = new GraphBuilder('chain');
  let v = b.input('x', 'f32', [4, 16]);
  for (let i = 0; i < 3; i++) v = b.op('relu', [b.op('matmul', [v, b.initializer(`w${i}`, tensor('f32', [16, 16], uniformF32(256, rand)))], {})], {});
  b.output(v);
  return b.build();
}

describe.skipIf(noGpu)('Executor.profile', () => {
  it('covers every dispatch of random graphs, with outputs equal to a normal run', async () => {
    const ctx = await gpu();
    await fc.assert(fc.asyncProperty(arbGraph({ maxNodes: 5, maxElements: 1024, maxDim: 16 }), async ({ graph, inputs }) => {
      const { bundle } = await compileGraph(graph, { ctx });
      await checkProfile(ctx, bundle, feedsOf(inputs), ctx.hasTimestamps ? 'timestamp' : 'wall');
    }), fcParams(6));
  });

  it('falls back to one timed submission per dispatch without timestamp-query', async () => {
    const ctx = await gpu();
    const { bundle } = await compileGraph(chain(), { ctx });
    await checkProfile({ ...ctx, hasTimestamps: false }, bundle, new Map([['x', uniformF32(64, mulberry32(1))]]), 'wall');
  });

  it('anybit run --profile prints the slowest dispatches; --json lists every dispatch', async () => {
    const { bundle } = await compileGraph(chain(), { ctx: await gpu() });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-profile-'));
    await writeBundle(path.join(dir, 'b'), bundle);
    writeFileSync(path.join(dir, 'x.npy'), writeNpy([4, 16], uniformF32(64, mulberry32(2))));
    const run = (...extra: string[]) => spawnSync(process.execPath, ['bin/anybit.mjs', 'run', path.join(dir, 'b'), '--input', `x=${path.join(dir, 'x.npy')}`, '--repeat', '1', '--profile', ...extra], { encoding: 'utf8' });
    const j = run('--json');
    expect(j.status, j.stderr).toBe(0);
    const prof = (JSON.parse(j.stdout) as { profile: { timing: string; dispatches: { index: number; kernel: string; ms: number }[] } }).profile;
    expect(prof.dispatches.map((d) => [d.index, d.kernel])).toEqual(bundle.manifest.dispatches.map((d, i) => [i, d.kernel]));
    expect(prof.dispatches.every((d) => d.ms >= 0)).toBe(true);
    const t = run();
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/profile \((GPU timestamps|wall clock, one submission) per dispatch/);
    expect(t.stdout).toMatch(/total [\d.]+ ms over 3 dispatches/);
    expect(t.stdout).toMatch(/template\s+count\s+ms\s+share/);
  });

  it('aggregates by key, largest total first', () => {
    const d = (index: number, template: string, ms: number) => ({ index, kernel: `${template}-${index}`, template, nodes: [`n${index}`], workgroups: [1, 1, 1] as const, ms });
    expect(aggregateProfile([d(0, 'a', 1), d(1, 'b', 5), d(2, 'a', 3)], (x) => x.template)).toEqual([{ key: 'b', count: 1, ms: 5 }, { key: 'a', count: 2, ms: 4 }]);
  });
});

describe.skipIf(noGpu)('Executor start-up', () => {
  it('dispatches with byte-identical kernels share one bundle kernel and one pipeline', async () => {
    const ctx = await gpu();
    const { bundle } = await compileGraph(chain(), { ctx });
    const m = bundle.manifest;
    expect(m.dispatches.length).toBe(3);
    expect(new Set(m.dispatches.map((d) => d.kernel)).size).toBe(1);
    expect(m.kernels.length).toBe(1);
    const ex = await Executor.create(ctx, bundle);
    try {
      expect(ex.pipelineCount).toBe(1);
    } finally {
      ex.destroy();
    }
  });

  it('a kernel that does not compile is reported by its id with the WGSL error', async () => {
    const ctx = await gpu();
    const { bundle } = await compileGraph(chain(), { ctx });
    const id = bundle.manifest.kernels[0]?.id as string;
    // The compiler's own diagnostic (naming the bad identifier), not only "invalid module".
    const broken: BundleData = { ...bundle, kernels: new Map([[id, `${bundle.kernels.get(id) as string}\nfn broken() -> f32 { return undefined_thing; }\n`]]) };
    await expect(Executor.create(ctx, broken)).rejects.toThrow(new RegExp(`^WGSL for ${id} does not compile: .*undefined_thing`, 's'));
  });
});
