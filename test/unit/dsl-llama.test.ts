// examples/llama.abit with the real llama2.c stories260K checkpoint, on the float64
// interpreter: the checkpoint binds unchanged (48 names) and greedy decoding from BOS
// reproduces the reference opening of ../shared/data/README.md.

import { describe, expect, it } from 'vitest';
import { loadAbitModel } from '../../dsl/program.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { loadCheckpoint } from '../../src/weights/index.ts';
import { llamaInputs, vocab } from '../../scripts/llama-generate.ts';

describe('LLaMA (stories260K) from the DSL', () => {
  it('greedy-decodes the reference text', () => {
    const T = 12;
    const weights = loadCheckpoint('../shared/data/llama2c/stories260K.bin');
    const { graph } = loadAbitModel('examples/llama.abit', { weights, inputShapes: { tokens: [T, 512], mask: [T, T] } });
    expect(graph.values.get('logits')?.shape).toEqual([T, 512]);
    const words = vocab('../shared/data/llama2c/tok512.bin');
    const ids = [1];
    while (ids.length < T) {
      const ins = Object.fromEntries(Object.entries(llamaInputs(ids, T)).map(([k, v]) => [k, ndarray(v.shape, v.data)]));
      const row = (interpret(graph, ins).get('logits')?.data as Float64Array).subarray((ids.length - 1) * 512, ids.length * 512);
      ids.push(row.indexOf(Math.max(...row)));
    }
    expect(ids.slice(1).map((i) => words[i]).join('').trim()).toBe('Once upon a time, there was a little gir');
  });
});
