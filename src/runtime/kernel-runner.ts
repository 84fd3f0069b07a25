// Runs one kernel once: compiles the WGSL (entry `main`), uploads inputs, dispatches, reads
// outputs back and frees everything it made. For tests, verification and the tuner's
// candidate checks; the executor plans buffers itself. Timing is not done here.

import type { Launch } from '../../codegen/kernel.ts';
import { packUniforms } from '../../codegen/wgsl/uniforms.ts';
import type { GpuContext } from './device.ts';

/** Storage bindings must be non-empty and 4-byte sized, even for a zero-element tensor. */
function paddedSize(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

/** Compiles `wgsl`; throws an Error listing every compilation error (with line:col). */
export async function compileCheck(ctx: GpuContext, wgsl: string): Promise<GPUShaderModule> {
  const { device } = ctx;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: wgsl });
  const info = await module.getCompilationInfo();
  const scopeError = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length || scopeError) {
    const lines = errors.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`);
    if (!lines.length && scopeError) lines.push(scopeError.message);
    throw new Error(`WGSL compilation failed:\n${lines.join('\n')}`);
  }
  return module;
}

function bindGroupLayout(device: GPUDevice, inputs: number, outputs: number, uniforms: boolean): GPUBindGroupLayout {
  // Explicit, not 'auto': an 'auto' layout omits bindings the shader never reads, and the
  // convention binds every input even when a kernel ignores one.
  const entries: GPUBindGroupLayoutEntry[] = [];
  for (let i = 0; i < inputs + outputs; i++) {
    entries.push({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: i < inputs ? 'read-only-storage' : 'storage' } });
  }
  if (uniforms) entries.push({ binding: inputs + outputs, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
  return device.createBindGroupLayout({ entries });
}

export async function runKernel(
  ctx: GpuContext, wgsl: string, launch: Launch,
  inputs: readonly Float32Array[], outputLengths: readonly number[],
): Promise<Float32Array[]> {
  const { device } = ctx;
  const module = await compileCheck(ctx, wgsl);
  const owned: GPUBuffer[] = [];
  const make = (size: number, usage: number): GPUBuffer => {
    const b = device.createBuffer({ size: paddedSize(size), usage });
    owned.push(b);
    return b;
  };
  device.pushErrorScope('validation');
  let scopeOpen = true;
  try {
    const hasUniforms = launch.uniforms.length > 0;
    const layout = bindGroupLayout(device, inputs.length, outputLengths.length, hasUniforms);
    const pipeline = await device.createComputePipelineAsync({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    const entries: GPUBindGroupEntry[] = [];
    inputs.forEach((data, i) => {
      const buf = make(data.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      if (data.length) device.queue.writeBuffer(buf, 0, data);
      entries.push({ binding: i, resource: { buffer: buf } });
    });
    const outs = outputLengths.map((n, j) => {
      const buf = make(n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      entries.push({ binding: inputs.length + j, resource: { buffer: buf } });
      return buf;
    });
    if (hasUniforms) {
      const bytes = packUniforms(launch.uniforms);
      const buf = make(bytes.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      device.queue.writeBuffer(buf, 0, bytes);
      entries.push({ binding: inputs.length + outputLengths.length, resource: { buffer: buf } });
    }
    const reads = outputLengths.map((n) => make(n * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout, entries }));
    const [x, y, z] = launch.dispatch;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    outs.forEach((o, j) => enc.copyBufferToBuffer(o, 0, reads[j] as GPUBuffer, 0, paddedSize((outputLengths[j] as number) * 4)));
    device.queue.submit([enc.finish()]);
    scopeOpen = false;
    const err = await device.popErrorScope();
    if (err) throw new Error(`kernel launch failed validation: ${err.message}`);
    return await Promise.all(reads.map(async (r, j) => {
      await r.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(outputLengths[j] as number);
      out.set(new Float32Array(r.getMappedRange(), 0, out.length));
      r.unmap();
      return out;
    }));
  } finally {
    if (scopeOpen) await device.popErrorScope().catch(() => null);
    for (const b of owned) b.destroy();
  }
}
