// Golden DSL diagnostics: each case is a small broken .abit program; the formatted report
// (file:line:col: error: message, source line, caret) is pinned in test/golden/dsl/*.txt.
// UPDATE_GOLDEN=1 rewrites the files; review the diff before committing it.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileAbit, formatCompiled } from '../../dsl/program.ts';
import { tensor, type Tensor } from '../../src/ir/tensor.ts';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'dsl');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const CONV = `block conv(c_in, c_out)(x) {
  param weight: [c_out, c_in, 3, 3]
  param bias: [c_out]
  return conv2d(x, weight, bias, pads=[1, 1, 1, 1])
}
`;

const ckpt = new Map<string, Tensor>([
  ['stem.weight', tensor('f32', [8, 3, 3, 3], new Float32Array(216))],
  ['stem.bias', tensor('f32', [4], new Float32Array(4))],
  ['head.scale', tensor('f32', [1], new Float32Array(1))],
]);

interface Case { name: string; src: string; opts?: Parameters<typeof compileAbit>[2] }

const CASES: Case[] = [
  { name: 'unclosed-call', src: 'model m(x: f32[1, 3, 8, 8]) -> (y) {\n  let y = conv2d(x, w, strides=[2, 2]\n}\n' },
  { name: 'several-syntax-errors', src: 'model m(x: f32[1]) -> (y) {\n  let y = relu(x))\n  let = 3\n}\nblock b(x) { return [1, 2 }\n' },
  { name: 'bad-character', src: 'model m(x: f32[1]) -> (y) {\n  let y = relu(x) $ 2\n}\n' },
  { name: 'unknown-names', src: 'model m(x: f32[1, 4]) -> (y) {\n  let y = rellu(x)\n  let z = relu(xx)\n  y = sigmoid(y, alpah=2)\n}\n' },
  { name: 'shape-mismatch', src: 'model m(a: f32[2, 3], b: f32[4, 5]) -> (y) {\n  let y = matmul(a, b)\n  let z = a + b\n}\n' },
  { name: 'attr-types', src: 'model m(x: f32[1, 3, 8, 8]) -> (y) {\n  param w: [4, 3, 3, 3]\n  let y = conv2d(x, w, pads=1, group="two")\n}\n' },
  { name: 'unbound-dim', src: 'model m(x: f32[1, 3, H, W]) -> (y) {\n  let y = resize(x, mode="linear", sizes=[1, 3, H * 2, W * 2])\n}\n' },
  { name: 'block-misuse', src: `${CONV}model m(x: f32[1, 3, 8, 8]) -> (y) {\n  let y = conv(x, c_in=3)\n  let z = conv(x, x, c_in=3, c_out=4, k=3)\n}\n` },
  {
    name: 'weights-mismatch',
    src: `${CONV}model m(x: f32[1, 3, 8, 8]) -> (y) {\n  let y = conv(x, c_in=3, c_out=4) as stem\n  let z = conv(y, c_in=4, c_out=4) as body\n  y = z\n}\n`,
    opts: { weights: ckpt },
  },
  { name: 'set-and-input', src: 'model m(c = 4)(x: f32[1, c]) -> (y) {\n  let y = relu(x)\n}\n', opts: { set: { channels: 3 }, inputShapes: { x: [1, 5], z: [1] } } },
  { name: 'annotations', src: 'model m(x: f32[1, 4]) -> (y) {\n  @quant(bits=4, grup=128)\n  @fast\n  let y = relu(x)\n}\n' },
  { name: 'no-outputs', src: 'model m(x: f32[1, 4]) {\n  let y = relu(x)\n  undefined_name = y\n}\n' },
  { name: 'import-missing', src: 'import "nope.abit"\nmodel m(x: f32[1]) -> (x) {\n}\n' },
];

describe('DSL diagnostics (golden)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const file = `${c.name}.abit`;
      const r = compileAbit(file, c.src, { ...c.opts, read: (f) => { throw Object.assign(new Error(`no such file ${f}`), { code: 'ENOENT' }); } });
      expect(r.graph).toBeNull();
      expect(r.diagnostics.length).toBeGreaterThan(0);
      const text = `${formatCompiled(r)}\n`;
      const golden = join(DIR, `${c.name}.txt`);
      if (UPDATE || !existsSync(golden)) writeFileSync(golden, text);
      expect(text).toBe(readFileSync(golden, 'utf8'));
    });
  }
});
