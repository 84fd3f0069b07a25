// RLFN x4 from examples/rlfn.abit with the real checkpoint, end to end on WebGPU: the compiled
// bundle matches the float64 interpreter on a 24x24 image, and the CLI path works as a user
// meets it (compile --weights, run --input x=img.png --png writes y.png; DSL errors print
// file:line:col with a caret, exit code 1, no stack trace).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAbitModel } from '../../dsl/program.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { decodePng, encodePng } from '../../src/io/png.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { loadCheckpoint } from '../../src/weights/index.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';

const SIZE = 24;
const image = Float32Array.from({ length: 3 * SIZE * SIZE }, (_, i) => 0.5 + 0.45 * Math.sin(i * 0.37) * Math.cos(i * 0.011));

describe.skipIf(noGpu)('RLFN x4 on WebGPU', () => {
  it('matches the float64 interpreter on a 24x24 image', async () => {
    const weights = loadCheckpoint('../shared/data/rlfn/rlfn_x4.pth');
    const { graph } = loadAbitModel('examples/rlfn.abit', { weights, inputShapes: { x: [1, 3, SIZE, SIZE] } });
    const ctx = await gpu();
    const { bundle } = await compileGraph(graph, { ctx });
    const ex = await Executor.create(ctx, bundle);
    try {
      const got = (await ex.run(new Map([['x', image]]))).outputs.get('y') as Float32Array;
      const want = interpret(graph, { x: ndarray([1, 3, SIZE, SIZE], image) }).get('y');
      expect(want?.shape).toEqual([1, 3, SIZE * 4, SIZE * 4]);
      expect(compareOutputs(got, want?.data ?? [])).toBeNull();
      // Not a trivial output: a real super-resolved image in roughly [0, 1].
      const mean = got.reduce((s, v) => s + v, 0) / got.length;
      expect(mean).toBeGreaterThan(0.3);
      expect(mean).toBeLessThan(0.7);
    } finally {
      ex.destroy();
    }
  });

  it('compiles and runs from the CLI with PNG in and out', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-rlfn-'));
    const run = (...args: string[]): { code: number; stderr: string; stdout: string } => {
      const r = spawnSync(process.execPath, [path.resolve('bin/anybit.mjs'), ...args], { encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
    };
    writeFileSync(path.join(dir, 'in.png'), encodePng([1, 3, SIZE, SIZE], image));
    const c = run('compile', 'examples/rlfn.abit', '--weights', '../shared/data/rlfn/rlfn_x4.pth', '--input', `x=1x3x${SIZE}x${SIZE}`, '-o', path.join(dir, 'b'));
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const r = run('run', path.join(dir, 'b'), '--input', `x=${path.join(dir, 'in.png')}`, '--output-dir', path.join(dir, 'out'), '--png', '--repeat', '0');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = decodePng(new Uint8Array(readFileSync(path.join(dir, 'out', 'y.png'))));
    expect(out.shape).toEqual([1, 3, SIZE * 4, SIZE * 4]);
    expect(existsSync(path.join(dir, 'out', 'y.npy'))).toBe(false);

    const bad = run('compile', 'examples/rlfn.abit', '--weights', '../shared/data/rlfn/rlfn_x4.pth', '--set', 'blocks=5', '--input', 'x=1x3x24x24', '-o', path.join(dir, 'c'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^examples\/rlfn\.abit:\d+:\d+: error: the checkpoint has 18 tensor\(s\) the model does not declare: block_6\./m);
    expect(bad.stderr).toMatch(/\n +\| +\^~+\n/);
    expect(bad.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
    const size = run('run', path.join(dir, 'b'), '--input', `x=${path.join(dir, 'out', 'y.png')}`, '--repeat', '0');
    expect(size.code).toBe(1);
    expect(size.stderr).toMatch(/is 96x96 pixels, the bundle expects 24x24; recompile with --input x=1x3x96x96/);
  });
});
