// `anybit compile` on .abit models with broken inputs, as a user meets them: a corrupted
// checkpoint, a checkpoint tensor of the wrong shape and a syntax error each give exactly one
// clear message (source errors as file:line:col with a caret) and exit code 1, never a stack
// trace. These fail before a GPU is needed, so they run everywhere. Bad files live in a temp dir.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-dsl-cli-'));
const at = (f: string): string => path.join(dir, f);

function compile(...args: string[]): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [path.resolve('bin/anybit.mjs'), 'compile', ...args, '-o', at('bundle')], { encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n') };
}

/** Exit code 1, exactly one `error:` line matching `pattern`, no stack frames. */
function expectOneError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.match(/error: /g) ?? []).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?(\n|$)/);
  expect(r.code).toBe(1);
}

/** A .safetensors file of zero-filled f32 tensors with the given shapes. */
function safetensors(shapes: Record<string, number[]>): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(off)]);
}

const LINEAR = `block linear(n_in, n_out)(x) {
  param weight: [n_out, n_in]
  param bias: [n_out]
  return gemm(x, weight, bias, transB=1)
}

model m(x: f32[N, 4]) -> (y) {
  let y = relu(linear(x, n_in=4, n_out=3) as fc)
}
`;

beforeAll(() => {
  const pth = readFileSync('../shared/data/rlfn/rlfn_x4.pth');
  writeFileSync(at('truncated.pth'), pth.subarray(0, 100_000));
  writeFileSync(at('not-a-zip.pth'), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251)));
  writeFileSync(at('truncated.bin'), readFileSync('../shared/data/llama2c/stories260K.bin').subarray(0, 500_000));
  writeFileSync(at('linear.abit'), LINEAR);
  writeFileSync(at('good.safetensors'), safetensors({ 'fc.weight': [3, 4], 'fc.bias': [3] }));
  writeFileSync(at('bad-shape.safetensors'), safetensors({ 'fc.weight': [3, 5], 'fc.bias': [3] }));
  const rlfn = readFileSync('examples/rlfn.abit', 'utf8');
  expect(rlfn).toContain('conv2d(x, weight, bias, strides=');
  writeFileSync(at('rlfn-missing-comma.abit'), rlfn.replace('conv2d(x, weight, bias, strides=', 'conv2d(x, weight, bias strides='));
  writeFileSync(at('syntax.abit'), LINEAR.replace('relu(linear(x, n_in=4, n_out=3) as fc)', 'relu(linear(x, n_in=4, n_out=3) as fc'));
});

describe('anybit compile with a bad .abit model or checkpoint', () => {
  it('a corrupted checkpoint: one line naming the file, exit 1', () => {
    const x = ['--input', 'x=1x3x24x24'];
    expectOneError(compile('examples/rlfn.abit', '--weights', at('truncated.pth'), ...x), /^anybit: error: '.*truncated\.pth': corrupted zip archive/m);
    expectOneError(compile('examples/rlfn.abit', '--weights', at('not-a-zip.pth'), ...x), /^anybit: error: '.*not-a-zip\.pth': not a zip checkpoint/m);
    expectOneError(compile('examples/llama.abit', '--weights', at('truncated.bin'), '--input', 'tokens=8x512', '--input', 'mask=8x8'), /^anybit: error: '.*truncated\.bin': truncated/m);
  });

  it('a checkpoint tensor of the wrong shape: file:line:col at the param, both shapes, caret', () => {
    // The control: the same model with the right shapes compiles.
    expect(compile(at('linear.abit'), '--weights', at('good.safetensors'), '--input', 'x=2x4')).toMatchObject({ code: 0, stderr: '' });
    const r = compile(at('linear.abit'), '--weights', at('bad-shape.safetensors'), '--input', 'x=2x4');
    expectOneError(r, /^.*linear\.abit:2:3: error: weight 'fc\.weight': the model declares \[3, 4\], the checkpoint has \[3, 5\]$/m);
    expect(r.stderr).toContain('    2 |   param weight: [n_out, n_in]\n      |   ^~~~');
  });

  it('a syntax error: file:line:col with the source line and a caret under the spot', () => {
    const r = compile(at('syntax.abit'), '--weights', at('good.safetensors'), '--input', 'x=2x4');
    expectOneError(r, /^.*syntax\.abit:8:48: error: expected '\)' to close call to relu, found '\}'$/m);
    expect(r.stderr).toContain(`    8 |   let y = relu(linear(x, n_in=4, n_out=3) as fc\n      | ${' '.repeat(47)}^\n`);
    // A missing comma mid-call: recovery must not cascade into more errors on the same line.
    const comma = compile(at('rlfn-missing-comma.abit'), '--weights', '../shared/data/rlfn/rlfn_x4.pth', '--input', 'x=1x3x24x24');
    expectOneError(comma, /^.*rlfn-missing-comma\.abit:(\d+):33: error: expected '\)' to close call to conv2d, found 'strides'$/m);
    expect(comma.stderr).toMatch(/\| {33}\^~~~~~~\n/);
  });
});
