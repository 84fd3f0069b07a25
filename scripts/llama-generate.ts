// Greedy decoding with examples/llama.abit and the llama2.c stories260K checkpoint, on the
// float64 interpreter (default) or WebGPU (--gpu): a fixed causal window of T positions is
// recomputed per token (simple, not fast), or with --kv one token per step with
// examples/llama-decode.abit and host KV caches padded to buckets (scripts/llama-kv.ts).
// Prints the text; the reference from BOS starts "Once upon a time, there was a little girl named Lily."
// Usage: npx tsx scripts/llama-generate.ts [--tokens 40] [--gpu] [--kv]

import { readFileSync } from 'node:fs';
import { loadAbitModel } from '../dsl/program.ts';
import { compileGraph } from '../src/compile/compile.ts';
import { interpret } from '../src/interp/interpreter.ts';
import { ndarray } from '../src/ir/tensor.ts';
import { acquireDevice, releaseDevice, type GpuContext } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import type { Tensor } from '../src/ir/tensor.ts';
import { KvCache, STORIES260K } from './llama-kv.ts';
import { loadCheckpoint } from '../src/weights/index.ts';

const args = process.argv.slice(2);
const n = Number(args[args.indexOf('--tokens') + 1] ?? 40) || 40;
const T = n + 1;
const V = 512;
const HD = 8;

/** tok512.bin: int32 max length, then per token: f32 score, i32 length, bytes. */
export function vocab(file: string): string[] {
  const b = readFileSync(file);
  const out: string[] = [];
  let p = 4;
  for (let i = 0; i < V; i++) {
    const len = b.readInt32LE(p + 4);
    out.push(b.subarray(p + 8, p + 8 + len).toString('utf8'));
    p += 8 + len;
  }
  return out;
}

export function llamaInputs(tokens: readonly number[], t: number): Record<string, { shape: number[]; data: Float32Array }> {
  const oneHot = new Float32Array(t * V);
  tokens.forEach((id, i) => { oneHot[i * V + id] = 1; });
  const cos = new Float32Array(t * HD);
  const sin = new Float32Array(t * HD);
  for (let pos = 0; pos < t; pos++) {
    for (let i = 0; i < HD; i += 2) {
      const a = pos / 10000 ** (i / HD);
      cos[pos * HD + i] = cos[pos * HD + i + 1] = Math.cos(a);
      sin[pos * HD + i] = sin[pos * HD + i + 1] = Math.sin(a);
    }
  }
  const rot = new Float32Array(HD * HD);
  // Row vector x times rot: out[2i] = -x[2i+1], out[2i+1] = x[2i].
  for (let i = 0; i < HD; i += 2) { rot[(i + 1) * HD + i] = -1; rot[i * HD + i + 1] = 1; }
  const mask = new Float32Array(t * t);
  for (let r = 0; r < t; r++) for (let c = r + 1; c < t; c++) mask[r * t + c] = -1e9;
  return { tokens: { shape: [t, V], data: oneHot }, cos: { shape: [t, 1, HD], data: cos }, sin: { shape: [t, 1, HD], data: sin }, rot: { shape: [HD, HD], data: rot }, mask: { shape: [t, t], data: mask } };
}

type Step = (token: number, ids: readonly number[]) => Promise<ArrayLike<number>>;

/** One greedy step's logits row for the last of `ids`, by re-running the full causal window. */
async function fullSteps(weights: Map<string, Tensor>, gpu: GpuContext | null): Promise<Step> {
  const shapes = { tokens: [T, V], mask: [T, T] };
  const { graph } = loadAbitModel('examples/llama.abit', { weights, inputShapes: shapes });
  let run: (ins: ReturnType<typeof llamaInputs>) => Promise<Float32Array | Float64Array>;
  if (gpu) {
    const ex = await Executor.create(gpu, (await compileGraph(graph, { ctx: gpu, inputShapes: shapes })).bundle);
    run = async (ins) => (await ex.run(new Map(Object.entries(ins).map(([k, v]) => [k, v.data])))).outputs.get('logits') as Float32Array;
  } else {
    run = async (ins) => interpret(graph, Object.fromEntries(Object.entries(ins).map(([k, v]) => [k, ndarray(v.shape, v.data)]))).get('logits')?.data as Float64Array;
  }
  return async (_token, ids) => (await run(llamaInputs(ids, T))).subarray((ids.length - 1) * V, ids.length * V);
}

/** llama_decode with host caches: one bundle (or graph) per bucket length, built on first use. */
async function kvSteps(weights: Map<string, Tensor>, gpu: GpuContext | null, buckets: Set<number>): Promise<Step> {
  const cache = new KvCache();
  const runners = new Map<number, (ins: Record<string, Float32Array>) => Promise<Map<string, ArrayLike<number>>>>();
  const runnerFor = async (B: number): Promise<(ins: Record<string, Float32Array>) => Promise<Map<string, ArrayLike<number>>>> => {
    const have = runners.get(B);
    if (have) return have;
    const { layers, kvHeads, hd } = STORIES260K;
    const shapes = { past_k: [layers, kvHeads, B, hd], past_v: [layers, kvHeads, B, hd] };
    const { graph } = loadAbitModel('examples/llama-decode.abit', { weights, inputShapes: shapes });
    let r: (ins: Record<string, Float32Array>) => Promise<Map<string, ArrayLike<number>>>;
    if (gpu) {
      const ex = await Executor.create(gpu, (await compileGraph(graph, { ctx: gpu, inputShapes: shapes })).bundle);
      r = async (ins) => (await ex.run(new Map(Object.entries(ins)))).outputs;
    } else {
      r = async (ins) => new Map([...interpret(graph, Object.fromEntries(Object.entries(ins).map(([k, v]) => [k, ndarray(graph.values.get(k)?.shape as number[], v)])))].map(([k, v]) => [k, v.data]));
    }
    runners.set(B, r);
    buckets.add(B);
    return r;
  };
  return async (token) => {
    const B = cache.bucket();
    const ins = Object.fromEntries(Object.entries(cache.inputs(token, B)).map(([k, v]) => [k, v.data]));
    const outs = await (await runnerFor(B))(ins);
    cache.append(outs.get('new_k') as ArrayLike<number>, outs.get('new_v') as ArrayLike<number>);
    return outs.get('logits') as ArrayLike<number>;
  };
}

async function main(): Promise<void> {
  const weights = loadCheckpoint('../shared/data/llama2c/stories260K.bin');
  const words = vocab('../shared/data/llama2c/tok512.bin');
  const gpu = args.includes('--gpu') ? await acquireDevice() : null;
  const buckets = new Set<number>();
  const step = args.includes('--kv') ? await kvSteps(weights, gpu, buckets) : await fullSteps(weights, gpu);
  const ids = [1];
  let text = '';
  const t0 = performance.now();
  const times: number[] = [];
  for (let s = 0; s < n; s++) {
    const ts = performance.now();
    const row = await step(ids[ids.length - 1] as number, ids);
    times.push(performance.now() - ts);
    let best = 0;
    for (let j = 1; j < V; j++) if ((row[j] as number) > (row[best] as number)) best = j;
    let piece = words[best] ?? '';
    if (ids.length === 1 && piece.startsWith(' ')) piece = piece.slice(1);
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    text += byte ? String.fromCharCode(Number.parseInt(byte[1] as string, 16)) : piece;
    ids.push(best);
  }
  const t1 = performance.now();
  console.log(text);
  const how = `${args.includes('--kv') ? `decode form + KV cache (buckets ${[...buckets].join('/')})` : `full window T=${T}`} on ${gpu ? 'WebGPU' : 'the interpreter'}`;
  // The median step leaves out the steps that compiled a bundle.
  const median = [...times].sort((a, b) => a - b)[times.length >> 1] as number;
  console.error(`${n} tokens, ${how}: ${((t1 - t0) / 1000).toFixed(2)} s in all (${(n / ((t1 - t0) / 1000)).toFixed(1)} tokens/s incl. compiles); median step ${median.toFixed(1)} ms = ${(1000 / median).toFixed(1)} tokens/s`);
  if (gpu) await releaseDevice();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
