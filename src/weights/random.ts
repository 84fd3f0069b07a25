// Seeded random weights, so any .abit model compiles without a checkpoint (`--weights
// random:SEED`, for benchmarks): each param is uniform in ±1/sqrt(fan_in), fan_in = numel /
// shape[0] (1 for vectors), from a PRNG seeded by hash(seed, name) — a tensor depends only on
// the seed, its name and its shape, not on declaration order. f32 only; not a checkpoint.

import { numel } from '../ir/shape.ts';
import { tensor, type Tensor } from '../ir/tensor.ts';
import { WeightsError } from './errors.ts';

/** Weights made on demand for each declared param (the binder asks with name and shape). */
export interface GeneratedWeights {
  readonly kind: 'generated';
  readonly describe: string;
  tensor(name: string, shape: readonly number[]): Tensor;
}

/** FNV-1a over the seed and the name: the stream of one tensor. */
function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function randomWeights(seed: number): GeneratedWeights {
  return {
    kind: 'generated',
    describe: `random:${seed}`,
    tensor(name, shape) {
      const n = numel(shape);
      const fanIn = shape.length > 1 && (shape[0] as number) > 0 ? n / (shape[0] as number) : 1;
      const scale = 2 / Math.sqrt(fanIn);
      const data = new Float32Array(n);
      // mulberry32: fast, and good enough for weights that only have to look generic.
      let a = streamSeed(seed, name);
      for (let i = 0; i < n; i++) {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        data[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) - 0.5) * scale;
      }
      return tensor('f32', shape, data);
    },
  };
}

/** `random:SEED` -> the generator; any other spec -> null (a checkpoint path). */
export function parseRandomSpec(spec: string): GeneratedWeights | null {
  if (!spec.startsWith('random:')) return null;
  const s = spec.slice('random:'.length);
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw new WeightsError(`--weights '${spec}': expected random:SEED with SEED an integer in 0..4294967295`);
  return randomWeights(Number(s));
}
