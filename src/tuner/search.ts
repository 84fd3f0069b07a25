// Kernel selection: for each kernel of a lowered model, knobs come from the tuning database
// first, then from a search when asked, then from the template's defaults. The search
// enumerates every template's knob space, deduplicates candidates by WGSL, verifies each
// against the interpreter, times the survivors and stores all measurements.

import { DEFAULT_DEVICE, enumerateKnobs, knobSpaceChecksum, type AnyKernelTemplate, type DeviceInfo, type Knobs } from '../../codegen/kernel.ts';
import { emitSource, templatesFor } from '../../codegen/kernels/index.ts';
import type { KernelChoice } from '../compile/emit.ts';
import type { KernelInstance, Lowered } from '../compile/lower.ts';
import { kernelSubgraph } from '../compile/subgraph.ts';
import type { Graph } from '../ir/graph.ts';
import type { GpuContext } from '../runtime/device.ts';
import type { Measurement, TuningDb } from './db.ts';
import { PreparedKernel } from '../runtime/kernel-runner.ts';
import { timeKernel } from './measure.ts';
import { mulberry32 } from '../util/random.ts';
import { checkOutput, referenceFor } from './verify.ts';

type Templates = (p: KernelInstance['problem']) => AnyKernelTemplate[];

export interface TuneOptions {
  readonly budgetSec: number;
  /** Most candidates tried per template for one problem (defaults always included). */
  readonly maxCandidates?: number;
  readonly warmup?: number;
  readonly repeats?: number;
  /** Re-tune problems the database already has. */
  readonly force?: boolean;
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

export interface SelectOptions {
  readonly ctx: GpuContext | null;
  readonly db: TuningDb | null;
  readonly tune: TuneOptions | null;
  /** Which templates serve a problem (default: the kernel registry). */
  readonly templates?: (p: KernelInstance['problem']) => AnyKernelTemplate[];
}

export interface SelectionReport {
  fromDb: number;
  tuned: number;
  defaults: number;
  candidatesTimed: number;
  candidatesRejected: number;
  budgetExhausted: boolean;
}

function defaultChoice(p: KernelInstance['problem'], dev: DeviceInfo, templates: Templates): KernelChoice {
  for (const t of templates(p)) {
    const knobs = t.defaults(p, dev) as Knobs;
    if (t.valid(p, knobs, dev) === true) return { template: t, knobs };
  }
  throw new Error(`no kernel template can run a ${p.kind} problem on this device`);
}

function fromDb(db: TuningDb, p: KernelInstance['problem'], dev: DeviceInfo, templates: Templates): KernelChoice | undefined {
  let best: { c: KernelChoice; ms: number } | undefined;
  for (const t of templates(p)) {
    const rec = db.get(t.name, t.key(p), knobSpaceChecksum(t));
    if (rec && t.valid(p, rec.knobs, dev) === true && (!best || rec.medianMs < best.ms)) best = { c: { template: t, knobs: rec.knobs }, ms: rec.medianMs };
  }
  return best?.c;
}

function candidatesOf(t: AnyKernelTemplate, p: KernelInstance['problem'], dev: DeviceInfo, max: number): Knobs[] {
  const all = enumerateKnobs(t, p, dev) as Knobs[];
  const def = t.defaults(p, dev) as Knobs;
  const rest = all.filter((k) => JSON.stringify(k) !== JSON.stringify(def));
  const rand = mulberry32(0x5eed);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rest[i], rest[j]] = [rest[j] as Knobs, rest[i] as Knobs];
  }
  return [...(t.valid(p, def, dev) === true ? [def] : []), ...rest.slice(0, max - 1)];
}

async function tuneOne(ctx: GpuContext, g: Graph, k: KernelInstance, db: TuningDb, o: TuneOptions, deadline: number, report: SelectionReport, templates: Templates): Promise<void> {
  const p = k.problem;
  const ref = referenceFor(kernelSubgraph(g, k));
  const seen = new Set<string>();
  for (const t of templates(p)) {
    const measurements: Measurement[] = [];
    let best: { knobs: Knobs; ms: number } | undefined;
    for (const knobs of candidatesOf(t, p, ctx.info, o.maxCandidates ?? 12)) {
      if (performance.now() > deadline && best) { report.budgetExhausted = true; break; }
      const wgsl = emitSource(t, p, knobs, ctx.info);
      if (seen.has(wgsl)) continue;
      seen.add(wgsl);
      let h: PreparedKernel | undefined;
      try {
        h = await PreparedKernel.create(ctx, wgsl, t.launch(p, knobs), ref.inputs, [ref.expected.length], t.name);
        const [out] = await h.run();
        const bad = checkOutput(out as Float32Array, ref);
        if (bad) throw new Error(`wrong result: ${bad}`);
        const timing = await timeKernel(ctx, h, o.warmup ?? 3, o.repeats ?? 9);
        measurements.push({ knobs, medianMs: timing.medianMs, spreadMs: timing.spreadMs });
        report.candidatesTimed++;
        if (!best || timing.medianMs < best.ms) best = { knobs, ms: timing.medianMs };
      } catch (e) {
        measurements.push({ knobs, rejected: (e as Error).message.split('\n')[0] ?? 'error' });
        report.candidatesRejected++;
      } finally {
        h?.destroy();
      }
    }
    if (best) {
      db.put({ template: t.name, problemKey: t.key(p), checksum: knobSpaceChecksum(t), knobs: best.knobs, medianMs: best.ms, measurements, updated: new Date().toISOString() });
    }
  }
  await db.save();
}

/** Chooses (template, knobs) for every kernel; tunes first when `opts.tune` is set. */
export async function selectKernels(g: Graph, lowered: Lowered, opts: SelectOptions): Promise<{ choices: KernelChoice[]; report: SelectionReport }> {
  const dev = opts.ctx?.info ?? DEFAULT_DEVICE;
  const report: SelectionReport = { fromDb: 0, tuned: 0, defaults: 0, candidatesTimed: 0, candidatesRejected: 0, budgetExhausted: false };
  const { ctx, db, tune } = opts;
  const templates = opts.templates ?? templatesFor;
  if (tune && ctx && db) {
    const deadline = performance.now() + tune.budgetSec * 1000;
    const unique = new Map<string, KernelInstance>();
    for (const k of lowered.kernels) {
      const sig = templates(k.problem).map((t) => `${t.name}:${t.key(k.problem)}`).join('|');
      if (!unique.has(sig) && (tune.force || !fromDb(db, k.problem, dev, templates))) unique.set(sig, k);
    }
    let done = 0;
    for (const k of unique.values()) {
      tune.onProgress?.(done, unique.size, k.nodes[0]?.name ?? k.problem.kind);
      if (performance.now() > deadline) { report.budgetExhausted = true; break; }
      await tuneOne(ctx, g, k, db, tune, deadline, report, templates);
      report.tuned++;
      done++;
    }
    tune.onProgress?.(done, unique.size, 'done');
  }
  const choices = lowered.kernels.map((k) => {
    const c = db ? fromDb(db, k.problem, dev, templates) : undefined;
    if (c) report.fromDb++;
    else report.defaults++;
    return c ?? defaultChoice(k.problem, dev, templates);
  });
  return { choices, report };
}
