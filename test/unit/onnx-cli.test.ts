// The CLI on ONNX files: inspect binds shapes at import, export writes a model onnxruntime
// runs, and a model needing shapes fails with one line and exit code 1 (no stack trace).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxDiff, runOrt } from '../helpers/onnx-build.ts';
import { onnxCases } from '../helpers/onnx-cases.ts';

const cli = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, ['bin/anybit.mjs', ...args], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('anybit on .onnx files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'anybit-onnx-cli-'));
  const c = onnxCases()[4]; // Shape -> ... -> Reshape: needs bound shapes
  const model = path.join(dir, 'reshape.onnx');
  writeFileSync(model, c?.model as Uint8Array);

  it('inspect with --input folds the shape subgraph; without it, one clear error line', () => {
    const ok = cli('inspect', model, '--input', 'x=3x6x7', '--json');
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.out) as { nodes: { op: string }[] }).nodes.map((n) => n.op)).toEqual(['reshape', 'transpose']);
    const bad = cli('inspect', model);
    expect(bad.code).toBe(1);
    expect(bad.err.trim().split('\n')).toEqual(["anybit: error: node 'shape_0' (Shape): needs the shape of 'x', which has dynamic dims [n,6,7]; bind them (--input NAME=DIMxDIM or inputShapes)"]);
  });

  it('export writes an ONNX model that onnxruntime runs like the original', async () => {
    const out = path.join(dir, 'again.onnx');
    expect(cli('export', model, '--input', 'x=3x6x7', '-o', out).code).toBe(0);
    const inputs = c?.inputs ?? {};
    const want = [...(await runOrt(c?.model as Uint8Array, inputs)).values()][0];
    const got = [...(await runOrt(new Uint8Array(readFileSync(out)), inputs)).values()][0];
    expect(maxDiff(got?.data ?? [], want?.data ?? []).maxAbs).toBe(0);
  });
});
