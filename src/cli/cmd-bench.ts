// `anybit bench`: the benchmark suite (bench/suite.ts, `runSuite`) on this machine's adapter,
// against onnxruntime-node when it loads. The suite is imported on demand so other commands
// never load it. Reports land in --out (<device>.md and .json), rewritten after every row.

import type { RawSuiteOptions } from '../../bench/suite-options.ts';
import type { Out } from './context.ts';

export interface BenchFlags {
  quick?: boolean;
  only?: string;
  models: boolean;
  ort: boolean;
  budgetS?: string;
  out?: string;
  ocrDir?: string;
  rlfnWeights?: string;
  probe?: boolean;
  json?: boolean;
}

export async function cmdBench(o: BenchFlags, out: Out): Promise<void> {
  const { suiteOptions } = await import('../../bench/suite-options.ts');
  const raw: RawSuiteOptions = { quick: o.quick, only: o.only, models: o.models, ort: o.ort, budgetS: o.budgetS, out: o.out, ocrDir: o.ocrDir, rlfnWeights: o.rlfnWeights, probe: o.probe };
  const opts = suiteOptions(raw);
  const { probeAdapter, runSuite } = await import('../../bench/suite.ts');
  if (opts.probe) {
    const p = await probeAdapter();
    out.log(`${p.fingerprint.description} (${p.fingerprint.id})`);
    out.log(`features: ${p.fingerprint.features.join(' ') || 'none'}`);
    out.log(`WGSL language features: ${p.wgslFeatures.join(' ') || 'none'}`);
    out.result(p);
    return;
  }
  // As `npx tsx bench/suite.ts` does: cold shader compiles for every contender (unless set).
  (await import('../../bench/first-run.ts')).coldShaderCache();
  const { report, files } = await runSuite(opts, (line) => out.log(line));
  out.result({ files, ...report });
}
