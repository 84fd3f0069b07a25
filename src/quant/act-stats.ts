// Calibration statistics of one layer input (see calibrate.ts, which fills them) and the small
// pure helpers the quantize pass needs: quantiles, per-channel rescaling (smoothing) and the
// Gram matrix X^T X of the sampled rows (the output-MSE objective). No graph code here.

export interface ActStats {
  /** Channels (last dim of the layer's input). */
  readonly K: number;
  /** max |x| per channel over every row seen. */
  readonly absmax: Float64Array;
  /** Sampled rows, row-major [count, K]. */
  readonly rows: Float64Array;
  readonly count: number;
  /** Rows seen in all samples. */
  readonly seen: number;
}

/** |x| quantiles (e.g. 0.99) over the sampled rows. */
export function absQuantiles(s: ActStats, qs: readonly number[]): number[] {
  const a = Float64Array.from(s.rows, Math.abs).sort();
  return qs.map((q) => (a.length ? (a[Math.min(a.length - 1, Math.floor(q * a.length))] as number) : 0));
}

/** Statistics of rows scaled per channel by `inv` (a smoothed layer sees X / s). */
export function scaledStats(s: ActStats, inv: ArrayLike<number>): ActStats {
  const K = s.K;
  const rows = s.rows.map((v, i) => v * (inv[i % K] as number));
  const absmax = s.absmax.map((v, k) => v * Math.abs(inv[k] as number));
  return { ...s, rows, absmax };
}

/** X^T X over the sampled rows, K x K row-major. */
export function gram(s: ActStats): Float64Array {
  const K = s.K;
  const h = new Float64Array(K * K);
  for (let r = 0; r < s.count; r++) {
    const o = r * K;
    for (let i = 0; i < K; i++) {
      const xi = s.rows[o + i] as number;
      if (xi === 0) continue;
      for (let j = 0; j < K; j++) h[i * K + j] = (h[i * K + j] as number) + xi * (s.rows[o + j] as number);
    }
  }
  return h;
}
