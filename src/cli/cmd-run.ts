// `anybit run`: load a bundle, run it on the given .npy inputs, write one .npy per output and
// report time to first inference and steady-state latency (median over --repeat runs). With
// --profile, one more (warm) run times every dispatch alone: a table of the slowest, all in --json.

import path from 'node:path';
import { writeNpy } from '../io/npy.ts';
import { encodePng, isImageShape } from '../io/png.ts';
import { loadBundle } from '../runtime/bundle-loader.ts';
import { Executor } from '../runtime/executor.ts';
import { aggregateProfile, formatDispatchTable, formatGroupTable } from '../runtime/profile.ts';
import { summarize } from '../tuner/measure.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { UserError } from './errors.ts';
import { gpu, type Out } from './context.ts';
import { readInputFiles, safeFileName } from './model-io.ts';

/** Dispatches listed in the text table of --profile (--json lists every one). */
const PROFILE_TOP = 15;

export async function cmdRun(dir: string, o: { input: string[]; outputDir?: string; repeat: string; json?: boolean; png?: boolean; profile?: boolean }, out: Out): Promise<void> {
  const repeat = Number(o.repeat);
  if (!Number.isInteger(repeat) || repeat < 0) throw new UserError(`--repeat '${o.repeat}': expected a non-negative integer`);
  const bundle = await loadBundle(dir);
  const inputs = await readInputFiles(o.input, bundle.manifest.inputs);
  const t0 = performance.now();
  const ctx = await gpu(false);
  if (!ctx) throw new Error('unreachable: gpu(false) returned null');
  const ex = await Executor.create(ctx, bundle);
  try {
    const first = await ex.run(inputs);
    const firstMs = performance.now() - t0;
    const wall: number[] = [];
    const gpuT: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const r = await ex.run(inputs);
      wall.push(r.wallMs);
      if (r.gpuMs !== null) gpuT.push(r.gpuMs);
    }
    const files: Record<string, string> = {};
    if (o.outputDir) {
      for (const spec of bundle.manifest.outputs) {
        const data = first.outputs.get(spec.name) as Float32Array;
        const png = !!o.png && isImageShape(spec.shape);
        const file = path.join(o.outputDir, `${safeFileName(spec.name)}.${png ? 'png' : 'npy'}`);
        await writeFileAtomic(file, png ? encodePng(spec.shape, data) : writeNpy(spec.shape, data));
        files[spec.name] = file;
      }
    }
    // After the first run, so lavapipe's first-dispatch compiles are not counted as kernel time.
    const prof = o.profile ? await ex.profile(inputs) : null;
    const w = wall.length ? summarize(wall) : null;
    const gt = gpuT.length ? summarize(gpuT) : null;
    out.log(`first inference (device, pipelines, run): ${firstMs.toFixed(1)} ms`);
    if (w) out.log(`steady state over ${repeat} runs: median ${w.medianMs.toFixed(3)} ms wall${gt ? `, ${gt.medianMs.toFixed(3)} ms GPU` : ''} (p10-p90 spread ${w.medianMs ? w.spreadMs.toFixed(3) : '0'} ms)`);
    for (const [name, file] of Object.entries(files)) out.log(`wrote ${name} -> ${file}`);
    if (prof) {
      out.log(`profile (${prof.timing === 'timestamp' ? 'GPU timestamps' : 'wall clock, one submission'} per dispatch; each dispatch in its own pass):`);
      for (const line of formatDispatchTable(prof.dispatches, PROFILE_TOP)) out.log(`  ${line}`);
      for (const line of formatGroupTable(aggregateProfile(prof.dispatches, (d) => d.template), 'template')) out.log(`  ${line}`);
    }
    out.result({
      bundle: dir, firstInferenceMs: firstMs, repeat, medianWallMs: w?.medianMs ?? null, medianGpuMs: gt?.medianMs ?? null,
      spreadWallMs: w?.spreadMs ?? null, outputs: files, device: ctx.fingerprint.id,
      ...(prof ? { profile: { timing: prof.timing, dispatches: prof.dispatches } } : {}),
    });
  } finally {
    ex.destroy();
  }
}
