// Verification of a candidate kernel against the float64 interpreter on seeded random inputs:
// a candidate whose output differs by more than the tolerance is rejected before it is timed.

import { interpret } from '../interp/interpreter.ts';
import type { Graph } from '../ir/graph.ts';
import { isConcrete, numel } from '../ir/shape.ts';
import { ndarray, type NdArray } from '../ir/tensor.ts';
import { mulberry32, uniformF32 } from '../util/random.ts';


/** Relative tolerance on max |ref| (f32 kernels vs the float64 reference). */
export const VERIFY_RTOL = 1e-4;

export interface Reference {
  readonly inputs: Float32Array[];
  readonly expected: Float64Array;
}

/** Random f32 inputs in [-1, 1) for a kernel's subgraph, and the interpreter's output. */
export function referenceFor(sub: Graph, seed = 1234): Reference {
  const rand = mulberry32(seed);
  const env = new Map<string, NdArray>();
  const inputs = sub.inputs.map((name) => {
    const shape = sub.values.get(name)?.shape ?? [];
    if (!isConcrete(shape)) throw new Error(`verify: input '${name}' has a symbolic shape`);
    if (sub.values.get(name)?.dtype === 'u32') {
      // Packed quantized words: random bit patterns, uploaded as raw bytes (an f32 view of them).
      const words = Uint32Array.from({ length: numel(shape) }, () => Math.floor(rand() * 2 ** 32) >>> 0);
      env.set(name, ndarray(shape, words));
      return new Float32Array(words.buffer);
    }
    const data = uniformF32(numel(shape), rand);
    env.set(name, ndarray(shape, data));
    return data;
  });
  const out = interpret(sub, env).get(sub.outputs[0] as string);
  if (!out) throw new Error('verify: subgraph produced no output');
  return { inputs, expected: out.data };
}

/** null when `actual` matches, else a one-line reason. */
export function compareOutputs(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = VERIFY_RTOL): string | null {
  if (actual.length !== expected.length) return `output has ${actual.length} elements, expected ${expected.length}`;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    if (Number.isFinite(e)) maxRef = Math.max(maxRef, Math.abs(e));
  }
  const tol = rtol * Math.max(1, maxRef);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) && a === e) continue;
    const d = Math.abs(a - e);
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  return worst <= tol ? null : `max |Δ| ${worst.toExponential(3)} at element ${at} (got ${actual[at]}, want ${expected[at]}) exceeds ${tol.toExponential(3)}`;
}
