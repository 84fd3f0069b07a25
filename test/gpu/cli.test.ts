// The CLI as a user meets it: help, exit codes, one clear line for each kind of bad input
// (never a stack trace), and the compile -> run -> tune round trip with --json output.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMlp } from '../../examples/models.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { bindGraph } from '../../src/ir/bind.ts';
import { saveGraph } from '../../src/ir/serialize.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { readNpy, writeNpy } from '../../src/io/npy.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { noGpu } from '../helpers/gpu.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-cli-'));
const bin = path.resolve('bin/anybit.mjs');

function anybit(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ANYBIT_TUNING_DIR: path.join(dir, 'tuning') } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

function expectCleanError(r: { code: number; stderr: string }, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).toMatch(/^anybit: error: /m);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
}

const x = Float32Array.from({ length: 4 * 64 }, (_, i) => Math.cos(i));

beforeAll(async () => {
  await saveGraph(path.join(dir, 'mlp.abir'), buildMlp());
  writeFileSync(path.join(dir, 'x.npy'), writeNpy([4, 64], x));
  writeFileSync(path.join(dir, 'x64.npy'), writeNpy([4, 64], Float64Array.from(x)));
  writeFileSync(path.join(dir, 'bad-shape.npy'), writeNpy([2, 64], x.slice(0, 128)));
  writeFileSync(path.join(dir, 'unknown-op.abir'), 'graph m(%x: f32[2,2]) -> (%y) {\n  %y = frobnicate(%x)\n}\n');
  writeFileSync(path.join(dir, 'mismatch.abir'), 'graph m(%a: f32[2,3], %b: f32[4,5]) -> (%y) {\n  %y = matmul(%a, %b)\n}\n');
});

describe('anybit CLI without a GPU', () => {
  it('prints help with every command and the exit codes', () => {
    const r = anybit('--help');
    expect(r.code).toBe(0);
    for (const c of ['compile', 'run', 'tune', 'inspect', 'Exit codes']) expect(r.stdout).toContain(c);
    expect(anybit().code).toBe(2);
    expect(anybit('frob').code).toBe(2);
  });

  it('rejects an unknown op with file:line:col and a caret', () => {
    const r = anybit('inspect', path.join(dir, 'unknown-op.abir'));
    expectCleanError(r, 1, /unknown-op\.abir:2:\d+: .*frobnicate/);
    expect(r.stderr).toContain('^');
  });

  it('rejects a shape mismatch naming the op and the shapes', () => {
    expectCleanError(anybit('compile', path.join(dir, 'mismatch.abir'), '-o', path.join(dir, 'never')), 1, /matmul.*K=3.*K=4/);
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('rejects a missing model, an unbindable --input and a bad --input spec', () => {
    expectCleanError(anybit('compile', path.join(dir, 'nope.abir'), '-o', path.join(dir, 'b')), 1, /does not exist/);
    expectCleanError(anybit('compile', path.join(dir, 'mlp.abir'), '-o', path.join(dir, 'b'), '--input', 'x=4x65'), 1, /dim 1 is fixed at 64, got 65/);
    expectCleanError(anybit('compile', path.join(dir, 'mlp.abir'), '-o', path.join(dir, 'b'), '--input', 'x=4by64'), 1, /expected NAME=DIMxDIM/);
    expectCleanError(anybit('compile', path.join(dir, 'mlp.abir'), '-o', path.join(dir, 'b')), 1, /unbound dims: x: \[batch,64\]/);
  });

  it('inspect prints the per-layer table', () => {
    const r = anybit('inspect', path.join(dir, 'mlp.abir'), '--input', 'x=4x64');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fc1\s+gemm\s+f32\[4,128\]\s+8320\s+65536/);
    const j = JSON.parse(anybit('inspect', path.join(dir, 'mlp.abir'), '--input', 'x=4x64', '--json').stdout) as { parameters: number };
    expect(j.parameters).toBe(64 * 128 + 128 + 128 * 96 + 96 + 96 * 10 + 10);
  });
});

describe.skipIf(noGpu)('anybit CLI on WebGPU', () => {
  const bundle = path.join(dir, 'mlp.bundle');

  it('compiles, runs and matches the interpreter; tune keeps the bundle correct', () => {
    const c = anybit('compile', path.join(dir, 'mlp.abir'), '-o', bundle, '--input', 'x=4x64', '--json');
    expect(c.code).toBe(0);
    expect((JSON.parse(c.stdout) as { dispatches: number }).dispatches).toBe(3);
    const out = path.join(dir, 'out');
    const r = anybit('run', bundle, '--input', `x=${path.join(dir, 'x.npy')}`, '--output-dir', out, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outputs: { y: path.join(out, 'y.npy') } });
    const g = bindGraph(buildMlp(), { x: [4, 64] });
    const want = interpret(g, { x: ndarray([4, 64], x) }).get('y')!;
    const got = readNpy(new Uint8Array(readFileSync(path.join(out, 'y.npy'))));
    expect(got.shape).toEqual([4, 10]);
    expect(compareOutputs(got.data as Float32Array, want.data)).toBeNull();

    const t = anybit('tune', bundle, '--budget', '30', '--candidates', '2', '--json');
    expect(t.code).toBe(0);
    const tj = JSON.parse(t.stdout) as { selection: { tuned: number; candidatesTimed: number }; beforeMs: number; afterMs: number };
    expect(tj.selection.tuned).toBeGreaterThanOrEqual(1);
    expect(tj.selection.candidatesTimed).toBeGreaterThanOrEqual(2);
    const again = anybit('run', bundle, '--input', `x=${path.join(dir, 'x.npy')}`, '--output-dir', path.join(dir, 'out2'));
    expect(again.code).toBe(0);
    const got2 = readNpy(new Uint8Array(readFileSync(path.join(dir, 'out2', 'y.npy'))));
    expect(compareOutputs(got2.data as Float32Array, want.data)).toBeNull();
    expect(JSON.parse(readFileSync(path.join(bundle, 'manifest.json'), 'utf8')).tunedFor).not.toBeNull();
  }, 300_000);

  it('reports bad run inputs in one line: missing file, wrong dtype, wrong shape, not a bundle', () => {
    if (!existsSync(bundle)) expect(anybit('compile', path.join(dir, 'mlp.abir'), '-o', bundle, '--input', 'x=4x64').code).toBe(0);
    expectCleanError(anybit('run', bundle, '--input', `x=${path.join(dir, 'missing.npy')}`), 1, /cannot read '.*missing\.npy' \(ENOENT\)/);
    expectCleanError(anybit('run', bundle, '--input', `x=${path.join(dir, 'x64.npy')}`), 1, /dtype <f8, the model expects float32/);
    expectCleanError(anybit('run', bundle, '--input', `x=${path.join(dir, 'bad-shape.npy')}`), 1, /shape \[2,64\], the model expects \[4,64\]/);
    expectCleanError(anybit('run', bundle), 1, /missing --input for x/);
    expectCleanError(anybit('run', dir, '--input', `x=${path.join(dir, 'x.npy')}`), 1, /not a bundle/);
  });
});
