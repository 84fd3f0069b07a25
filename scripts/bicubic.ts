// MATLAB-style bicubic `imresize` (Keys cubic, a = -0.5; antialiased when shrinking: the
// kernel is widened by 1/scale; symmetric edge handling), separable, on planar float images.
// Matches MATLAB's coordinate mapping u/scale + 0.5(1 - 1/scale). No uint8 rounding inside.

function cubic(x: number): number {
  const a = Math.abs(x);
  const a2 = a * a;
  const a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

interface Taps { readonly idx: Int32Array; readonly w: Float64Array; readonly n: number }

function contributions(inLen: number, outLen: number, scale: number): Taps {
  const aa = scale < 1;
  const width = aa ? 4 / scale : 4;
  const n = Math.ceil(width) + 2;
  const idx = new Int32Array(outLen * n);
  const w = new Float64Array(outLen * n);
  for (let o = 0; o < outLen; o++) {
    const u = o + 1;
    const x = u / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(x - width / 2);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const i = left + j;
      const d = x - i;
      const v = aa ? scale * cubic(scale * d) : cubic(d);
      w[o * n + j] = v;
      sum += v;
      // Symmetric padding (MATLAB): 0 -> 1, -1 -> 2, len+1 -> len, ... then to 0-based.
      let k = i;
      while (k < 1 || k > inLen) k = k < 1 ? 1 - k : 2 * inLen + 1 - k;
      idx[o * n + j] = k - 1;
    }
    for (let j = 0; j < n; j++) w[o * n + j] = (w[o * n + j] as number) / sum;
  }
  return { idx, w, n };
}

/** Resizes a [C, H, W] planar image to [C, outH, outW]. */
export function imresizeBicubic(src: Float64Array | Float32Array, c: number, h: number, w: number, outH: number, outW: number): Float64Array {
  const th = contributions(h, outH, outH / h);
  const tw = contributions(w, outW, outW / w);
  const mid = new Float64Array(c * outH * w);
  for (let ch = 0; ch < c; ch++) {
    for (let o = 0; o < outH; o++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let j = 0; j < th.n; j++) s += (th.w[o * th.n + j] as number) * (src[(ch * h + (th.idx[o * th.n + j] as number)) * w + x] as number);
        mid[(ch * outH + o) * w + x] = s;
      }
    }
  }
  const out = new Float64Array(c * outH * outW);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < outH; y++) {
      const row = (ch * outH + y) * w;
      for (let o = 0; o < outW; o++) {
        let s = 0;
        for (let j = 0; j < tw.n; j++) s += (tw.w[o * tw.n + j] as number) * (mid[row + (tw.idx[o * tw.n + j] as number)] as number);
        out[(ch * outH + y) * outW + o] = s;
      }
    }
  }
  return out;
}
