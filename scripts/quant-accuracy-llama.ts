// stories260K mean NLL for docs/quant-accuracy.md by fake quantization on onnxruntime: the same
// protocol as scripts/llama-nll.ts (TinyStories paragraphs 1-100, each from BOS, <= 512 tokens,
// padded to a 64/128/256/512 bucket; the causal mask keeps padding out of real rows), the model
// quantized by the product's pass per bucket. 'smooth' calibrates on paragraphs 2001+ only.

import { readFileSync } from 'node:fs';
import { encodeLlama2c, loadLlama2cTokenizer } from '../src/weights/llama2c-tokenizer.ts';
import * as ort from 'onnxruntime-node';
import { loadAbitModel } from '../dsl/program.ts';
import { ndarray } from '../src/ir/tensor.ts';
import { calibrate, type Calibration } from '../src/quant/calibrate.ts';
import { loadCheckpoint } from '../src/weights/index.ts';
import { llamaInputs } from './llama-generate.ts';
import { fakeQuantOnnx, floatOnnx, type Method, type QuantConfig } from './quant-accuracy-lib.ts';

const V = 512;
const BUCKETS = [64, 128, 256, 512];
const CALIB_PARAGRAPHS = 8;



export const LLAMA_CONFIGS: readonly QuantConfig[] = [
  { label: 'W8 g128', bits: 8, group: 128 }, { label: 'W4 g128', bits: 4, group: 128 }, { label: 'W3 g128', bits: 3, group: 128 },
  { label: 'W2* g128', bits: 2, group: 128, bitBalance: true }, { label: 'W8A8 g128', bits: 8, group: 128, actBits: 8 },
  { label: 'W4A8 g128', bits: 4, group: 128, actBits: 8 },
];

export async function llamaSection(log: (s: string) => void): Promise<string[]> {
  const weights = loadCheckpoint('../shared/data/llama2c/stories260K.bin');
  const tok = loadLlama2cTokenizer('../shared/data/llama2c/tok512.bin', V);
  const all = readFileSync('../shared/data/text/tinystories_val_first1k.txt', 'utf8').split(/\n\s*\n/).map((s) => s.trim()).filter(Boolean);
  const paras = all.slice(0, 100).map((p) => [1, ...encodeLlama2c(p, tok)].slice(0, 512));
  const graphOf = (T: number) => loadAbitModel('examples/llama.abit', { weights, inputShapes: { tokens: [T, V], mask: [T, T] } }).graph;
  const t0 = performance.now();
  const calib: Calibration = calibrate((s) => graphOf(s.tokens?.shape[0] ?? 0), all.slice(2000, 2000 + CALIB_PARAGRAPHS).map((p) => {
    const ids = [1, ...encodeLlama2c(p, tok)].slice(0, 512);
    return Object.fromEntries(Object.entries(llamaInputs(ids, ids.length)).map(([k, v]) => [k, ndarray(v.shape, v.data)]));
  }));
  log(`llama calibration on ${CALIB_PARAGRAPHS} paragraphs: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const nllOf = async (make: (T: number) => Uint8Array): Promise<number> => {
    const sessions = new Map<number, ort.InferenceSession>();
    let nll = 0;
    let n = 0;
    for (const ids of paras) {
      const T = BUCKETS.find((b) => b >= ids.length) ?? 512;
      let s = sessions.get(T);
      if (!s) sessions.set(T, (s = await ort.InferenceSession.create(make(T), { executionProviders: ['cpu'] })));
      const ins = llamaInputs(ids, T);
      const feeds = Object.fromEntries(s.inputNames.map((k) => { const v = ins[k]; if (!v) throw new Error(`llama: no input '${k}'`); return [k, new ort.Tensor('float32', v.data, v.shape)]; }));
      const logits = (await s.run(feeds))['logits']?.data as Float32Array;
      for (let i = 0; i + 1 < ids.length; i++) {
        const row = logits.subarray(i * V, (i + 1) * V);
        let m = -Infinity;
        for (const v of row) m = Math.max(m, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - m);
        nll += m + Math.log(z) - (row[ids[i + 1] as number] as number);
        n++;
      }
    }
    for (const s of sessions.values()) await s.release();
    return nll / n;
  };
  const ref = await nllOf((T) => floatOnnx(graphOf(T)));
  log(`llama float NLL ${ref.toFixed(4)}`);
  const rows = ['| config | quantized layers | RTN NLL | best NLL | best method |', '|---|---|---|---|---|'];
  for (const c of LLAMA_CONFIGS) {
    const cells: string[] = [];
    let layers = '';
    let method = '';
    for (const m of ['rtn', 'best'] as readonly Method[]) {
      const t1 = performance.now();
      const v = await nllOf((T) => {
        const fq = fakeQuantOnnx(graphOf(T), c, m, {}, calib);
        layers = `${fq.matmuls} mm${fq.actSites ? `; A: ${fq.actSites} quantize_act` : ''}`;
        method = fq.method;
        return fq.onnx;
      });
      cells.push(v.toFixed(4));
      log(`  llama ${c.label} ${m}: ${v.toFixed(4)} (${((performance.now() - t1) / 1000).toFixed(1)} s)`);
    }
    rows.push(`| ${c.label} | ${layers} | ${cells.join(' | ')} | ${method} |`);
  }
  return [
    '## stories260K (examples/llama.abit), mean NLL on TinyStories paragraphs 1–100', '',
    `Same protocol as scripts/llama-nll.ts (lengths padded to 64/128/256/512); float here: **${ref.toFixed(4)}** nats/token`,
    `(reference 1.4314). 'smooth' calibrates on ${CALIB_PARAGRAPHS} paragraphs after the 2000th (src/quant/calibrate.ts, float64 interpreter).`,
    'Not a CNN, so every matmul is quantized (no kept ends).', '', ...rows, '',
  ];
}
