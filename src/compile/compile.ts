// The compiler pipeline in one readable function: bind dims -> verify -> passes -> lower ->
// select kernels (the tuner's one entry point) -> emit the bundle. `--emit`-style stops are exposed
// as the intermediate results on the returned object.

import { DEFAULT_DEVICE } from '../../codegen/kernel.ts';
import type { BundleData } from '../runtime/manifest.ts';
import type { GpuContext } from '../runtime/device.ts';
import { bindGraph } from '../ir/bind.ts';
import type { Graph } from '../ir/graph.ts';
import { isConcrete } from '../ir/shape.ts';
import { verifyGraph } from '../ir/verify.ts';
import { selectKernels, type SelectionReport, type TuneOptions } from '../tuner/index.ts';
import type { TuningDb } from '../tuner/db.ts';
import { passContext } from '../passes/pass.ts';
import { defaultPipeline, runPipeline } from '../passes/pipeline.ts';
import type { QuantizeOptions } from '../passes/quantize/quantize-pass.ts';
import { emitBundle } from './emit.ts';
import { lowerGraph, type Lowered } from './lower.ts';

export class CompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompileError';
  }
}

export interface CompileOptions {
  /** Concrete shapes for graph inputs with symbolic dims. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  readonly ctx?: GpuContext | null;
  readonly db?: TuningDb | null;
  readonly tune?: TuneOptions | null;
  /** Verify the graph after every pass (tests turn this on). */
  readonly verifyPasses?: boolean;
  /** Weight-only quantization of matmul/gemm weights (none when absent). */
  readonly quantize?: QuantizeOptions;
  /** Weights larger than this many bytes are split into column blocks (default 128 MiB, WebGPU's guaranteed binding size). */
  readonly maxBindingBytes?: number;
}

export interface CompileResult {
  readonly graph: Graph;
  readonly lowered: Lowered;
  readonly bundle: BundleData;
  readonly selection: SelectionReport;
}

export async function compileGraph(source: Graph, opts: CompileOptions = {}): Promise<CompileResult> {
  const graph = bindGraph(source, opts.inputShapes ?? {});
  const errs = verifyGraph(graph);
  if (errs.length) throw new CompileError(`model '${graph.name}' is invalid:\n  ${errs.join('\n  ')}`);
  const open = graph.inputs.filter((v) => !isConcrete(graph.values.get(v)?.shape ?? []));
  if (open.length) {
    const desc = open.map((v) => `${v}: [${graph.values.get(v)?.shape.join(',')}]`).join(', ');
    throw new CompileError(`inputs with unbound dims: ${desc}; give their shapes with --input NAME=DIMxDIM`);
  }
  const ctxPasses = passContext(opts.verifyPasses ?? false);
  const optimized = runPipeline(graph, ctxPasses, defaultPipeline(opts.quantize, opts.maxBindingBytes));
  const passErrors = ctxPasses.diag.filter((d) => d.severity === 'error');
  if (passErrors.length) throw new CompileError(passErrors.map((d) => `${d.pass}${d.node ? ` (node '${d.node}')` : ''}: ${d.message}`).join('\n'));
  const lowered = lowerGraph(optimized);
  const ctx = opts.ctx ?? null;
  const db = opts.db ?? null;
  const { choices, report } = await selectKernels(optimized, lowered, { ctx, db, tune: opts.tune ?? null });
  const tunedFor = db && report.fromDb > 0 && ctx ? ctx.fingerprint : null;
  const bundle = emitBundle(optimized, lowered, choices, ctx?.info ?? DEFAULT_DEVICE, tunedFor);
  return { graph: optimized, lowered, bundle, selection: report };
}
