// The decode form (examples/llama-decode.abit) against the full causal form (llama.abit) with
// the stories260K checkpoint: token t's logits from the KV caches of tokens < t equal the full
// form's logits at position t, on the interpreter (padded and unpadded caches) and on WebGPU.

import { describe, expect, it } from 'vitest';
import { loadAbitModel } from '../../dsl/program.ts';
import { compileGraph } from '../../src/compile/compile.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { ndarray, type Tensor } from '../../src/ir/tensor.ts';
import { Executor } from '../../src/runtime/executor.ts';
import { loadCheckpoint } from '../../src/weights/index.ts';
import { llamaInputs } from '../../scripts/llama-generate.ts';
import { KvCache, STORIES260K } from '../../scripts/llama-kv.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';

const V = 512;
const IDS = [1, 57, 411, 300, 93, 250];
const weights: Map<string, Tensor> = loadCheckpoint('../shared/data/llama2c/stories260K.bin');
const cacheShapes = (B: number): Record<string, number[]> => ({ past_k: [5, 4, B, 8], past_v: [5, 4, B, 8] });

/** Full-form logits [T, V] on the interpreter: the oracle. */
function fullLogits(): Float64Array {
  const T = IDS.length;
  const { graph } = loadAbitModel('examples/llama.abit', { weights, inputShapes: { tokens: [T, V], mask: [T, T] } });
  const ins = Object.fromEntries(Object.entries(llamaInputs(IDS, T)).map(([k, v]) => [k, ndarray(v.shape, v.data)]));
  return interpret(graph, ins).get('logits')?.data as Float64Array;
}

type Outs = Map<string, ArrayLike<number>>;

/** Runs the decode form over IDS; `run(B, inputs)` evaluates one step with caches padded to B. */
async function decodeRows(bucketOf: (c: KvCache) => number, run: (B: number, ins: Record<string, Float32Array>) => Promise<Outs>): Promise<ArrayLike<number>[]> {
  const cache = new KvCache(STORIES260K);
  const rows: ArrayLike<number>[] = [];
  for (const id of IDS) {
    const B = bucketOf(cache);
    const outs = await run(B, Object.fromEntries(Object.entries(cache.inputs(id, B)).map(([k, v]) => [k, v.data])));
    cache.append(outs.get('new_k') as ArrayLike<number>, outs.get('new_v') as ArrayLike<number>);
    rows.push(outs.get('logits') as ArrayLike<number>);
  }
  return rows;
}

/** max |decode - full| over every position, relative to max |full|. */
function relErr(rows: ArrayLike<number>[], full: Float64Array): number {
  let err = 0;
  let ref = 0;
  rows.forEach((row, t) => {
    expect(row.length).toBe(V);
    for (let j = 0; j < V; j++) {
      const want = full[t * V + j] as number;
      err = Math.max(err, Math.abs((row[j] as number) - want));
      ref = Math.max(ref, Math.abs(want));
    }
  });
  return err / ref;
}

const interpRun = async (B: number, ins: Record<string, Float32Array>): Promise<Outs> => {
  const { graph } = loadAbitModel('examples/llama-decode.abit', { weights, inputShapes: cacheShapes(B) });
  const nd = Object.fromEntries(Object.entries(ins).map(([k, v]) => [k, ndarray(graph.values.get(k)?.shape as number[], v)]));
  return new Map([...interpret(graph, nd)].map(([k, v]) => [k, v.data]));
};

describe('LLaMA decode form with a KV cache (interpreter)', () => {
  const full = fullLogits();
  it('matches the full causal form with caches padded to a bucket', async () => {
    expect(relErr(await decodeRows((c) => c.bucket(), interpRun), full)).toBeLessThanOrEqual(1e-4);
  });
  it('matches with unpadded caches (B = past length; one masked slot at the first token)', async () => {
    expect(relErr(await decodeRows((c) => Math.max(1, c.length), interpRun), full)).toBeLessThanOrEqual(1e-4);
  });
});

describe.skipIf(noGpu)('LLaMA decode form with a KV cache (WebGPU)', () => {
  it('matches the interpreter full form at every position', async () => {
    const ctx = await gpu();
    const B = 16;
    const { graph } = loadAbitModel('examples/llama-decode.abit', { weights, inputShapes: cacheShapes(B) });
    const ex = await Executor.create(ctx, (await compileGraph(graph, { ctx, inputShapes: cacheShapes(B) })).bundle);
    try {
      const rows = await decodeRows(() => B, async (_B, ins) => (await ex.run(ins)).outputs);
      expect(relErr(rows, fullLogits())).toBeLessThanOrEqual(1e-4);
    } finally {
      ex.destroy();
    }
  });
});
