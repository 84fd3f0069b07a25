// Whole-graph check: compile a graph (knobs from `db` when given), run it on the GPU and list
// every output that differs from the float64 interpreter beyond the kernel tolerance.

import { compileGraph } from '../../src/compile/compile.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { NdArray } from '../../src/ir/tensor.ts';
import type { GpuContext } from '../../src/runtime/device.ts';
import { Executor } from '../../src/runtime/executor.ts';
import type { BundleData } from '../../src/runtime/manifest.ts';
import type { TuningDb } from '../../src/tuner/db.ts';
import { compareOutputs } from '../../src/tuner/verify.ts';
import { gpu } from './gpu.ts';

export async function compiledVsInterpreter(g: Graph, inputs: Record<string, NdArray>, db: TuningDb | null = null): Promise<string[]> {
  const ctx = await gpu();
  const { bundle } = await compileGraph(g, { ctx, db, verifyPasses: true });
  return bundleVsInterpreter(ctx, bundle, g, inputs);
}

/** Runs an already compiled `bundle` of `g` and lists the outputs that differ from the interpreter. */
export async function bundleVsInterpreter(ctx: GpuContext, bundle: BundleData, g: Graph, inputs: Record<string, NdArray>): Promise<string[]> {
  const ex = await Executor.create(ctx, bundle);
  try {
    const got = await ex.run(new Map(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v.data)])));
    const problems: string[] = [];
    for (const [name, ref] of interpret(g, inputs)) {
      const bad = compareOutputs(got.outputs.get(name) as Float32Array, ref.data);
      if (bad) problems.push(`${name}: ${bad}`);
    }
    return problems;
  } finally {
    ex.destroy();
  }
}
