// `anybit compile` with the quantization policy: --act-bits, --method smooth with --calib DIR,
// --policy FILE and DSL @quant/@keep annotations on a tiny .abit model; per-layer WxAy labels
// and the compression ratio in compile's summary and `inspect`; one-line errors (exit 1) for
// bad values and calibration directories; on WebGPU, the W8A8 smooth bundle tracks the model.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { readNpy, writeNpy } from '../../src/io/npy.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { loadModel } from '../../src/cli/model-io.ts';
import { quantizeOptionsOf, withModelData } from '../../src/cli/quant-cli.ts';
import { passContext } from '../../src/passes/pass.ts';
import { defaultPipeline, runPipeline } from '../../src/passes/pipeline.ts';
import { readFileSync } from 'node:fs';
import { noGpu } from '../helpers/gpu.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-qcli-'));
const bin = path.resolve('bin/anybit.mjs');
const model = path.join(dir, 'tiny.abit');
const calib = path.join(dir, 'calib');

function anybit(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ANYBIT_TUNING_DIR: path.join(dir, 'tuning') } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n').trim() };
}

const TINY = `block linear(n_in, n_out)(x) {
  param weight: [n_out, n_in]
  return gemm(x, weight, transB=1)
}
block norm(n)(x) {
  param weight: [n]
  return rms_norm(x, weight, epsilon=0.00001)
}
model tiny()(x: f32[6, 64]) -> (y) {
  let h = norm(x, n=64) as n1
  let a = linear(h, n_in=64, n_out=96) as up
  @keep(f32)
  let b = linear(h, n_in=64, n_out=96) as gate
  @quant(bits=8, act_bits=8)
  let y = linear(silu(a) * b, n_in=96, n_out=40) as down
}
`;

/** Rows with one outlier channel (5), like transformer activations. */
const rows = (seed: number): Float32Array => Float32Array.from({ length: 6 * 64 }, (_, j) => Math.sin(j * seed * 0.37 + seed) * (j % 64 === 5 ? 20 : 1));

beforeAll(() => {
  writeFileSync(model, TINY);
  mkdirSync(calib);
  for (let i = 0; i < 3; i++) writeFileSync(path.join(calib, `x.${i}.npy`), writeNpy([6, 64], rows(i + 1)));
  writeFileSync(path.join(dir, 'x.npy'), writeNpy([6, 64], rows(7)));
  mkdirSync(path.join(dir, 'wrong'));
  writeFileSync(path.join(dir, 'wrong', 'y.0.npy'), writeNpy([6, 64], rows(1)));
  writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({ default: { group: 32 }, layers: [{ match: 'down*', bits: 6 }, { match: 'gate*', keep: false }] }));
  writeFileSync(path.join(dir, 'bad-policy.json'), '{"layers": [{"match": "up*", "act_bits": 1}]}');
});

type Layer = { node: string; bits: number; actBits: number; group: number; layout: string };
const layersOf = (stdout: string): Layer[] => (JSON.parse(stdout) as { quantized: Layer[] }).quantized;
const common = [model, '--weights', 'random:7', '--json'];

describe('anybit compile: quantization policy', () => {
  it('--bits 4 --act-bits 8 --method smooth --calib DIR: W4A8 layers, DSL @quant and @keep honoured', () => {
    const out = path.join(dir, 'w4a8');
    const r = anybit('compile', ...common, '-o', out, '--bits', '4', '--act-bits', '8', '--method', 'smooth', '--calib', calib);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ls = layersOf(r.stdout);
    expect(ls.map((l) => [l.node, l.bits, l.actBits, l.layout])).toEqual([['up.gemm', 4, 8, 'dense'], ['down.gemm', 8, 8, 'dense']]);
    const text = anybit('inspect', out).stdout;
    expect(text).toMatch(/up\.gemm\s+W4A8 per-channel \[96x64\] dense/);
    expect(text).toMatch(/down\.gemm\s+W8A8 per-channel \[40x96\] dense/);
    expect(text).toMatch(/quantized layers: 2; weights \d+ B vs \d+ B as f32 \(compression \d+\.\d\dx\)/);
  });

  it('precedence: --keep > policy rules > DSL annotation > policy default > flags', () => {
    const r = anybit('compile', ...common, '-o', path.join(dir, 'pol'), '--bits', '4', '--policy', path.join(dir, 'policy.json'), '--keep', 'up');
    expect(r.code).toBe(0);
    // up: --keep; gate: the policy's keep=false beats @keep(f32); down: policy bits 6 beats @quant(bits=8), act_bits 8 from @quant.
    expect(layersOf(r.stdout).map((l) => [l.node, l.bits, l.actBits, l.group])).toEqual([['gate.gemm', 4, 0, 32], ['down.gemm', 6, 8, 32]]);
  });

  it.each([
    [['--bits', '4', '--act-bits', '1'], /--act-bits '1': expected an integer 2\.\.8/],
    [['--bits', '4', '--calib', path.join(dir, 'wrong')], /no calibration files; expected x\.npy or x\.0\.npy/],
    [['--bits', '4', '--policy', path.join(dir, 'bad-policy.json')], /bad-policy\.json: layers\[0\]\.act_bits: expected 0 \(f32\) or an integer 2\.\.8, got 1/],
  ])('%o is one clear line, exit 1', (flags, re) => {
    const r = anybit('compile', model, '--weights', 'random:7', '-o', path.join(dir, 'never'), ...flags);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).toMatch(/^anybit: error: [^\n]+$/);
  });
});

describe.skipIf(noGpu)('anybit run: a W8A8 smooth bundle on WebGPU', () => {
  it('equals the interpreter on the quantized graph and tracks the float model', async () => {
    const out = path.join(dir, 'w8a8');
    const flags = { bits: '8', actBits: '8', method: 'smooth', calib };
    expect(anybit('compile', model, '--weights', 'random:7', '-o', out, '--bits', '8', '--act-bits', '8', '--method', 'smooth', '--calib', calib).code).toBe(0);
    const r = anybit('run', out, '--input', `x=${path.join(dir, 'x.npy')}`, '--output-dir', path.join(dir, 'y8'));
    expect(r.code).toBe(0);
    const got = readNpy(new Uint8Array(readFileSync(path.join(dir, 'y8', 'y.npy')))).data as Float32Array;
    const g = await loadModel(model, {}, { weights: 'random:7' });
    const x = { x: ndarray([6, 64], rows(7)) };
    const q = runPipeline(g, passContext(), defaultPipeline(withModelData(quantizeOptionsOf(flags) as NonNullable<ReturnType<typeof quantizeOptionsOf>>, flags, g)));
    expect(q.nodes.filter((n) => n.op === 'quantize_act').length).toBe(2);
    const ref = interpret(q, x).get('y')?.data as Float64Array;
    const fl = interpret(g, x).get('y')?.data as Float64Array;
    const max = Math.max(...Array.from(fl, Math.abs));
    const dq = Math.max(...Array.from(ref, (v, i) => Math.abs(v - (got[i] as number))));
    const df = Math.max(...Array.from(fl, (v, i) => Math.abs(v - (got[i] as number))));
    expect(dq).toBeLessThanOrEqual(2e-3 * max);
    expect(df).toBeLessThanOrEqual(5e-2 * max);
  });
});
