// Runs a compiled bundle: weights uploaded once, activation slots allocated once, pipelines
// and bind groups built once; each inference is one command submission (one compute pass
// holding every dispatch, then copies of the outputs to a staging buffer) plus input writes.
// GPU time comes from timestamp-query around the pass where the device has it.

import { packUniforms } from '../../codegen/wgsl/uniforms.ts';
import type { GpuContext } from './device.ts';
import { createKernelPipeline } from './pipeline.ts';
import type { BundleData, DispatchSpec, TensorRef } from './manifest.ts';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export interface RunResult {
  readonly outputs: Map<string, Float32Array>;
  /** Time between the start and end of the compute pass on the GPU, when timestamps exist. */
  readonly gpuMs: number | null;
  readonly wallMs: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

export class Executor {
  private readonly disposables: GPUBuffer[] = [];
  private pipelines = new Map<string, GPUComputePipeline>();
  private steps: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; workgroups: readonly [number, number, number] }[] = [];
  private weights!: GPUBuffer;
  private slots: GPUBuffer[] = [];
  private staging!: GPUBuffer;
  private query: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(readonly ctx: GpuContext, readonly bundle: BundleData) {}

  static async create(ctx: GpuContext, bundle: BundleData): Promise<Executor> {
    const ex = new Executor(ctx, bundle);
    await ex.init();
    return ex;
  }

  private buffer(size: number, usage: number, label: string): GPUBuffer {
    const b = this.ctx.device.createBuffer({ size: Math.max(4, align(size, 4)), usage, label });
    this.disposables.push(b);
    return b;
  }

  private refBuffer(r: TensorRef): GPUBuffer {
    return r.buffer < 0 ? this.weights : (this.slots[r.buffer] as GPUBuffer);
  }

  private async init(): Promise<void> {
    const { device } = this.ctx;
    const m = this.bundle.manifest;
    const U = GPUBufferUsage;
    this.weights = this.buffer(this.bundle.weights.byteLength, U.STORAGE | U.COPY_DST | U.COPY_SRC, 'weights');
    if (this.bundle.weights.byteLength) {
      const w = this.bundle.weights;
      const padded = w.byteLength % 4 ? new Uint8Array(align(w.byteLength, 4)) : w;
      if (padded !== w) padded.set(w);
      device.queue.writeBuffer(this.weights, 0, padded);
    }
    this.slots = m.slots.map((bytes, i) => this.buffer(bytes, U.STORAGE | U.COPY_DST | U.COPY_SRC, `slot${i}`));
    const outBytes = m.outputs.reduce((s, o) => s + align(o.ref.bytes, 4), 0);
    this.staging = this.buffer(outBytes, U.MAP_READ | U.COPY_DST, 'staging');

    const ua = device.limits.minUniformBufferOffsetAlignment;
    const packed = m.dispatches.map((d) => (d.uniforms.length ? packUniforms(d.uniforms) : null));
    const uOffsets: number[] = [];
    let uBytes = 0;
    for (const p of packed) {
      uOffsets.push(uBytes);
      if (p) uBytes = align(uBytes + p.byteLength, ua);
    }
    const uniforms = uBytes ? this.buffer(uBytes, U.UNIFORM | U.COPY_DST, 'uniforms') : null;
    packed.forEach((p, i) => { if (p && uniforms) device.queue.writeBuffer(uniforms, uOffsets[i] as number, p); });

    device.pushErrorScope('validation');
    for (const [i, d] of m.dispatches.entries()) {
      const pipeline = await this.pipeline(d);
      const entries: GPUBindGroupEntry[] = d.bindings.map((r, b) => ({
        binding: b, resource: { buffer: this.refBuffer(r), offset: r.offset, size: Math.max(4, align(r.bytes, 4)) },
      }));
      const p = packed[i];
      if (p && uniforms) entries.push({ binding: d.bindings.length, resource: { buffer: uniforms, offset: uOffsets[i] as number, size: p.byteLength } });
      const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: d.nodes.join(',') });
      this.steps.push({ pipeline, bindGroup, workgroups: d.workgroups });
    }
    const err = await device.popErrorScope();
    if (err) throw new Error(`bundle '${m.model}' does not fit this device: ${err.message}`);

    if (this.ctx.hasTimestamps) {
      this.query = {
        set: device.createQuerySet({ type: 'timestamp', count: 2 }),
        resolve: this.buffer(16, U.QUERY_RESOLVE | U.COPY_SRC, 'ts-resolve'),
        read: this.buffer(16, U.MAP_READ | U.COPY_DST, 'ts-read'),
      };
    }
  }

  private async pipeline(d: DispatchSpec): Promise<GPUComputePipeline> {
    const shape = { numInputs: d.numInputs, numOutputs: d.bindings.length - d.numInputs, hasUniforms: d.uniforms.length > 0 };
    const key = `${d.kernel}|${JSON.stringify(shape)}`;
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const code = this.bundle.kernels.get(d.kernel);
    if (code === undefined) throw new Error(`bundle is missing kernel '${d.kernel}'`);
    const p = await createKernelPipeline(this.ctx.device, code, shape, d.kernel);
    this.pipelines.set(key, p);
    return p;
  }

  /** Runs one inference. Calls are serialised (the staging buffer is shared). */
  run(inputs: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>): Promise<RunResult> {
    const next = this.busy.then(() => this.runOnce(inputs instanceof Map ? inputs : new Map(Object.entries(inputs))));
    this.busy = next.catch(() => undefined);
    return next;
  }

  private async runOnce(inputs: ReadonlyMap<string, Float32Array>): Promise<RunResult> {
    const { device } = this.ctx;
    const m = this.bundle.manifest;
    const t0 = performance.now();
    for (const spec of m.inputs) {
      const data = inputs.get(spec.name);
      const want = spec.ref.bytes / 4;
      if (!data) throw new InputError(`missing input '${spec.name}' (expected f32[${spec.shape.join(',')}]); inputs are: ${m.inputs.map((i) => i.name).join(', ')}`);
      if (data.length !== want) throw new InputError(`input '${spec.name}' has ${data.length} elements, expected ${want} (shape [${spec.shape.join(',')}])`);
      device.queue.writeBuffer(this.refBuffer(spec.ref), spec.ref.offset, data.buffer, data.byteOffset, data.byteLength);
    }
    for (const name of inputs.keys()) {
      if (!m.inputs.some((i) => i.name === name)) throw new InputError(`unknown input '${name}'; inputs are: ${m.inputs.map((i) => i.name).join(', ')}`);
    }
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass(this.query ? { timestampWrites: { querySet: this.query.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
    for (const s of this.steps) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(s.workgroups[0], s.workgroups[1], s.workgroups[2]);
    }
    pass.end();
    let off = 0;
    const offsets: number[] = [];
    for (const o of m.outputs) {
      offsets.push(off);
      enc.copyBufferToBuffer(this.refBuffer(o.ref), o.ref.offset, this.staging, off, align(o.ref.bytes, 4));
      off += align(o.ref.bytes, 4);
    }
    if (this.query) {
      enc.resolveQuerySet(this.query.set, 0, 2, this.query.resolve, 0);
      enc.copyBufferToBuffer(this.query.resolve, 0, this.query.read, 0, 16);
    }
    device.queue.submit([enc.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ);
    const all = new Uint8Array(this.staging.getMappedRange()).slice();
    this.staging.unmap();
    const outputs = new Map<string, Float32Array>();
    m.outputs.forEach((o, i) => outputs.set(o.name, new Float32Array(all.buffer, offsets[i] as number, o.ref.bytes / 4)));
    let gpuMs: number | null = null;
    if (this.query) {
      await this.query.read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(this.query.read.getMappedRange().slice(0));
      this.query.read.unmap();
      gpuMs = Number((t[1] as bigint) - (t[0] as bigint)) / 1e6;
    }
    return { outputs, gpuMs, wallMs: performance.now() - t0 };
  }

  destroy(): void {
    for (const b of this.disposables) b.destroy();
    this.query?.set.destroy();
    this.disposables.length = 0;
  }
}
