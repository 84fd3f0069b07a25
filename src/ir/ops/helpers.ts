// Shared pieces of op definitions: float64 math missing from Math, broadcasting loops, and
// cost helpers. Everything here works on concrete shapes only.

import { storageBytes } from '../dtype.ts';
import { broadcastStrides, isConcrete, numel } from '../shape.ts';
import type { NdArray, TensorType } from '../tensor.ts';

/** erf to ~1e-14 absolute: Taylor series near 0, continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // The asymptotic series is only good to ~1e-8 at |x| = 3; this fraction (evaluated
  // backwards, 50 terms) is good to ~1e-16 relative for |x| >= 2.5.
  let f = ax;
  for (let k = 50; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

/** Calls f(outIndex, aIndex, bIndex) for each element of the broadcast of a and b to `out`. */
export function forEachBroadcast(
  out: readonly number[], a: readonly number[], b: readonly number[],
  f: (o: number, ia: number, ib: number) => void,
): void {
  const sa = broadcastStrides(a, out);
  const sb = broadcastStrides(b, out);
  const rank = out.length;
  const idx = new Array<number>(rank).fill(0);
  const n = numel(out);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o++) {
    f(o, ia, ib);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      ia += sa[d] as number;
      ib += sb[d] as number;
      if ((idx[d] as number) < (out[d] as number)) break;
      ia -= (sa[d] as number) * (out[d] as number);
      ib -= (sb[d] as number) * (out[d] as number);
      idx[d] = 0;
    }
  }
}

export function concreteNumel(t: TensorType): number {
  return isConcrete(t.shape) ? numel(t.shape) : 0;
}

export function tensorBytes(ts: readonly TensorType[]): number {
  return ts.reduce((s, t) => s + storageBytes(t.dtype, concreteNumel(t)), 0);
}

export function expectRank(x: NdArray, rank: number, what: string): void {
  if (x.shape.length !== rank) throw new Error(`${what}: expected rank ${rank}, got [${x.shape.join(',')}]`);
}
