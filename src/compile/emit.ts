// Assembles a bundle from lowered kernels and the chosen (template, knobs) per kernel:
// WGSL deduplicated by source, activations placed by the liveness planner, weights (f32, or raw
// u32 words for packed quantized weights) in one aligned blob, and the manifest. Pure: no GPU needed.

import type { AnyKernelTemplate, DeviceInfo, Knobs } from '../../codegen/kernel.ts';
import { emitSource } from '../../codegen/kernels/index.ts';
import type { Graph } from '../ir/graph.ts';
import { getOp } from '../ir/op-table.ts';
import { isConcrete, numel } from '../ir/shape.ts';
import type { Tensor, TensorType } from '../ir/tensor.ts';
import type { DeviceFingerprint } from '../runtime/device.ts';
import { MANIFEST_FORMAT, MANIFEST_VERSION, WEIGHT_ALIGNMENT, type BundleData, type DispatchSpec, type IoSpec, type Manifest, type TensorRef } from '../runtime/manifest.ts';
import { planBuffers, type Lifetime } from '../runtime/planner.ts';
import { tensorToNd } from '../interp/interpreter.ts';
import type { Lowered } from './lower.ts';

export const COMPILER_VERSION = 'anybit 0.1.0';

export interface KernelChoice {
  readonly template: AnyKernelTemplate;
  readonly knobs: Knobs;
}

function hash(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

function f32Bytes(g: Graph, v: string): number {
  const t = g.values.get(v) as TensorType;
  // u32: quantize_act's packed rows, read by WxAy matmul_nbits kernels (4 bytes a word, like f32).
  if (t.dtype !== 'f32' && t.dtype !== 'f16' && t.dtype !== 'u32') throw new Error(`value '${v}' has dtype ${String(t.dtype)}; this version runs f32 tensors only`);
  if (!isConcrete(t.shape)) throw new Error(`value '${v}' has symbolic shape [${t.shape.join(',')}]; bind it with --input`);
  return numel(t.shape) * 4;
}

/** An initializer's bytes in weights.bin: u32 (packed quantized words) raw, everything else as f32. */
function weightBytes(t: Tensor): Uint8Array {
  if (t.dtype === 'u32') return new Uint8Array(Uint32Array.from(t.data).buffer);
  return new Uint8Array(Float32Array.from(tensorToNd(t).data).buffer);
}

export function emitBundle(g: Graph, lowered: Lowered, choices: readonly KernelChoice[], dev: DeviceInfo, tunedFor: DeviceFingerprint | null): BundleData {
  const storage = (v: string): string => lowered.aliases.get(v) ?? v;

  // Weights: every initializer a kernel reads (directly or through a reshape alias).
  const weightRefs = new Map<string, TensorRef>();
  const weightTensors: Manifest['weights']['tensors'][number][] = [];
  let wBytes = 0;
  const used = new Set<string>([...lowered.kernels.flatMap((k) => k.inputs.map(storage)), ...g.outputs.map(storage)]);
  for (const [name, t] of g.initializers) {
    if (!used.has(name)) continue;
    const bytes = numel(t.shape) * 4; // f32 and u32 alike
    weightRefs.set(name, { buffer: -1, offset: wBytes, bytes });
    weightTensors.push({ name, offset: wBytes, bytes, shape: t.shape });
    wBytes = Math.ceil((wBytes + bytes) / WEIGHT_ALIGNMENT) * WEIGHT_ALIGNMENT;
  }
  const weights = new Uint8Array(wBytes);
  for (const wt of weightTensors) {
    weights.set(weightBytes(g.initializers.get(wt.name) as Tensor), wt.offset);
  }

  // Activations: graph inputs and kernel outputs, with lifetimes over dispatch steps.
  const life = new Map<string, { def: number; lastUse: number }>();
  for (const v of g.inputs) life.set(v, { def: -1, lastUse: -1 });
  lowered.kernels.forEach((k, i) => {
    for (const v of k.inputs) {
      const l = life.get(storage(v));
      if (l) l.lastUse = Math.max(l.lastUse, i);
    }
    life.set(k.output, { def: i, lastUse: i });
  });
  for (const o of g.outputs) {
    const l = life.get(storage(o));
    if (l) l.lastUse = Infinity;
  }
  const lifetimes: Lifetime[] = [...life].map(([name, l]) => ({ name, bytes: f32Bytes(g, name), ...l }));
  const plan = planBuffers(lifetimes);
  const refOf = (v: string): TensorRef => {
    const s = storage(v);
    const w = weightRefs.get(s);
    if (w) return w;
    const slot = plan.slotOf.get(s);
    if (slot === undefined) throw new Error(`emit: value '${v}' has no storage`);
    return { buffer: slot, offset: 0, bytes: f32Bytes(g, v) };
  };

  const kernels = new Map<string, string>();
  const kernelMeta: Manifest['kernels'][number][] = [];
  const dispatches: DispatchSpec[] = lowered.kernels.map((k, i) => {
    const c = choices[i] as KernelChoice;
    const wgsl = emitSource(c.template, k.problem, c.knobs, dev);
    const id = `${c.template.name}-${hash(wgsl).slice(0, 12)}`;
    if (!kernels.has(id)) {
      kernels.set(id, wgsl);
      kernelMeta.push({ id, file: `kernels/${id}.wgsl`, template: c.template.name, key: c.template.key(k.problem) });
    }
    const launch = c.template.launch(k.problem, c.knobs);
    const cost = k.nodes.reduce((acc, n) => {
      const ins = n.inputs.filter((v) => v !== '').map((v) => g.values.get(v) as TensorType);
      const outs = n.outputs.map((v) => g.values.get(v) as TensorType);
      const cc = getOp(n.op)?.cost(ins, outs, n.attrs) ?? { flops: 0, bytes: 0 };
      return { flops: acc.flops + cc.flops, bytes: acc.bytes + cc.bytes };
    }, { flops: 0, bytes: 0 });
    return {
      nodes: k.nodes.map((n) => n.name), kernel: id, template: c.template.name, knobs: c.knobs,
      bindings: [...k.inputs.map(refOf), refOf(k.output)], numInputs: k.inputs.length,
      uniforms: launch.uniforms, workgroups: launch.dispatch, flops: cost.flops, bytes: cost.bytes,
    };
  });

  const io = (v: string): IoSpec => ({ name: v, dtype: 'f32', shape: (g.values.get(v) as TensorType).shape as number[], ref: refOf(v) });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, model: g.name, compiler: COMPILER_VERSION, tunedFor,
    inputs: g.inputs.map(io), outputs: g.outputs.map(io), slots: plan.slotBytes,
    weights: { file: 'weights.bin', bytes: wBytes, tensors: weightTensors },
    kernels: kernelMeta, dispatches,
    stats: {
      flops: dispatches.reduce((s, d) => s + d.flops, 0),
      activationBytes: plan.slotBytes.reduce((s, b) => s + b, 0),
      unplannedActivationBytes: lifetimes.reduce((s, l) => s + l.bytes, 0),
      weightBytes: wBytes,
    },
  };
  return { manifest, kernels, weights };
}
