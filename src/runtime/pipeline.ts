// Compute pipelines with explicit layouts following the binding convention of
// codegen/kernel.ts: inputs (read-only storage), outputs (storage), then one uniform buffer.
// Explicit layouts let a kernel leave a binding unused without breaking bind groups. A kernel
// that does not compile is rejected with the WGSL compiler's messages, naming the kernel.

export interface BindingShape {
  readonly numInputs: number;
  readonly numOutputs: number;
  readonly hasUniforms: boolean;
}

export interface KernelPipelineSpec {
  readonly code: string;
  readonly shape: BindingShape;
  readonly label: string;
}

function pipelineLayout(device: GPUDevice, shape: BindingShape): GPUPipelineLayout {
  const entries: GPUBindGroupLayoutEntry[] = [];
  const total = shape.numInputs + shape.numOutputs;
  for (let b = 0; b < total; b++) {
    entries.push({ binding: b, visibility: GPUShaderStage.COMPUTE, buffer: { type: b < shape.numInputs ? 'read-only-storage' : 'storage' } });
  }
  if (shape.hasUniforms) entries.push({ binding: total, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
  return device.createPipelineLayout({ bindGroupLayouts: [device.createBindGroupLayout({ entries })] });
}

const compileError = (label: string, message: string): Error => new Error(`WGSL for ${label} does not compile: ${message.trim()}`);

export async function createKernelPipeline(device: GPUDevice, code: string, shape: BindingShape, label: string): Promise<GPUComputePipeline> {
  // Errors are collected with an error scope: getCompilationInfo() aborts the process in
  // some Dawn builds, and the scope reports the same WGSL messages.
  const layout = pipelineLayout(device, shape);
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code, label });
  let pipeline: GPUComputePipeline | undefined;
  let failure: string | undefined;
  try {
    pipeline = device.createComputePipeline({ layout, compute: { module, entryPoint: 'main' }, label });
  } catch (e) {
    failure = (e as Error).message;
  }
  const scoped = await device.popErrorScope();
  if (scoped || !pipeline) throw compileError(label, scoped?.message ?? failure ?? 'unknown error');
  return pipeline;
}
