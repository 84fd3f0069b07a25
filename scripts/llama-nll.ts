// Mean negative log-likelihood of examples/llama.abit (stories260K) on TinyStories paragraphs
// 1-100, on the float64 interpreter or on WebGPU (--gpu): each paragraph encoded with the
// llama2.c BPE tokenizer, scored on its own from BOS, truncated to 512 tokens. Reference:
// 1.4314 nats/token (9,618). On WebGPU, lengths are padded up to a bucket (64/128/256/512) so
// only four bundles are compiled; the causal mask keeps trailing padding out of real rows.
// With --bits N the matmul weights are quantized first (default policy; --rtn, --bit-balance,
// --method rtn|mse|smooth, --act-bits A); --calib C calibrates on C paragraphs after the 2000th
// (never the evaluation text). Quantized interpreter runs pad to the GPU buckets too, so the
// pass runs once per bucket.
// Usage: npx tsx scripts/llama-nll.ts [--paragraphs 100] [--gpu] [--bits N [--rtn] [--bit-balance] [--method M] [--act-bits A] [--calib C]]

import { readFileSync } from 'node:fs';
import { encodeLlama2c, loadLlama2cTokenizer } from '../src/weights/llama2c-tokenizer.ts';
import { loadAbitModel } from '../dsl/program.ts';
import { compileGraph } from '../src/compile/compile.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import { interpret } from '../src/interp/interpreter.ts';
import { ndarray } from '../src/ir/tensor.ts';
import { loadCheckpoint } from '../src/weights/index.ts';
import { passContext } from '../src/passes/pass.ts';
import { defaultPipeline, runPipeline } from '../src/passes/pipeline.ts';
import type { QuantizeOptions } from '../src/passes/quantize/quantize-pass.ts';
import { llamaInputs } from './llama-generate.ts';
import { calibrate } from '../src/quant/calibrate.ts';

const V = 512;
const args = process.argv.slice(2);
const count = Number(args[args.indexOf('--paragraphs') + 1] ?? 100) || 100;
const bitsAt = args.indexOf('--bits');
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const method = (opt('--method') ?? (args.includes('--rtn') ? 'rtn' : undefined)) as QuantizeOptions['method'];
const quantizeBase: QuantizeOptions | undefined = bitsAt < 0 ? undefined : {
  bits: Number(args[bitsAt + 1]), ...(method ? { method } : {}), ...(args.includes('--bit-balance') ? { bitBalance: true } : {}),
  ...(opt('--act-bits') ? { actBits: Number(opt('--act-bits')) } : {}),
};



const weights = loadCheckpoint('../shared/data/llama2c/stories260K.bin');
const tok = loadLlama2cTokenizer('../shared/data/llama2c/tok512.bin', V);
const allParagraphs = readFileSync('../shared/data/text/tinystories_val_first1k.txt', 'utf8').split(/\n\s*\n/).map((s) => s.trim()).filter(Boolean);
const paragraphs = allParagraphs.slice(0, count);
const calibCount = Number(opt('--calib') ?? 0);
const calibration = quantizeBase && calibCount > 0 ? calibrate((s) => loadAbitModel('examples/llama.abit', { weights, inputShapes: { tokens: [...(s.tokens?.shape ?? [])], mask: [...(s.mask?.shape ?? [])] } }).graph,
  allParagraphs.slice(2000, 2000 + calibCount).map((p) => {
    const ids = [1, ...encodeLlama2c(p, tok)].slice(0, 512);
    return Object.fromEntries(Object.entries(llamaInputs(ids, ids.length)).map(([k, v]) => [k, ndarray(v.shape, v.data)]));
  })) : undefined;
const quantize: QuantizeOptions | undefined = quantizeBase && (calibration ? { ...quantizeBase, calibration } : quantizeBase);
const onGpu = args.includes('--gpu');
const quantGraphs = new Map<number, ReturnType<typeof runPipeline>>();
const BUCKETS = [64, 128, 256, 512];
const ctx = onGpu ? await acquireDevice() : null;
const executors = new Map<number, Executor>();

/** Logits [T, V] of the first `len` positions of `ids` padded to a window of T. */
async function logitsOf(ids: readonly number[], T: number): Promise<Float32Array | Float64Array> {
  const shapes = { tokens: [T, V], mask: [T, T] };
  const inputs = llamaInputs(ids, T);
  if (!ctx) {
    const ins = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, ndarray(v.shape, v.data)]));
    let graph = quantGraphs.get(T);
    if (!graph) {
      graph = loadAbitModel('examples/llama.abit', { weights, inputShapes: shapes }).graph;
      if (quantize) quantGraphs.set(T, (graph = runPipeline(graph, passContext(), defaultPipeline(quantize))));
    }
    return interpret(graph, ins).get('logits')?.data as Float64Array;
  }
  let ex = executors.get(T);
  if (!ex) {
    const { graph } = loadAbitModel('examples/llama.abit', { weights, inputShapes: shapes });
    ex = await Executor.create(ctx, (await compileGraph(graph, { ctx, inputShapes: shapes, ...(quantize ? { quantize } : {}) })).bundle);
    executors.set(T, ex);
  }
  return (await ex.run(new Map(Object.entries(inputs).map(([k, v]) => [k, v.data])))).outputs.get('logits') as Float32Array;
}

let nll = 0;
let n = 0;
const t0 = performance.now();
for (const para of paragraphs) {
  const ids = [1, ...encodeLlama2c(para, tok)].slice(0, 512);
  const T = ids.length;
  const logits = await logitsOf(ids, onGpu || quantize ? (BUCKETS.find((b) => b >= T) ?? 512) : T);
  for (let i = 0; i + 1 < T; i++) {
    const row = logits.subarray(i * V, (i + 1) * V);
    const m = Math.max(...row);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    nll += m + Math.log(s) - (row[ids[i + 1] as number] as number);
    n++;
  }
}
console.log(`mean NLL over ${paragraphs.length} paragraphs on ${onGpu ? `WebGPU (${executors.size} bundles: T=${[...executors.keys()].sort((a, b) => a - b).join('/')})` : 'the interpreter'}: ${(nll / n).toFixed(4)} nats/token (${n} tokens) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (const ex of executors.values()) ex.destroy();
if (ctx) await releaseDevice();
