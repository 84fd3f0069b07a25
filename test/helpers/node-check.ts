// One-node graphs through the real lowering and kernels vs the interpreter: builds the node,
// lowers it (every kernel it becomes, e.g. one per split output), runs each kernel on the GPU
// with knobs picked by index from its template's valid space, and compares every output.
// Not a test file; it never decides what a kernel should compute.

import { templatesFor } from '../../codegen/kernels/index.ts';
import { lowerGraph } from '../../src/compile/lower.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { numel } from '../../src/ir/shape.ts';
import { ndarray, type NdArray } from '../../src/ir/tensor.ts';
import type { GpuContext } from '../../src/runtime/device.ts';
import { expectKernelMatches, pickKnobs, randomData } from './kernel-check.ts';

export interface NodeCase {
  readonly op: string;
  readonly inputShapes: readonly (readonly number[])[];
  readonly attrs: Attrs;
  readonly knobIndex: number;
  readonly dataSeed: number;
  /** Per-input data overrides (e.g. positive variances); random in [-1, 1) otherwise. */
  readonly data?: readonly (Float32Array | undefined)[];
}

/** Lowers and runs `c` on the GPU; throws with the kernel key and knobs on any mismatch. Returns the kernel count. */
export async function expectNodeMatches(ctx: GpuContext, c: NodeCase): Promise<number> {
  const b = new GraphBuilder(c.op);
  const env: Record<string, NdArray> = {};
  const names = c.inputShapes.map((s, i) => {
    const name = b.input(`in${i}`, 'f32', s);
    env[name] = ndarray(s, c.data?.[i] ?? randomData(numel(s), c.dataSeed + 7919 * i));
    return name;
  });
  const outs = b.opMulti(c.op, names, c.attrs);
  outs.forEach((o) => b.output(o));
  const g = b.build();
  const want = interpret(g, env);
  const { kernels } = lowerGraph(g);
  for (const k of kernels) {
    const ref = want.get(k.output);
    if (!ref) throw new Error(`${c.op}: kernel output '${k.output}' is not a node output`);
    const inputs = k.inputs.map((v) => Float32Array.from((env[v] as NdArray).data));
    for (const t of templatesFor(k.problem)) {
      await expectKernelMatches(ctx, t, k.problem, pickKnobs(t, k.problem, ctx.info, c.knobIndex), inputs, ref.data);
    }
  }
  return kernels.length;
}
