// Real rendered text lines for the OCR accuracy table: short English sentences from the TinyStories
// text (../shared/data) and a few Chinese ones, drawn by headless Chromium with real fonts (DejaVu,
// Liberation; WenQuanYi Micro Hei for Chinese, when fontconfig has a zh font) into one screenshot,
// then cut into tight line crops. Deterministic for a given Chromium and font set. No augmentation.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodePng } from '../src/io/png.ts';
import { imresizeBicubic } from './bicubic.ts';

/** An RGB crop in [0, 1], planar [3, h, w]. */
export interface RgbImage { readonly h: number; readonly w: number; readonly data: Float32Array }

export interface TextLine { readonly text: string; readonly font: string; readonly image: RgbImage }

// The shared text is English only: these Chinese lines are written in the same story style.
const CHINESE = [
  '从前有一个小女孩。', '她喜欢在公园里玩。', '小狗跑得很快。', '今天天气很好。', '妈妈给她一个苹果。',
  '他们一起去海边。', '小猫睡在床上。', '我们是好朋友。', '太阳出来了。', '他看见一只大鸟。',
  '请把门关上。', '花园里有很多花。',
];

const LATIN_FONTS = ['DejaVu Sans', 'Liberation Serif', 'Liberation Sans', 'DejaVu Serif'];
const ZH_FONT = 'WenQuanYi Micro Hei';
const BAND = 72;
const FONT_PX = 36;

/** Short sentences (10..maxChars characters) from TinyStories paragraphs `from`..; deterministic order. */
export function storySentences(count: number, maxChars: number, from = 0): string[] {
  const text = readFileSync('../shared/data/text/tinystories_val_first1k.txt', 'utf8');
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/).slice(from)) {
    for (const s of para.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+/)) {
      const t = s.trim();
      if (t.length >= 10 && t.length <= maxChars && !out.includes(t)) out.push(t);
      if (out.length === count) return out;
    }
  }
  return out;
}

function hasChineseFont(): boolean {
  const r = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Renders `lines` (text, CSS font family) with headless Chromium; one RGB screenshot. */
function screenshot(lines: readonly { text: string; font: string }[], width: number, chromium: string): RgbImage {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-lines-'));
  try {
    const body = lines.map((l) => `<div style="height:${BAND}px;line-height:${BAND}px;font:${FONT_PX}px '${l.font}';white-space:nowrap;padding-left:16px">${escapeHtml(l.text)}</div>`).join('');
    writeFileSync(path.join(dir, 'page.html'), `<!doctype html><meta charset="utf-8"><body style="margin:0;background:#fff;color:#000">${body}</body>`);
    const png = path.join(dir, 'shot.png');
    const r = spawnSync(chromium, [
      '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1', `--user-data-dir=${path.join(dir, 'profile')}`,
      `--window-size=${width},${lines.length * BAND}`, `--screenshot=${png}`, `file://${path.join(dir, 'page.html')}`,
    ], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`chromium failed (${r.status}): ${r.stderr.split('\n').slice(-3).join(' ')}`);
    const im = decodePng(new Uint8Array(readFileSync(png)), 3);
    return { h: im.shape[2], w: im.shape[3], data: im.data };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The tight box of dark pixels in rows [y0, y1), grown by `pad` (clamped to the band). */
function cropBand(im: RgbImage, y0: number, y1: number, pad: number): RgbImage {
  let top = y1;
  let bottom = y0;
  let left = im.w;
  let right = 0;
  const plane = im.h * im.w;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < im.w; x++) {
      const i = y * im.w + x;
      const lum = ((im.data[i] as number) + (im.data[plane + i] as number) + (im.data[2 * plane + i] as number)) / 3;
      if (lum < 0.5) { top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x); }
    }
  }
  if (top > bottom) throw new Error(`rendered line at y=${y0} is empty (missing font?)`);
  top = Math.max(y0, top - pad);
  bottom = Math.min(y1 - 1, bottom + pad);
  left = Math.max(0, left - pad);
  right = Math.min(im.w - 1, right + pad);
  const h = bottom - top + 1;
  const w = right - left + 1;
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = im.data[c * plane + (top + y) * im.w + left + x] as number;
  return { h, w, data };
}

/** `count` lines: English sentences (from paragraph `fromParagraph` on) plus up to count/4 Chinese ones (when a zh font exists). */
export function renderTextLines(count: number, o: { fromParagraph?: number; chinese?: boolean; chromium?: string } = {}): { lines: TextLine[]; page: RgbImage; note: string } {
  const chromium = o.chromium ?? '/usr/bin/chromium';
  const zh = (o.chinese ?? true) && hasChineseFont() ? CHINESE.slice(0, Math.min(CHINESE.length, Math.floor(count / 4))) : [];
  const en = storySentences(count - zh.length, 28, o.fromParagraph ?? 0);
  const specs = [...en.map((text, i) => ({ text, font: LATIN_FONTS[i % LATIN_FONTS.length] as string })), ...zh.map((text) => ({ text, font: ZH_FONT }))];
  const page = screenshot(specs, 1000, chromium);
  const lines = specs.map((s, i) => ({ ...s, image: cropBand(page, i * BAND, (i + 1) * BAND, 6) }));
  const note = `${en.length} English lines (TinyStories sentences of 10-28 characters, fonts ${LATIN_FONTS.join(', ')}) and ${zh.length} Chinese lines (${ZH_FONT})`;
  return { lines, page, note };
}

/**
 * PP-OCR rec/cls preprocessing (resize_norm_img): resize to height H keeping the aspect ratio,
 * width min(W, ceil(H * w / h)), (x - 0.5) / 0.5, zero padding on the right. `rotate` turns the
 * crop 180° first (the cls model's other class).
 */
export function ocrLineInput(im: RgbImage, H: number, W: number, rotate = false): Float32Array {
  const rw = Math.max(1, Math.min(W, Math.ceil((H * im.w) / im.h)));
  const src = rotate ? Float32Array.from(im.data, (_, i) => {
    const plane = im.h * im.w;
    const c = Math.floor(i / plane);
    return im.data[c * plane + (plane - 1 - (i % plane))] as number;
  }) : im.data;
  const r = imresizeBicubic(src, 3, im.h, im.w, H, rw);
  const out = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) for (let x = 0; x < rw; x++) out[(c * H + y) * W + x] = (Math.min(1, Math.max(0, r[(c * H + y) * rw + x] as number)) - 0.5) / 0.5;
  }
  return out;
}
