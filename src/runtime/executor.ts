// Runs a compiled bundle: weights uploaded once, activation slots allocated once, pipelines (one
// per distinct kernel) and bind groups built once; each inference is one command submission (one
// compute pass holding every dispatch, then copies of the outputs to a staging buffer) plus input
// writes. GPU time comes from timestamp-query around the pass; `profile` times each dispatch alone.

import { packUniforms } from '../../codegen/wgsl/uniforms.ts';
import type { GpuContext } from './device.ts';
import { pageOf, weightPages, type WeightPage } from './weight-pages.ts';
import { createKernelPipeline, type KernelPipelineSpec } from './pipeline.ts';
import type { BundleData, DispatchSpec, TensorRef } from './manifest.ts';
import { encodeTimedPasses, wallTimedSteps, type DispatchProfile, type ProfiledStep, type ProfileResult } from './profile.ts';

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

type Inputs = ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;

export class Executor {
  private readonly disposables: GPUBuffer[] = [];
  private steps: ProfiledStep[] = [];
  /** weights.bin as pages (src/runtime/weight-pages.ts), usually one, and their buffers. */
  private pages: WeightPage[] = [];
  private pageBuffers: GPUBuffer[] = [];
  private slots: GPUBuffer[] = [];
  private staging!: GPUBuffer;
  private query: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  /** Where Executor.create spent its time (ms): buffers and uploads, pipelines, bind groups. */
  readonly createMs = { buffers: 0, pipelines: 0, bindGroups: 0 };

  private constructor(readonly ctx: GpuContext, readonly bundle: BundleData) {}

  /** `maxBufferBytes` (default: the device's maxBufferSize) caps each weight page. */
  static async create(ctx: GpuContext, bundle: BundleData, opts: { maxBufferBytes?: number } = {}): Promise<Executor> {
    const ex = new Executor(ctx, bundle);
    await ex.init(opts.maxBufferBytes ?? ctx.device.limits.maxBufferSize);
    return ex;
  }

  private buffer(size: number, usage: number, label: string): GPUBuffer {
    const b = this.ctx.device.createBuffer({ size: Math.max(4, align(size, 4)), usage, label });
    this.disposables.push(b);
    return b;
  }

  /** The buffer holding `r` and its offset there. */
  private locate(r: TensorRef): { buffer: GPUBuffer; offset: number } {
    if (r.buffer >= 0) return { buffer: this.slots[r.buffer] as GPUBuffer, offset: r.offset };
    const i = this.pages.length === 1 ? 0 : pageOf(this.pages, r.offset, r.bytes);
    return { buffer: this.pageBuffers[i] as GPUBuffer, offset: r.offset - (this.pages[i] as WeightPage).start };
  }

  private async init(maxBufferBytes: number): Promise<void> {
    const { device } = this.ctx;
    const m = this.bundle.manifest;
    const U = GPUBufferUsage;
    let t = performance.now();
    const w = this.bundle.weights;
    const refs = [...m.dispatches.flatMap((d) => d.bindings), ...m.outputs.map((o) => o.ref)].filter((r) => r.buffer < 0);
    this.pages = weightPages(refs, w.byteLength, maxBufferBytes);
    this.pageBuffers = this.pages.map((page, i) => {
      const buffer = this.buffer(page.end - page.start, U.STORAGE | U.COPY_DST | U.COPY_SRC, `weights${i}`);
      const bytes = w.subarray(page.start, page.end);
      const padded = bytes.byteLength % 4 ? new Uint8Array(align(bytes.byteLength, 4)) : bytes;
      if (padded !== bytes) padded.set(bytes);
      if (padded.byteLength) device.queue.writeBuffer(buffer, 0, padded);
      return buffer;
    });
    this.slots = m.slots.map((bytes, i) => this.buffer(bytes, U.STORAGE | U.COPY_DST | U.COPY_SRC, `slot${i}`));
    const outBytes = m.outputs.reduce((s, o) => s + align(o.ref.bytes, 4), 0);
    this.staging = this.buffer(outBytes, U.MAP_READ | U.COPY_DST, 'staging');

    // Every dispatch's uniforms in one buffer, written once (one writeBuffer, not one per dispatch).
    const ua = device.limits.minUniformBufferOffsetAlignment;
    const packed = m.dispatches.map((d) => (d.uniforms.length ? packUniforms(d.uniforms) : null));
    const uOffsets: number[] = [];
    let uBytes = 0;
    for (const p of packed) {
      uOffsets.push(uBytes);
      if (p) uBytes = align(uBytes + p.byteLength, ua);
    }
    const uniforms = uBytes ? this.buffer(uBytes, U.UNIFORM | U.COPY_DST, 'uniforms') : null;
    if (uniforms) {
      const blob = new Uint8Array(uBytes);
      packed.forEach((p, i) => { if (p) blob.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), uOffsets[i] as number); });
      device.queue.writeBuffer(uniforms, 0, blob);
    }
    const now = (): number => {
      const dt = performance.now() - t;
      t = performance.now();
      return dt;
    };
    this.createMs.buffers = now();

    const pipelines = await this.createPipelines(m.dispatches);
    this.createMs.pipelines = now();

    device.pushErrorScope('validation');
    for (const [i, d] of m.dispatches.entries()) {
      const pipeline = pipelines[i] as GPUComputePipeline;
      const entries: GPUBindGroupEntry[] = d.bindings.map((r, b) => ({
        binding: b, resource: { ...this.locate(r), size: Math.max(4, align(r.bytes, 4)) },
      }));
      const p = packed[i];
      if (p && uniforms) entries.push({ binding: d.bindings.length, resource: { buffer: uniforms, offset: uOffsets[i] as number, size: p.byteLength } });
      const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: d.nodes.join(',') });
      this.steps.push({ pipeline, bindGroup, workgroups: d.workgroups });
    }
    const err = await device.popErrorScope();
    if (err) throw new Error(`bundle '${m.model}' does not fit this device: ${err.message}`);
    this.createMs.bindGroups = now();

    if (this.ctx.hasTimestamps) {
      this.query = {
        set: device.createQuerySet({ type: 'timestamp', count: 2 }),
        resolve: this.buffer(16, U.QUERY_RESOLVE | U.COPY_SRC, 'ts-resolve'),
        read: this.buffer(16, U.MAP_READ | U.COPY_DST, 'ts-read'),
      };
    }
  }

  /**
   * One pipeline per distinct (kernel, binding shape), returned per dispatch. Created one by one:
   * createComputePipelineAsync over all of them at once was slower on Dawn + lavapipe (PP-OCR cls,
   * 62 kernels: 460-536 ms against 327-353 ms; det 80 kernels: 515-568 against 380-500), its CPU
   * time equal to its wall time, so Dawn does not compile them in parallel there.
   */
  private async createPipelines(dispatches: readonly DispatchSpec[]): Promise<GPUComputePipeline[]> {
    const specs: KernelPipelineSpec[] = [];
    const indexOf = new Map<string, number>();
    const which = dispatches.map((d) => {
      const shape = { numInputs: d.numInputs, numOutputs: d.bindings.length - d.numInputs, hasUniforms: d.uniforms.length > 0 };
      const key = `${d.kernel}|${JSON.stringify(shape)}`;
      let at = indexOf.get(key);
      if (at === undefined) {
        const code = this.bundle.kernels.get(d.kernel);
        if (code === undefined) throw new Error(`bundle is missing kernel '${d.kernel}'`);
        at = specs.push({ code, shape, label: d.kernel }) - 1;
        indexOf.set(key, at);
      }
      return at;
    });
    const pipelines: GPUComputePipeline[] = [];
    for (const sp of specs) pipelines.push(await createKernelPipeline(this.ctx.device, sp.code, sp.shape, sp.label));
    return which.map((at) => pipelines[at] as GPUComputePipeline);
  }

  /** Distinct pipelines this executor built (dispatches with byte-identical kernels share one). */
  get pipelineCount(): number {
    return new Set(this.steps.map((s) => s.pipeline)).size;
  }

  /** Runs one inference. Calls are serialised (the staging buffer is shared). */
  run(inputs: Inputs): Promise<RunResult> {
    return this.serialised(async () => {
      const t0 = performance.now();
      this.writeInputs(inputs);
      const enc = this.ctx.device.createCommandEncoder();
      const pass = enc.beginComputePass(this.query ? { timestampWrites: { querySet: this.query.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
      for (const s of this.steps) {
        pass.setPipeline(s.pipeline);
        pass.setBindGroup(0, s.bindGroup);
        pass.dispatchWorkgroups(s.workgroups[0], s.workgroups[1], s.workgroups[2]);
      }
      pass.end();
      const read = this.encodeOutputCopies(enc);
      if (this.query) {
        enc.resolveQuerySet(this.query.set, 0, 2, this.query.resolve, 0);
        enc.copyBufferToBuffer(this.query.resolve, 0, this.query.read, 0, 16);
      }
      this.ctx.device.queue.submit([enc.finish()]);
      const outputs = await read();
      let gpuMs: number | null = null;
      if (this.query) {
        await this.query.read.mapAsync(GPUMapMode.READ);
        const t = new BigUint64Array(this.query.read.getMappedRange().slice(0));
        this.query.read.unmap();
        gpuMs = Number((t[1] as bigint) - (t[0] as bigint)) / 1e6;
      }
      return { outputs, gpuMs, wallMs: performance.now() - t0 };
    });
  }

  /**
   * Runs one inference with every dispatch in its own compute pass, timed alone: GPU timestamps
   * where the device has them, else one submission per dispatch on the wall clock. The outputs
   * are those of a normal run; the times exclude the pass merging `run` gets.
   */
  profile(inputs: Inputs): Promise<ProfileResult> {
    return this.serialised(async () => {
      const { device } = this.ctx;
      const t0 = performance.now();
      this.writeInputs(inputs);
      let times: number[];
      let outputs: Map<string, Float32Array>;
      if (this.ctx.hasTimestamps) {
        const enc = device.createCommandEncoder();
        const readTimes = encodeTimedPasses(device, enc, this.steps);
        const read = this.encodeOutputCopies(enc);
        device.queue.submit([enc.finish()]);
        outputs = await read();
        times = await readTimes();
      } else {
        times = await wallTimedSteps(device, this.steps);
        const enc = device.createCommandEncoder();
        const read = this.encodeOutputCopies(enc);
        device.queue.submit([enc.finish()]);
        outputs = await read();
      }
      const dispatches: DispatchProfile[] = this.bundle.manifest.dispatches.map((d, index) => ({
        index, kernel: d.kernel, template: d.template, nodes: d.nodes, workgroups: d.workgroups, ms: times[index] ?? 0,
      }));
      return { outputs, dispatches, timing: this.ctx.hasTimestamps ? 'timestamp' : 'wall', wallMs: performance.now() - t0 };
    });
  }

  private serialised<T>(job: () => Promise<T>): Promise<T> {
    const next = this.busy.then(job);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private writeInputs(given: Inputs): void {
    const inputs: ReadonlyMap<string, Float32Array> = given instanceof Map ? given : new Map(Object.entries(given));
    const m = this.bundle.manifest;
    for (const spec of m.inputs) {
      const data = inputs.get(spec.name);
      const want = spec.ref.bytes / 4;
      if (!data) throw new InputError(`missing input '${spec.name}' (expected f32[${spec.shape.join(',')}]); inputs are: ${m.inputs.map((i) => i.name).join(', ')}`);
      if (data.length !== want) throw new InputError(`input '${spec.name}' has ${data.length} elements, expected ${want} (shape [${spec.shape.join(',')}])`);
    }
    for (const name of inputs.keys()) {
      if (!m.inputs.some((i) => i.name === name)) throw new InputError(`unknown input '${name}'; inputs are: ${m.inputs.map((i) => i.name).join(', ')}`);
    }
    for (const spec of m.inputs) {
      const data = inputs.get(spec.name) as Float32Array;
      const at = this.locate(spec.ref);
      this.ctx.device.queue.writeBuffer(at.buffer, at.offset, data.buffer, data.byteOffset, data.byteLength);
    }
  }

  /** Copies the outputs to the staging buffer; the returned function maps it after the submission. */
  private encodeOutputCopies(enc: GPUCommandEncoder): () => Promise<Map<string, Float32Array>> {
    const m = this.bundle.manifest;
    let off = 0;
    const offsets: number[] = [];
    for (const o of m.outputs) {
      offsets.push(off);
      const at = this.locate(o.ref);
      enc.copyBufferToBuffer(at.buffer, at.offset, this.staging, off, align(o.ref.bytes, 4));
      off += align(o.ref.bytes, 4);
    }
    return async () => {
      await this.staging.mapAsync(GPUMapMode.READ);
      const all = new Uint8Array(this.staging.getMappedRange()).slice();
      this.staging.unmap();
      const outputs = new Map<string, Float32Array>();
      m.outputs.forEach((o, i) => outputs.set(o.name, new Float32Array(all.buffer, offsets[i] as number, o.ref.bytes / 4)));
      return outputs;
    };
  }

  destroy(): void {
    for (const b of this.disposables) b.destroy();
    this.query?.set.destroy();
    this.disposables.length = 0;
  }
}
