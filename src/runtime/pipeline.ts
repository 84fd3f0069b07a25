// Compute pipelines with explicit layouts following the binding convention of
// codegen/kernel.ts: inputs (read-only storage), outputs (storage), then one uniform buffer.
// Explicit layouts let a kernel leave a binding unused without breaking bind groups.

export interface BindingShape {
  readonly numInputs: number;
  readonly numOutputs: number;
  readonly hasUniforms: boolean;
}

export async function createKernelPipeline(device: GPUDevice, code: string, shape: BindingShape, label: string): Promise<GPUComputePipeline> {
  const entries: GPUBindGroupLayoutEntry[] = [];
  const total = shape.numInputs + shape.numOutputs;
  for (let b = 0; b < total; b++) {
    entries.push({ binding: b, visibility: GPUShaderStage.COMPUTE, buffer: { type: b < shape.numInputs ? 'read-only-storage' : 'storage' } });
  }
  if (shape.hasUniforms) entries.push({ binding: total, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
  const layout = device.createPipelineLayout({ bindGroupLayouts: [device.createBindGroupLayout({ entries })] });
  const module = device.createShaderModule({ code, label });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    throw new Error(`WGSL for ${label} does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
  }
  return device.createComputePipelineAsync({ layout, compute: { module, entryPoint: 'main' }, label });
}
