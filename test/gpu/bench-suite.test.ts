// The benchmark suite as `runSuite` and as `anybit bench`: a spent time budget skips rows but
// still writes a complete report, and one small row runs end to end from the CLI with --json.
// Kept to the 1x4096·4096x4096 GEMV without peers so the file stays short on lavapipe.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decoderRows } from '../../bench/decoder.ts';
import { DEFAULT_MODEL_PATHS } from '../../bench/models.ts';
import { runSuite } from '../../bench/suite.ts';
import { parseSuiteArgs } from '../../bench/suite-options.ts';
import { noGpu } from '../helpers/gpu.ts';

describe.skipIf(noGpu)('bench suite', () => {
  it('a spent budget skips every row and still writes a complete report', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'anybit-bench-budget-'));
    const { report, files } = await runSuite(parseSuiteArgs(['--quick', '--no-ort', '--budget-s', '0.001', '--out', out]), () => undefined);
    expect(report.rows).toEqual([]);
    expect(report.models).toEqual([]);
    // 4 f32 and 4 f16 kernel rows (quick), the 3 quick model rows, then the decoder rows.
    expect(report.skipped.filter((s) => s.endsWith('time budget (--budget-s 0.001) spent'))).toHaveLength(4 + 4 + 3 + decoderRows(true, DEFAULT_MODEL_PATHS).length);
    expect(files.map((f) => path.dirname(f))).toEqual([out, out]);
    const json = JSON.parse(readFileSync(files[1] as string, 'utf8')) as { complete: boolean; device: { id: string } };
    expect(json.complete).toBe(true);
    expect(path.basename(files[0] as string)).toBe(`${json.device.id}.md`);
  });

  it('anybit bench --json runs one checked row', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'anybit-bench-cli-'));
    const r = spawnSync(process.execPath, ['bin/anybit.mjs', 'bench', '--quick', '--only', 'gemv', '--no-models', '--no-ort', '--out', out, '--json'], {
      encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { files: string[]; complete: boolean; rows: { case: string; contenders: { name: string; maxErr: number; medianMs: number }[] }[] };
    expect(j.complete).toBe(true);
    expect(j.rows.map((row) => row.case)).toEqual(['matmul f32 1x4096 · 4096x4096']);
    const [ours] = j.rows[0]?.contenders ?? [];
    expect(ours?.name).toBe('anybit');
    expect(ours?.maxErr).toBeLessThanOrEqual(1e-3);
    expect(ours?.medianMs).toBeGreaterThan(0);
    expect(j.files.every((f) => existsSync(f))).toBe(true);
    expect(readFileSync(j.files[0] as string, 'utf8')).toContain('| matmul f32 1x4096 · 4096x4096 | anybit |');
  });
});
