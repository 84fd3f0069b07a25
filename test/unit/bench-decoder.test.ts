// The benchmark's LLaMA-shaped decoder layer (examples/llama-layer.abit via bench/decoder.ts): the
// decode form stepped over its own KV rows equals the prefill form row by row (interpreter, tiny
// shape, grouped KV heads), and the row list is ordered so compressed rows follow their float rows.

import { describe, expect, it } from 'vitest';
import { decoderNames, decoderRows, decoderShape, decoderSource, type DecoderShape } from '../../bench/decoder.ts';
import { DEFAULT_MODEL_PATHS, timedWithin } from '../../bench/models.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { rotary } from '../../scripts/llama-kv.ts';

const S: DecoderShape = { d: 32, hidden: 64, heads: 4, kvHeads: 2, past: 4, prefill: 4 };

const run = (src: ReturnType<typeof decoderSource>): Map<string, Float64Array> => {
  const ins = Object.fromEntries(src.graph.inputs.map((v) => [v, ndarray(src.graph.values.get(v)?.shape as number[], src.feeds.get(v) as Float32Array)]));
  return new Map([...interpret(src.graph, ins)].map(([k, v]) => [k, Float64Array.from(v.data)]));
};

describe('LLaMA-shaped decoder layer (bench)', () => {
  it('decode steps over a padded KV cache reproduce the prefill rows', () => {
    const pre = decoderSource(S, 'prefill');
    const want = run(pre).get('y') as Float64Array;
    const x = pre.feeds.get('x') as Float32Array;
    const hd = S.d / S.heads;
    const B = S.prefill;
    // The decode graph is bound to a cache of B slots; slots at and after t are padding (masked).
    const dec = decoderSource({ ...S, past: B }, 'decode');
    const k = new Float32Array(S.kvHeads * B * hd);
    const v = new Float32Array(k.length);
    let err = 0;
    let ref = 0;
    for (let t = 0; t < S.prefill; t++) {
      const r = rotary(t, hd);
      const mask = new Float32Array(B + 1);
      for (let j = t; j < B; j++) mask[j] = -1e9;
      const feeds = new Map([...dec.feeds, ['x', x.slice(t * S.d, (t + 1) * S.d)], ['cos', r.cos], ['sin', r.sin], ['past_k', k.slice()], ['past_v', v.slice()], ['mask', mask]]);
      const out = run({ ...dec, feeds });
      const [y, nk, nv] = ['y', 'new_k', 'new_v'].map((n) => out.get(n) as Float64Array) as [Float64Array, Float64Array, Float64Array];
      for (let h = 0; h < S.kvHeads; h++) {
        k.set(nk.subarray(h * hd, (h + 1) * hd), (h * B + t) * hd);
        v.set(nv.subarray(h * hd, (h + 1) * hd), (h * B + t) * hd);
      }
      for (let i = 0; i < S.d; i++) {
        err = Math.max(err, Math.abs((y[i] as number) - (want[t * S.d + i] as number)));
        ref = Math.max(ref, Math.abs(want[t * S.d + i] as number));
      }
    }
    expect(ref).toBeGreaterThan(0);
    expect(err / ref).toBeLessThan(1e-6);
  });

  it('names carry the shape; compressed rows come after the float row they cite', () => {
    for (const quick of [true, false]) {
      const names = decoderRows(quick, DEFAULT_MODEL_PATHS).map((r) => r.name);
      const n = decoderNames(decoderShape(quick));
      expect(new Set(names).size).toBe(names.length);
      expect(names.slice(0, 2)).toEqual([n.decode, n.prefill]);
      for (const c of names.slice(2)) expect(c.startsWith(n.decode) || c.startsWith(n.prefill) || c.startsWith('RLFN x4 1x3x256x256 W')).toBe(true);
      expect(names.filter((c) => c.includes('W4A8'))).toHaveLength(2);
      expect(names.some((c) => c.startsWith('RLFN'))).toBe(!quick);
    }
    expect(decoderNames(decoderShape(false)).prefill).toBe('LLaMA-shaped decoder layer d1024 h16 ffn2816, 128-token prefill');
  });

  it('timedWithin: check before more runs; a slow model keeps its warm run as the one sample', async () => {
    const runs = (ms: number) => {
      const log = { n: 0 };
      return { log, run: async () => { log.n++; await new Promise((r) => setTimeout(r, ms)); return { out: Float32Array.of(log.n) }; } };
    };
    const fast = runs(1);
    expect((await timedWithin(4, fast.run, () => undefined, 10_000)).samples).toBe(4);
    expect(fast.log.n).toBe(6);
    const slow = runs(40);
    const t = await timedWithin(4, slow.run, () => undefined, 30);
    expect([t.samples, slow.log.n]).toEqual([1, 2]);
    expect(t.medianMs).toBeGreaterThanOrEqual(35);
    const bad = runs(1);
    await expect(timedWithin(4, bad.run, () => { throw new Error('wrong output'); })).rejects.toThrow('wrong output');
    expect(bad.log.n).toBe(1);
  });
});
