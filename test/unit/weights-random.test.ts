// `--weights random:SEED`: generated weights are deterministic per (seed, name, shape), lie in
// ±1/sqrt(fan_in) with the spread of a uniform draw, let any .abit model elaborate without a
// checkpoint, and `anybit compile` builds a bundle from them (at reduced LLaMA shapes here;
// the 7B layer shapes are compiled by hand, see the report). Bad specs give one clean line.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAbitModel } from '../../dsl/program.ts';
import { openWeights, randomWeights, WeightsError } from '../../src/weights/index.ts';

describe('random weights', () => {
  it('are deterministic per seed and name, and differ across seeds and names', () => {
    const a = randomWeights(1).tensor('layers.0.attention.wq.weight', [64, 64]).data;
    expect(randomWeights(1).tensor('layers.0.attention.wq.weight', [64, 64]).data).toEqual(a);
    expect(randomWeights(2).tensor('layers.0.attention.wq.weight', [64, 64]).data).not.toEqual(a);
    expect(randomWeights(1).tensor('layers.0.attention.wk.weight', [64, 64]).data).not.toEqual(a);
  });

  it('are uniform in ±1/sqrt(fan_in) (fan_in = numel / shape[0]; 1 for vectors)', () => {
    for (const shape of [[300, 256], [40, 8, 3, 3], [5000]]) {
      const d = randomWeights(7).tensor('w', shape).data as Float32Array;
      const bound = 1 / Math.sqrt(shape.length > 1 ? d.length / (shape[0] as number) : 1);
      let max = 0;
      let sum = 0;
      let sq = 0;
      for (const v of d) { max = Math.max(max, Math.abs(v)); sum += v; sq += v * v; }
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(0.99 * bound);
      expect(Math.abs(sum / d.length)).toBeLessThan(0.05 * bound);
      // A uniform draw on [-b, b] has standard deviation b / sqrt(3).
      expect(Math.sqrt(sq / d.length) / (bound / Math.sqrt(3))).toBeCloseTo(1, 1);
    }
  });

  it('bind every param of examples/llama.abit and of its decode form', () => {
    const set = { d: 32, hidden: 48, heads: 4, kv_heads: 2, layers: 2, vocab: 40 };
    const full = loadAbitModel('examples/llama.abit', { weights: openWeights('random:3'), set, inputShapes: { tokens: [4, 40], mask: [4, 4] } });
    const wq = full.graph.initializers.get('layers.1.attention.wq.weight');
    expect(wq?.shape).toEqual([32, 32]);
    expect(Math.max(...(wq?.data as Float32Array))).toBeGreaterThan(0);
    const dec = loadAbitModel('examples/llama-decode.abit', { weights: openWeights('random:3'), set, inputShapes: { past_k: [2, 2, 16, 8], past_v: [2, 2, 16, 8] } });
    expect(dec.graph.initializers.get('layers.1.attention.wq.weight')?.data).toEqual(wq?.data);
  });

  it('reject a malformed spec with one line', () => {
    expect(() => openWeights('random:x')).toThrow(WeightsError);
    expect(() => openWeights('random:-1')).toThrow(/expected random:SEED with SEED an integer/);
  });

  it('`anybit compile --weights random:1` builds a bundle of an .abit LLaMA (reduced shapes)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-random-'));
    const r = spawnSync(process.execPath, [path.resolve('bin/anybit.mjs'), 'compile', 'examples/llama.abit', '--weights', 'random:1',
      '--set', 'd=64', '--set', 'hidden=176', '--set', 'heads=4', '--set', 'kv_heads=4', '--set', 'layers=1', '--set', 'vocab=320',
      '--input', 'tokens=4x320', '--input', 'mask=4x4', '-o', path.join(dir, 'bundle'), '--json'], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n')).toBe('');
    expect(r.status).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'bundle', 'manifest.json'), 'utf8')) as { weights: { bytes: number } };
    // tok_embeddings + output (2 x 320 x 64), wq/wk/wv/wo (4 x 64 x 64), w1/w2/w3 (3 x 176 x 64), three norms (64 each).
    expect(manifest.weights.bytes).toBeGreaterThanOrEqual(4 * (2 * 320 * 64 + 4 * 64 * 64 + 3 * 176 * 64 + 3 * 64));
  });
});
