// Weight quantizers: W[N, K] (row-major, PyTorch Linear layout) -> packed codes + f32 scales and
// zeros per (row, group) in the formats of src/quant/format.ts. Scales and zeros are rounded to
// f32 *before* codes are chosen, so every unclipped element is within scale/2 of its value.
// Symmetric grids are restricted-range (codes zero±(2^(b-1)-1), like int8's ±127) so 0 and ±max are
// exact; 1-bit symmetric uses zero 0.5 (levels ±scale/2). With a calibration Gram matrix H = X^T X
// the MSE clipping search minimises each group's output error Δ^T H_g Δ instead of |Δ|^2
// (cross-group terms ignored); activation smoothing itself lives in smooth.ts.

import { checkBits, groupsPerRow, packCodes, type PackedLayout, type QuantizedWeight } from '../../quant/format.ts';

export type QuantMethod = 'rtn' | 'mse';

export interface WeightQuantOptions {
  readonly bits: number;
  /** Elements per group along K; >= K (or 0) means one group per output channel. */
  readonly group: number;
  readonly symmetric: boolean;
  readonly method: QuantMethod;
  /** 2-bit "bit balance": symmetric levels {-2..2} stored as 3-bit codes (zero 4). */
  readonly bitBalance?: boolean;
  readonly layout?: PackedLayout;
  /** K x K Gram matrix of calibration rows: 'mse' then minimises output error, not weight error. */
  readonly hessian?: Float64Array | undefined;
}

export interface QuantizedMatrix {
  readonly weight: QuantizedWeight;
  /** Unpacked codes [N * K] (what `weight.words` packs). */
  readonly codes: Uint8Array;
  /** Distinct levels the grid can use (2^bits, or 5 for bit balance). */
  readonly levels: number;
}

/** MSE clipping search: shrink factors tried for the range (1 first, so never worse than RTN). */
export const MSE_SHRINKS: readonly number[] = Array.from({ length: 21 }, (_, i) => 1 - 0.025 * i);

interface Grid {
  readonly scale: number;
  readonly zero: number;
  readonly qlo: number;
  readonly qhi: number;
}

/** The grid for one group's values at shrink factor `alpha` (1 = plain RTN range). */
function gridFor(v: ArrayLike<number>, o: WeightQuantOptions, alpha: number): Grid {
  let lo = Infinity;
  let hi = -Infinity;
  let absmax = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
    absmax = Math.max(absmax, Math.abs(x));
  }
  const top = 2 ** o.bits - 1;
  if (o.bitBalance) {
    const scale = Math.fround(absmax > 0 ? (absmax * alpha) / 2 : 1);
    return { scale, zero: 4, qlo: 2, qhi: 6 };
  }
  if (o.symmetric) {
    const half = 2 ** (o.bits - 1) - 1;
    if (half === 0) return { scale: Math.fround(absmax > 0 ? 2 * absmax * alpha : 1), zero: 0.5, qlo: 0, qhi: 1 };
    return { scale: Math.fround(absmax > 0 ? (absmax * alpha) / half : 1), zero: 2 ** (o.bits - 1), qlo: 0, qhi: top };
  }
  // Asymmetric: shrink around the range's centre so all-positive groups shrink too.
  const mid = (lo + hi) / 2;
  const l = mid - ((hi - lo) / 2) * alpha;
  const h = mid + ((hi - lo) / 2) * alpha;
  const scale = Math.fround(h > l ? (h - l) / top : Math.abs(lo) > 0 ? Math.abs(lo) : 1);
  return { scale, zero: Math.fround(-l / scale), qlo: 0, qhi: top };
}

function codeOf(x: number, g: Grid): number {
  const q = Math.round(x / g.scale + g.zero);
  return q < g.qlo ? g.qlo : q > g.qhi ? g.qhi : q;
}

function groupError(v: ArrayLike<number>, g: Grid, h?: { H: Float64Array; K: number; k0: number; d: Float64Array }): number {
  let e = 0;
  if (h) {
    const d = h.d;
    for (let i = 0; i < v.length; i++) d[i] = (v[i] as number) - g.scale * (codeOf(v[i] as number, g) - g.zero);
    for (let i = 0; i < v.length; i++) {
      const di = d[i] as number;
      if (di === 0) continue;
      const row = (h.k0 + i) * h.K + h.k0;
      let s = 0;
      for (let j = 0; j < v.length; j++) s += (h.H[row + j] as number) * (d[j] as number);
      e += di * s;
    }
    return e;
  }
  for (let i = 0; i < v.length; i++) {
    const d = (v[i] as number) - g.scale * (codeOf(v[i] as number, g) - g.zero);
    e += d * d;
  }
  return e;
}

/** Quantizes W[N, K] (row-major) into packed form. */
export function quantizeMatrix(w: ArrayLike<number>, N: number, K: number, o: WeightQuantOptions): QuantizedMatrix {
  if (o.bitBalance && o.bits !== 2) throw new RangeError(`bit balance is a 2-bit option, got bits=${o.bits}`);
  const bits = o.bitBalance ? 3 : o.bits;
  checkBits(bits);
  const group = o.group > 0 && o.group < K ? o.group : K;
  const G = groupsPerRow(K, group);
  const scales = new Float32Array(N * G);
  const zeros = new Float32Array(N * G);
  const codes = new Uint8Array(N * K);
  const row = new Float64Array(K);
  const scratch = new Float64Array(group);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) row[k] = w[n * K + k] as number;
    for (let gi = 0; gi < G; gi++) {
      const v = row.subarray(gi * group, Math.min(K, (gi + 1) * group));
      let best = gridFor(v, o, 1);
      if (o.method === 'mse') {
        const h = o.hessian ? { H: o.hessian, K, k0: gi * group, d: scratch } : undefined;
        let bestErr = groupError(v, best, h);
        for (const alpha of MSE_SHRINKS.slice(1)) {
          const g = gridFor(v, o, alpha);
          const e = groupError(v, g, h);
          if (e < bestErr) {
            best = g;
            bestErr = e;
          }
        }
      }
      scales[n * G + gi] = best.scale;
      zeros[n * G + gi] = best.zero;
      for (let i = 0; i < v.length; i++) codes[n * K + gi * group + i] = codeOf(v[i] as number, best);
    }
  }
  const layout = o.layout ?? 'dense';
  const words = packCodes(codes, N, K, bits, layout);
  const levels = o.bitBalance ? 5 : 2 ** bits;
  return { weight: { N, K, bits, group, layout, words, scales, zeros }, codes, levels };
}

/** Sum of squared differences between W and its dequantized values (the MSE method's objective). */
export function weightSquaredError(w: ArrayLike<number>, deq: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < deq.length; i++) {
    const d = (w[i] as number) - (deq[i] as number);
    e += d * d;
  }
  return e;
}
