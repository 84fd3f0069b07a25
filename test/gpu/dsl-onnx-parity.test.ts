// The DSL's acceptance check against an independent runtime: a .abit model with its real
// checkpoint, compiled to WebGPU, equals the same graph exported with `anybit export` and run
// in onnxruntime-node (CPU): max|Δ| ≤ 1e-3·max|ref|. RLFN x4 at 1x3x24x24, stories260K at T=8.
// Full-size and whole-corpus figures are scripts' work (scripts/llama-nll.ts --gpu).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAbitModel } from '../../dsl/program.ts';
import { llamaInputs } from '../../scripts/llama-generate.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { loadCheckpoint } from '../../src/weights/index.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';
import { maxDiff, runOrt } from '../helpers/onnx-build.ts';

type Feeds = Record<string, { shape: readonly number[]; data: Float32Array }>;

const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-dsl-onnx-'));

/** `anybit export` as a user runs it; returns the ONNX bytes. */
function exportCli(model: string, weights: string, shapes: Record<string, readonly number[]>): Uint8Array {
  const file = path.join(dir, `${path.basename(model, '.abit')}.onnx`);
  const args = [path.resolve('bin/anybit.mjs'), 'export', model, '--weights', weights, '-o', file];
  for (const [k, s] of Object.entries(shapes)) args.push('--input', `${k}=${s.join('x')}`);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n')).toBe('');
  expect(r.status).toBe(0);
  return new Uint8Array(readFileSync(file));
}

/** WebGPU vs onnxruntime on one output; returns max|Δ| / max|ref| (logged for the record). */
async function parity(model: string, weightsFile: string, shapes: Record<string, readonly number[]>, feeds: Feeds, output: string): Promise<number> {
  const { graph } = loadAbitModel(model, { weights: loadCheckpoint(weightsFile), inputShapes: shapes });
  const ctx = await gpu();
  const { bundle } = await compileGraph(graph, { ctx, inputShapes: shapes });
  const ex = await Executor.create(ctx, bundle);
  let got: Float32Array;
  try {
    got = (await ex.run(new Map(Object.entries(feeds).map(([k, v]) => [k, v.data])))).outputs.get(output) as Float32Array;
  } finally {
    ex.destroy();
  }
  const ref = (await runOrt(exportCli(model, weightsFile, shapes), feeds)).get(output);
  expect(ref, `onnxruntime output '${output}'`).toBeDefined();
  expect(got.length).toBe(ref?.data.length);
  const { maxAbs, maxRef } = maxDiff(got, ref?.data ?? []);
  console.log(`${path.basename(model)}: WebGPU vs onnxruntime max|Δ| = ${maxAbs.toExponential(3)}, max|ref| = ${maxRef.toFixed(4)}, ratio ${(maxAbs / maxRef).toExponential(3)}`);
  expect(maxRef).toBeGreaterThan(0);
  return maxAbs / maxRef;
}

describe.skipIf(noGpu)('.abit models: WebGPU equals ONNX export in onnxruntime-node', () => {
  it('RLFN x4 with rlfn_x4.pth at 1x3x24x24', async () => {
    const S = 24;
    const x = Float32Array.from({ length: 3 * S * S }, (_, i) => 0.5 + 0.45 * Math.sin(i * 0.37) * Math.cos(i * 0.011));
    const ratio = await parity('examples/rlfn.abit', '../shared/data/rlfn/rlfn_x4.pth', { x: [1, 3, S, S] }, { x: { shape: [1, 3, S, S], data: x } }, 'y');
    expect(ratio).toBeLessThanOrEqual(1e-3);
  }, 120_000);

  it('LLaMA (stories260K) logits at T=8', async () => {
    const T = 8;
    const V = 512;
    // BOS then a few ordinary vocabulary ids: real attention, rotary and MLP paths.
    const feeds = llamaInputs([1, 403, 2462 % V, 261, 1022 % V, 29, 350, 411], T);
    const ratio = await parity('examples/llama.abit', '../shared/data/llama2c/stories260K.bin', { tokens: [T, V], mask: [T, T] }, feeds, 'logits');
    expect(ratio).toBeLessThanOrEqual(1e-3);
  }, 120_000);
});
