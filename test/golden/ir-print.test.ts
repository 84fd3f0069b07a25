// Golden IR text: a small MLP and a small CNN in summary mode, and a tiny graph in full mode
// (pins the .abir serialization: quantized, f16 and non-canonical data, odd names, locations).
// UPDATE_GOLDEN=1 rewrites the files; review the diff before committing it.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import { packedInt } from '../../src/ir/dtype.ts';
import { numberToF16Bits } from '../../src/ir/f16.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { parseGraph } from '../../src/ir/parse.ts';
import { printGraph } from '../../src/ir/print.ts';
import { numel } from '../../src/ir/shape.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { graphDiff } from '../helpers/graph-equal.ts';
import { mulberry32, randomF32 } from '../prop/arbitraries.ts';

const DIR = dirname(fileURLToPath(import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function weights(b: GraphBuilder, name: string, shape: number[], seed: number): string {
  return b.initializer(name, tensor('f32', shape, randomF32(numel(shape), mulberry32(seed))));
}

function mlp(): Graph {
  const b = new GraphBuilder('mlp');
  b.input('x', 'f32', ['batch', 16]);
  weights(b, 'fc1.weight', [32, 16], 1);
  weights(b, 'fc1.bias', [32], 2);
  weights(b, 'fc2.weight', [32, 10], 3);
  weights(b, 'fc2.bias', [1, 10], 4);
  const h = b.op('gemm', ['x', 'fc1.weight', 'fc1.bias'], { transB: 1 }, { name: 'fc1' });
  const a = b.op('gelu', [h], { approximate: 'tanh' }, { name: 'act1' });
  const y = b.op('gemm', [a, 'fc2.weight', 'fc2.bias'], { alpha: 0.5, beta: 1 }, { name: 'fc2', output: 'logits' });
  b.output(y);
  return b.build();
}

function cnn(): Graph {
  const b = new GraphBuilder('cnn');
  b.input('image', 'f32', [1, 3, 13, 13]);
  weights(b, 'stem.w', [8, 3, 3, 3], 5);
  weights(b, 'stem.b', [8], 6);
  weights(b, 'dw.w', [8, 1, 3, 3], 7);
  weights(b, 'pw.w', [4, 8, 1, 1], 8);
  weights(b, 'head.w', [196, 7], 9);
  const s = b.op('conv2d', ['image', 'stem.w', 'stem.b'], { strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'stem' });
  const r = b.op('relu', [s], {}, { name: 'stem.relu' });
  const d = b.op('conv2d', [r, 'dw.w'], { group: 8, pads: [2, 2, 2, 2], dilations: [2, 2] }, { name: 'dw' });
  const h = b.op('hardswish', [d], {}, { name: 'dw.act' });
  const p = b.op('conv2d', [h, 'pw.w'], {}, { name: 'pw' });
  const t = b.op('transpose', [p], { perm: [0, 2, 3, 1] }, { name: 'to_nhwc' });
  const f = b.op('reshape', [t], { shape: [1, -1] }, { name: 'flatten' });
  const y = b.op('matmul', [f, 'head.w'], {}, { name: 'head', output: 'scores' });
  b.output(y);
  return b.build();
}

function tiny(): Graph {
  const b = new GraphBuilder('tiny "full" graph');
  b.input('in put', 'f32', ['N', 4]);
  b.initializer('w.q4', tensor(packedInt(4, true, { axis: 0, groupSize: 2, scales: new Float32Array([0.5, 0.25]), zeroPoints: new Int32Array([0, -1]) }), [2, 4], new Int8Array([-8, -1, 0, 7, 1, 2, 3, 4])));
  b.initializer('half', tensor('f16', [3], Uint16Array.from([1, -2.5, 65504], numberToF16Bits)));
  b.initializer('mask', tensor('bool', [2], new Uint8Array([1, 0])));
  b.initializer('wide', tensor('f32', [2], new Float64Array([0.1, -0])));
  b.initializer('k', tensor('f32', [4, 2], new Float32Array([1, -1, 0.5, NaN, Infinity, -Infinity, -0, 1e-45])));
  const c = b.op('clip', ['in put'], { min: -Infinity, max: 6 }, { name: 'clip', loc: { file: 'tiny.abit', line: 3, col: 7, length: 4 } });
  const m = b.op('matmul', [c, 'k'], {}, { name: 'mm', output: 'out.0', loc: { file: 'tiny.abit', line: 4, col: 3 } });
  b.output(m);
  return b.build();
}

function checkGolden(file: string, text: string): void {
  const path = join(DIR, file);
  if (UPDATE) { writeFileSync(path, text); return; }
  if (!existsSync(path)) throw new Error(`missing golden ${path}; run with UPDATE_GOLDEN=1 to create it`);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describe('IR text goldens', () => {
  const cases: [string, () => Graph, boolean][] = [
    ['mlp.abir.txt', mlp, false],
    ['cnn.abir.txt', cnn, false],
    ['tiny-full.abir', tiny, true],
  ];
  for (const [file, build, data] of cases) {
    it(`${file} matches`, () => {
      const g = build();
      expect(verifyGraph(g)).toEqual([]);
      checkGolden(file, printGraph(g, { data }));
    });

    it(`${file} parses back to the built graph`, () => {
      const g = build();
      const text = readFileSync(join(DIR, file), 'utf8');
      const back = parseGraph(text, { elided: data ? 'error' : 'zeros', file });
      const diffs = graphDiff(back, g).filter((d) => data || !d.includes('data differs'));
      expect(diffs).toEqual([]);
    });
  }
});
