// The benchmark suite's report: the markdown table (bench/results/<device>.md) and the JSON
// document beside it. Pure formatting of measured rows; a partial run (budget spent, peer
// missing) is reported as such under "Skipped", never silently shortened.

import os from 'node:os';
import type { DeviceFingerprint } from '../src/runtime/device.ts';
import type { ModelContender, ModelRow } from './models.ts';
import type { Roofline } from './roofline.ts';

/** A kernel-row contender: the model rows' shape, with the sampled relative error as `maxErr`. */
export type Contender = Omit<ModelContender, 'relErr'> & { readonly maxErr: number };

export interface Row {
  readonly case: string;
  readonly flops: number;
  readonly bytes: number;
  readonly contenders: Contender[];
}

export interface SuiteReport {
  readonly device: DeviceFingerprint;
  /** onnxruntime-node's version, or null when it was not loaded. */
  readonly ortVersion: string | null;
  readonly roofline: Roofline;
  readonly rows: readonly Row[];
  readonly models: readonly ModelRow[];
  readonly skipped: readonly string[];
  /** Seconds from the suite's start to this report. */
  readonly elapsedS: number;
  readonly complete: boolean;
  /** The Mesa shader-cache setting the run had (bench/first-run.ts), stated in the header. */
  readonly shaderCache?: string;
}

export function reportJson(r: SuiteReport): string {
  const { device, ortVersion, roofline, rows, models, skipped, elapsedS, complete, shaderCache } = r;
  return `${JSON.stringify({ date: new Date().toISOString(), device, versions: { node: process.version, ort: ortVersion }, shaderCache: shaderCache ?? null, roofline, rows, models, skipped, elapsedS, complete }, null, 1)}\n`;
}

export function reportMarkdown(r: SuiteReport): string {
  const { roofline: roof, rows, models, skipped } = r;
  const lines = [
    `# Benchmarks on ${r.device.description} (${r.device.id})`, '',
    `Date ${new Date().toISOString().slice(0, 10)}; node ${process.version}; onnxruntime-node ${r.ortVersion ?? 'not loaded'}; ${os.cpus().length} CPU cores; ${r.elapsedS.toFixed(0)} s${r.complete ? '' : ' (incomplete: run still going or stopped)'}.`,
    `Roofline (measured): copy ${roof.copyGBs.toFixed(2)} GB/s (read + write), FMA ${roof.fmaGflops.toFixed(1)} GFLOP/s.`,
    ...(r.shaderCache ? [`${r.shaderCache}.`] : []), '',
    'Times are medians of wall time per inference with inputs in host memory and outputs read back (the same for every contender); `gpu` is our compute pass alone (timestamp-query). Ratio = ours / peer (below 1 is faster), from the wall-time medians. GB/s, % copy roof and GFLOP/s use `gpu ms` where there is one (the roofline is kernel time too), else the wall median.', '',
    '| case | contender | median ms | spread ms | gpu ms | first run ms | GB/s | % copy roof | GFLOP/s | ratio vs it |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const ours = row.contenders.find((c) => c.name === 'anybit');
    for (const c of row.contenders) {
      const ms = c.gpuMs ?? c.medianMs;
      const gbs = row.bytes / (ms * 1e6);
      const ratio = ours && c !== ours ? (ours.medianMs / c.medianMs).toFixed(2) : '';
      lines.push(`| ${row.case} | ${c.name} | ${c.medianMs.toFixed(2)} | ${c.spreadMs.toFixed(2)} | ${c.gpuMs?.toFixed(2) ?? ''} | ${c.firstMs.toFixed(0)} | ${gbs.toFixed(2)} | ${((100 * gbs) / roof.copyGBs).toFixed(0)}% | ${(row.flops / (ms * 1e6)).toFixed(1)} | ${ratio} |`);
    }
  }
  if (models.length) {
    lines.push('', '## Models', '', 'Same input for every contender; each output checked against onnxruntime-node CPU (max|Δ| ≤ 1e-3·max|ref|) before its time counts; compressed rows (W4, W4A8, ...) are ours alone, checked as their note says, with the contenders of their float row as "(f32)" references.',
      '', 'First run ms: anybit = load the compiled bundle from disk (manifest, WGSL, weights.bin) + Executor.create (buffers, weight upload, pipeline creation) + first inference, on an already open WebGPU device; the bundle is compiled ahead of time, and that ONNX/IR -> bundle compile (import excluded) is the separate "compile ms" column. ort-* = InferenceSession.create from the ONNX bytes (parse, graph optimization, provider and kernel setup) + first inference. Kernel rows above: first run ms = compile or session creation + first run.', '',
      '| model | contender | median ms | spread ms | gpu ms | first run ms | compile ms | peak buffer bytes | rel. error | ours / it |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const m of models) {
      const ours = m.contenders.find((c) => c.name === 'anybit');
      for (const c of m.contenders) {
        const ratio = ours && c !== ours ? (ours.medianMs / c.medianMs).toFixed(2) : '';
        lines.push(`| ${m.model} | ${c.name} | ${c.medianMs.toFixed(1)} | ${c.spreadMs.toFixed(1)} | ${c.gpuMs?.toFixed(1) ?? ''} | ${c.firstMs.toFixed(0)} | ${c.compileMs?.toFixed(0) ?? ''} | ${c.peakBytes ?? ''} | ${c.relErr.toExponential(1)} | ${ratio} |`);
      }
      if (m.error) lines.push(`| ${m.model} | note | ${m.error} | | | | | | | |`);
      if (m.note) lines.push(`| ${m.model} | note | ${m.note} | | | | | | | |`);
    }
  }
  if (skipped.length) lines.push('', 'Skipped:', ...skipped.map((s) => `- ${s}`));
  return `${lines.join('\n')}\n`;
}
