// One kernel on fixed data, outside any bundle: compiled with the binding convention's
// explicit layout, inputs uploaded once, runnable (and encodable, for timing) many times.
// Used by kernel tests and by the tuner's verify-then-time loop; timing itself lives in
// src/tuner/measure.ts. The executor plans its own buffers.

import type { Launch } from '../../codegen/kernel.ts';
import { packUniforms } from '../../codegen/wgsl/uniforms.ts';
import type { GpuContext } from './device.ts';
import { createKernelPipeline } from './pipeline.ts';

/** Storage bindings must be non-empty and 4-byte sized, even for a zero-element tensor. */
const paddedSize = (bytes: number): number => Math.max(4, Math.ceil(bytes / 4) * 4);

export class PreparedKernel {
  private constructor(
    private readonly ctx: GpuContext,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
    private readonly launch: Launch,
    private readonly outputs: readonly GPUBuffer[],
    private readonly outputLengths: readonly number[],
    private readonly owned: readonly GPUBuffer[],
  ) {}

  /** Compiles `wgsl` (rejecting with the WGSL compiler's messages) and uploads the inputs. */
  static async create(ctx: GpuContext, wgsl: string, launch: Launch, inputs: readonly Float32Array[], outputLengths: readonly number[], label = 'kernel'): Promise<PreparedKernel> {
    const { device } = ctx;
    const U = GPUBufferUsage;
    const pipeline = await createKernelPipeline(device, wgsl, { numInputs: inputs.length, numOutputs: outputLengths.length, hasUniforms: launch.uniforms.length > 0 }, label);
    const owned: GPUBuffer[] = [];
    const make = (bytes: number, usage: number): GPUBuffer => {
      const b = device.createBuffer({ size: paddedSize(bytes), usage });
      owned.push(b);
      return b;
    };
    const entries: GPUBindGroupEntry[] = inputs.map((data, i) => {
      const b = make(data.byteLength, U.STORAGE | U.COPY_DST);
      if (data.length) device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
      return { binding: i, resource: { buffer: b } };
    });
    const outputs = outputLengths.map((n, j) => {
      const b = make(n * 4, U.STORAGE | U.COPY_SRC);
      entries.push({ binding: inputs.length + j, resource: { buffer: b } });
      return b;
    });
    if (launch.uniforms.length) {
      const u = packUniforms(launch.uniforms);
      const ub = make(u.byteLength, U.UNIFORM | U.COPY_DST);
      device.queue.writeBuffer(ub, 0, u);
      entries.push({ binding: inputs.length + outputLengths.length, resource: { buffer: ub } });
    }
    device.pushErrorScope('validation');
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const err = await device.popErrorScope();
    if (err) {
      for (const b of owned) b.destroy();
      throw new Error(`${label}: ${err.message}`);
    }
    return new PreparedKernel(ctx, pipeline, bindGroup, launch, outputs, outputLengths, owned);
  }

  /** Records one dispatch in its own compute pass (with timestamp writes when given). */
  encode(enc: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = enc.beginComputePass(timestampWrites ? { timestampWrites } : {});
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    const [x, y, z] = this.launch.dispatch;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }

  /** Runs once and returns the outputs. */
  async run(): Promise<Float32Array[]> {
    const { device } = this.ctx;
    const reads = this.outputLengths.map((n) => device.createBuffer({ size: paddedSize(n * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
    const enc = device.createCommandEncoder();
    this.encode(enc);
    this.outputs.forEach((o, j) => enc.copyBufferToBuffer(o, 0, reads[j] as GPUBuffer, 0, paddedSize((this.outputLengths[j] as number) * 4)));
    device.queue.submit([enc.finish()]);
    try {
      return await Promise.all(reads.map(async (r, j) => {
        await r.mapAsync(GPUMapMode.READ);
        const out = new Float32Array(this.outputLengths[j] as number);
        out.set(new Float32Array(r.getMappedRange(), 0, out.length));
        r.unmap();
        return out;
      }));
    } finally {
      for (const r of reads) r.destroy();
    }
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
  }
}

/** Compiles, runs once on `inputs`, and frees everything. */
export async function runKernel(ctx: GpuContext, wgsl: string, launch: Launch, inputs: readonly Float32Array[], outputLengths: readonly number[]): Promise<Float32Array[]> {
  const k = await PreparedKernel.create(ctx, wgsl, launch, inputs, outputLengths);
  try {
    return await k.run();
  } finally {
    k.destroy();
  }
}
