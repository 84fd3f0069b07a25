// RLFN x4 quality on WebGPU: mean RGB PSNR on ../shared/data/div2k-lr (each image cropped to a
// multiple of 4, MATLAB-bicubic downscaled x4 and rounded to 8 bits, super-resolved, compared
// with a 4-px shave, against bicubic upscaling) and Set5 x4 Y-PSNR (BT.601 Y, 4-px shave).
// Usage: npx tsx scripts/rlfn-eval.ts [--set5-only] [--limit N] [--png docs/rlfn-before-after.png]

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadAbitModel } from '../dsl/program.ts';
import { compileGraph } from '../src/compile/compile.ts';
import { decodePng, encodePng } from '../src/io/png.ts';
import { acquireDevice, releaseDevice, type GpuContext } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import { loadCheckpoint } from '../src/weights/index.ts';
import { imresizeBicubic } from './bicubic.ts';

const DATA = '../shared/data';
const SCALE = 4;
const args = process.argv.slice(2);
const flag = (n: string): string | undefined => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const weights = loadCheckpoint(`${DATA}/rlfn/rlfn_x4.pth`);

interface Img { c: number; h: number; w: number; data: Float64Array } // 0..255

function readImg(file: string): Img {
  const im = decodePng(new Uint8Array(readFileSync(file)), 3);
  const [, c, h, w] = im.shape;
  return { c, h, w, data: Float64Array.from(im.data, (v) => Math.round(v * 255)) };
}

function crop(im: Img, h: number, w: number): Img {
  const out = new Float64Array(im.c * h * w);
  for (let c = 0; c < im.c; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(c * h + y) * w + x] = im.data[(c * im.h + y) * im.w + x] as number;
  return { c: im.c, h, w, data: out };
}

const q8 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, (v) => Math.min(255, Math.max(0, Math.round(v))));

function psnr(a: Img, b: Img, shave: number, yOnly: boolean): number {
  let se = 0;
  let n = 0;
  const plane = a.h * a.w;
  for (let y = shave; y < a.h - shave; y++) {
    for (let x = shave; x < a.w - shave; x++) {
      const i = y * a.w + x;
      if (yOnly) {
        const Y = (d: Float64Array): number => 16 + (65.481 * (d[i] as number) + 128.553 * (d[plane + i] as number) + 24.966 * (d[2 * plane + i] as number)) / 255;
        se += (Y(a.data) - Y(b.data)) ** 2;
        n++;
      } else {
        for (let c = 0; c < 3; c++) { se += ((a.data[c * plane + i] as number) - (b.data[c * plane + i] as number)) ** 2; n++; }
      }
    }
  }
  return 10 * Math.log10((255 * 255) / (se / n));
}

const bundles = new Map<string, Executor>();
async function superResolve(ctx: GpuContext, lr: Img): Promise<Img> {
  const key = `${lr.h}x${lr.w}`;
  let ex = bundles.get(key);
  if (!ex) {
    const g = loadAbitModel('examples/rlfn.abit', { weights, inputShapes: { x: [1, 3, lr.h, lr.w] } }).graph;
    const r = await compileGraph(g, { ctx, inputShapes: { x: [1, 3, lr.h, lr.w] } });
    ex = await Executor.create(ctx, r.bundle);
    bundles.set(key, ex);
  }
  const res = await ex.run(new Map([['x', Float32Array.from(lr.data, (v) => v / 255)]]));
  const y = res.outputs.get('y') as Float32Array;
  return { c: 3, h: lr.h * SCALE, w: lr.w * SCALE, data: q8(Float64Array.from(y, (v) => v * 255)) };
}

function bicubicUp(lr: Img): Img {
  return { c: 3, h: lr.h * SCALE, w: lr.w * SCALE, data: q8(imresizeBicubic(lr.data, 3, lr.h, lr.w, lr.h * SCALE, lr.w * SCALE)) };
}

async function main(): Promise<void> {
  const ctx = await acquireDevice();
  const t0 = performance.now();
  if (!args.includes('--set5-only')) {
    const files = readdirSync(`${DATA}/div2k-lr`).filter((f) => f.endsWith('.png')).sort().slice(0, Number(flag('--limit') ?? 1e9));
    let sr = 0;
    let bic = 0;
    for (const f of files) {
      const full = readImg(`${DATA}/div2k-lr/${f}`);
      const hr = crop(full, full.h - (full.h % SCALE), full.w - (full.w % SCALE));
      const lr: Img = { c: 3, h: hr.h / SCALE, w: hr.w / SCALE, data: q8(imresizeBicubic(hr.data, 3, hr.h, hr.w, hr.h / SCALE, hr.w / SCALE)) };
      const out = await superResolve(ctx, lr);
      const up = bicubicUp(lr);
      const a = psnr(out, hr, SCALE, false);
      const b = psnr(up, hr, SCALE, false);
      sr += a;
      bic += b;
      console.log(`div2k ${f}: RLFN ${a.toFixed(3)} dB, bicubic ${b.toFixed(3)} dB`);
      const png = flag('--png');
      if (png && f === files[0]) writeSideBySide(png, up, out);
    }
    console.log(`div2k-lr mean RGB PSNR over ${files.length} images: RLFN ${(sr / files.length).toFixed(3)} dB, bicubic ${(bic / files.length).toFixed(3)} dB`);
  }
  let s5 = 0;
  let s5b = 0;
  const names = ['baby', 'bird', 'butterfly', 'head', 'woman'];
  for (const n of names) {
    const full = readImg(`${DATA}/set5/HR/${n}.png`);
    const lr = readImg(`${DATA}/set5/LR_bicubic/X4/${n}x4.png`);
    const hr = crop(full, lr.h * SCALE, lr.w * SCALE);
    const a = psnr(await superResolve(ctx, lr), hr, SCALE, true);
    const b = psnr(bicubicUp(lr), hr, SCALE, true);
    s5 += a;
    s5b += b;
    console.log(`set5 ${n}: RLFN ${a.toFixed(3)} dB Y, bicubic ${b.toFixed(3)} dB Y`);
  }
  console.log(`Set5 x4 mean Y-PSNR: RLFN ${(s5 / names.length).toFixed(3)} dB (paper 32.24), bicubic ${(s5b / names.length).toFixed(3)} dB`);
  console.log(`time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const ex of bundles.values()) ex.destroy();
  await releaseDevice();
}

/** Bicubic (left) and RLFN (right) side by side, one PNG. */
function writeSideBySide(file: string, a: Img, b: Img): void {
  const w = a.w + 8 + b.w;
  const out = new Float32Array(3 * a.h * w).fill(1);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < a.h; y++) {
      for (let x = 0; x < a.w; x++) out[(c * a.h + y) * w + x] = (a.data[(c * a.h + y) * a.w + x] as number) / 255;
      for (let x = 0; x < b.w; x++) out[(c * a.h + y) * w + a.w + 8 + x] = (b.data[(c * b.h + y) * b.w + x] as number) / 255;
    }
  }
  writeFileSync(file, encodePng([1, 3, a.h, w], out));
  console.log(`wrote ${path.resolve(file)}`);
}

await main();
