// PNG <-> NCHW float images in [0, 1] (pngjs). Reading yields RGB (3 channels) or, when one
// channel is asked for, BT.601 luma; alpha is dropped. Writing clamps to [0, 1] and rounds to
// 8 bits; only N = 1 with C = 1 or 3 is an image. 16-bit PNGs are read at 8-bit precision.

import { PNG } from 'pngjs';

export class PngError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngError';
  }
}

export interface Image { readonly shape: [number, number, number, number]; readonly data: Float32Array }

export function decodePng(bytes: Uint8Array, channels: 1 | 3 = 3): Image {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new PngError(`not a valid PNG (${(e as Error).message})`);
  }
  const { width: w, height: h, data } = png;
  const out = new Float32Array(channels * h * w);
  const plane = h * w;
  for (let i = 0; i < plane; i++) {
    const r = (data[4 * i] as number) / 255;
    const g = (data[4 * i + 1] as number) / 255;
    const b = (data[4 * i + 2] as number) / 255;
    if (channels === 1) out[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    else { out[i] = r; out[plane + i] = g; out[2 * plane + i] = b; }
  }
  return { shape: [1, channels, h, w], data: out };
}

export function isImageShape(shape: readonly number[]): boolean {
  return shape.length === 4 && shape[0] === 1 && (shape[1] === 1 || shape[1] === 3);
}

export function encodePng(shape: readonly number[], data: ArrayLike<number>): Uint8Array {
  if (!isImageShape(shape)) throw new PngError(`shape [${shape.join(',')}] is not an image (expected [1, 1 or 3, H, W])`);
  const [, c, h, w] = shape as [number, number, number, number];
  const png = new PNG({ width: w, height: h });
  const plane = h * w;
  const q = (v: number): number => Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < 3; k++) png.data[4 * i + k] = q(data[(c === 1 ? 0 : k) * plane + i] as number);
    png.data[4 * i + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}
