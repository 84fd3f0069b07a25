// Runs one candidate kernel on fixed data: once to read its output (for verification), then
// repeatedly to time it. Timing uses GPU timestamps around each repeat's compute pass when the
// device has them, else wall time to queue completion; warm-up runs are discarded and the
// median is reported. This file and search.ts are the only code that times anything.

import type { Launch } from '../../codegen/kernel.ts';
import { packUniforms } from '../../codegen/wgsl/uniforms.ts';
import type { GpuContext } from '../runtime/device.ts';
import { createKernelPipeline } from '../runtime/pipeline.ts';

export interface Timing {
  readonly medianMs: number;
  readonly spreadMs: number;
  readonly samples: readonly number[];
}

export class KernelHarness {
  private readonly buffers: GPUBuffer[] = [];
  private constructor(
    private readonly ctx: GpuContext,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
    private readonly launch: Launch,
    private readonly output: GPUBuffer,
    private readonly outputLength: number,
    owned: GPUBuffer[],
  ) {
    this.buffers = owned;
  }

  /** Compiles `wgsl` (rejecting with the compiler's messages) and uploads the inputs. */
  static async create(ctx: GpuContext, wgsl: string, launch: Launch, inputs: readonly Float32Array[], outputLength: number, label: string): Promise<KernelHarness> {
    const { device } = ctx;
    const U = GPUBufferUsage;
    const pipeline = await createKernelPipeline(device, wgsl, { numInputs: inputs.length, numOutputs: 1, hasUniforms: launch.uniforms.length > 0 }, label);
    const owned: GPUBuffer[] = [];
    const mk = (bytes: number, usage: number): GPUBuffer => {
      const b = device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage });
      owned.push(b);
      return b;
    };
    const entries: GPUBindGroupEntry[] = inputs.map((data, i) => {
      const b = mk(data.byteLength, U.STORAGE | U.COPY_DST);
      device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
      return { binding: i, resource: { buffer: b } };
    });
    const output = mk(outputLength * 4, U.STORAGE | U.COPY_SRC);
    entries.push({ binding: inputs.length, resource: { buffer: output } });
    if (launch.uniforms.length) {
      const u = packUniforms(launch.uniforms);
      const ub = mk(u.byteLength, U.UNIFORM | U.COPY_DST);
      device.queue.writeBuffer(ub, 0, u);
      entries.push({ binding: inputs.length + 1, resource: { buffer: ub } });
    }
    device.pushErrorScope('validation');
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const err = await device.popErrorScope();
    if (err) {
      for (const b of owned) b.destroy();
      throw new Error(`${label}: ${err.message}`);
    }
    return new KernelHarness(ctx, pipeline, bindGroup, launch, output, outputLength, owned);
  }

  private encode(enc: GPUCommandEncoder, ts?: { set: GPUQuerySet; i: number }): void {
    const pass = enc.beginComputePass(ts ? { timestampWrites: { querySet: ts.set, beginningOfPassWriteIndex: ts.i, endOfPassWriteIndex: ts.i + 1 } } : {});
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    const [x, y, z] = this.launch.dispatch;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }

  /** Runs once and returns the output. */
  async run(): Promise<Float32Array> {
    const { device } = this.ctx;
    const bytes = Math.max(4, this.outputLength * 4);
    const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    this.encode(enc);
    enc.copyBufferToBuffer(this.output, 0, read, 0, bytes);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0, this.outputLength * 4));
    read.unmap();
    read.destroy();
    return out;
  }

  async time(warmup: number, repeats: number): Promise<Timing> {
    const { device } = this.ctx;
    for (let i = 0; i < warmup; i++) {
      const enc = device.createCommandEncoder();
      this.encode(enc);
      device.queue.submit([enc.finish()]);
    }
    await device.queue.onSubmittedWorkDone();
    const samples: number[] = [];
    if (this.ctx.hasTimestamps) {
      const set = device.createQuerySet({ type: 'timestamp', count: 2 * repeats });
      const resolve = device.createBuffer({ size: 16 * repeats, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const read = device.createBuffer({ size: 16 * repeats, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = device.createCommandEncoder();
      for (let r = 0; r < repeats; r++) this.encode(enc, { set, i: 2 * r });
      enc.resolveQuerySet(set, 0, 2 * repeats, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * repeats);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      for (let r = 0; r < repeats; r++) samples.push(Number((t[2 * r + 1] as bigint) - (t[2 * r] as bigint)) / 1e6);
      set.destroy();
      resolve.destroy();
      read.destroy();
    } else {
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        const enc = device.createCommandEncoder();
        this.encode(enc);
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        samples.push(performance.now() - t0);
      }
    }
    return summarize(samples);
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}

export function summarize(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))] as number;
  return { medianMs: q(0.5), spreadMs: q(0.9) - q(0.1), samples };
}
