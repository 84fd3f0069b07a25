// Greedy decoding with examples/llama.abit and the llama2.c stories260K checkpoint, on the
// float64 interpreter (default) or WebGPU (--gpu): a fixed causal window of T positions is
// recomputed per token (simple, not fast). Prints the text; the reference from BOS starts
// "Once upon a time, there was a little girl named Lily."
// Usage: npx tsx scripts/llama-generate.ts [--tokens 40] [--gpu]

import { readFileSync } from 'node:fs';
import { loadAbitModel } from '../dsl/program.ts';
import { compileGraph } from '../src/compile/compile.ts';
import { interpret } from '../src/interp/interpreter.ts';
import { ndarray } from '../src/ir/tensor.ts';
import { acquireDevice, releaseDevice } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
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

async function main(): Promise<void> {
  const weights = loadCheckpoint('../shared/data/llama2c/stories260K.bin');
  const { graph } = loadAbitModel('examples/llama.abit', { weights, inputShapes: { tokens: [T, V], mask: [T, T] } });
  const words = vocab('../shared/data/llama2c/tok512.bin');
  let run: (ins: ReturnType<typeof llamaInputs>) => Promise<Float64Array | Float32Array>;
  if (args.includes('--gpu')) {
    const ctx = await acquireDevice();
    const { bundle } = await compileGraph(graph, { ctx, inputShapes: { tokens: [T, V], mask: [T, T] } });
    const ex = await Executor.create(ctx, bundle);
    run = async (ins) => (await ex.run(new Map(Object.entries(ins).map(([k, v]) => [k, v.data])))).outputs.get('logits') as Float32Array;
  } else {
    run = async (ins) => interpret(graph, Object.fromEntries(Object.entries(ins).map(([k, v]) => [k, ndarray(v.shape, v.data)]))).get('logits')?.data as Float64Array;
  }
  const ids = [1];
  let text = '';
  for (let step = 0; step < n; step++) {
    const logits = await run(llamaInputs(ids, T));
    const row = logits.subarray((ids.length - 1) * V, ids.length * V);
    let best = 0;
    for (let j = 1; j < V; j++) if ((row[j] as number) > (row[best] as number)) best = j;
    let piece = words[best] ?? '';
    if (ids.length === 1 && piece.startsWith(' ')) piece = piece.slice(1);
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    text += byte ? String.fromCharCode(Number.parseInt(byte[1] as string, 16)) : piece;
    ids.push(best);
  }
  console.log(text);
  await releaseDevice();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
