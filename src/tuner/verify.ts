// Verification of a candidate kernel against the float64 interpreter on seeded random inputs:
// a candidate whose output differs by more than the tolerance is rejected before it is timed.

import { interpret } from '../interp/interpreter.ts';
import type { Graph } from '../ir/graph.ts';
import { isConcrete, numel } from '../ir/shape.ts';
import { ndarray, type NdArray } from '../ir/tensor.ts';
import { mulberry32, uniformF32 } from '../util/random.ts';
import { nbitsAttrs } from '../ir/ops/matmul-nbits.ts';
import { actRowWords, packActRows } from '../quant/act.ts';


/** Relative tolerance on max |ref| (f32 kernels vs the float64 reference). */
export const VERIFY_RTOL = 1e-4;

export interface Reference {
  readonly inputs: Float32Array[];
  readonly expected: Float64Array;
  /** The output is u32 words (quantize_act rows): compared bit for bit, not as floats. */
  readonly expectedU32?: boolean;
}

/** Valid quantize_act rows for a u32 input that some matmul_nbits reads as quantized activations. */
function actRowsFor(sub: Graph, name: string, count: number, rand: () => number): Uint32Array | undefined {
  const user = sub.nodes.find((n) => n.op === 'matmul_nbits' && n.inputs[0] === name && nbitsAttrs(n.attrs).actBits > 0);
  if (!user) return undefined;
  const q = nbitsAttrs(user.attrs);
  const rows = count / actRowWords(q.K, q.actBits, q.actLayout);
  return packActRows(uniformF32(rows * q.K, rand), rows, q.K, q.actBits, q.actLayout);
}

/** Random f32 inputs in [-1, 1) for a kernel's subgraph, and the interpreter's output. */
export function referenceFor(sub: Graph, seed = 1234): Reference {
  const rand = mulberry32(seed);
  const env = new Map<string, NdArray>();
  const inputs = sub.inputs.map((name) => {
    const shape = sub.values.get(name)?.shape ?? [];
    if (!isConcrete(shape)) throw new Error(`verify: input '${name}' has a symbolic shape`);
    if (sub.values.get(name)?.dtype === 'u32') {
      // Packed quantized words: random bit patterns, uploaded as raw bytes (an f32 view of them);
      // quantized activation rows need a real header (f32 scale, small zero point) to mean anything.
      const words = actRowsFor(sub, name, numel(shape), rand) ?? Uint32Array.from({ length: numel(shape) }, () => Math.floor(rand() * 2 ** 32) >>> 0);
      env.set(name, ndarray(shape, words));
      return new Float32Array(words.buffer);
    }
    const data = uniformF32(numel(shape), rand);
    env.set(name, ndarray(shape, data));
    return data;
  });
  const out = interpret(sub, env).get(sub.outputs[0] as string);
  if (!out) throw new Error('verify: subgraph produced no output');
  return { inputs, expected: out.data, ...(sub.values.get(sub.outputs[0] as string)?.dtype === 'u32' ? { expectedU32: true } : {}) };
}

/** null when a kernel's raw output (read back as f32 bits) matches `ref`, else a one-line reason. */
export function checkOutput(actual: Float32Array, ref: Reference): string | null {
  if (!ref.expectedU32) return compareOutputs(actual, ref.expected);
  const words = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  if (words.length !== ref.expected.length) return `output has ${words.length} words, expected ${ref.expected.length}`;
  const at = words.findIndex((w, i) => w !== ref.expected[i]);
  return at < 0 ? null : `word ${at} is ${words[at]}, expected ${ref.expected[at]}`;
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
