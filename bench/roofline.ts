// The adapter's ceilings, measured: device-memory copy bandwidth (bytes read + written per
// second) with a vec4 copy kernel, and FMA throughput with a register-resident FMA chain.

import type { GpuContext } from '../src/runtime/device.ts';
import { PreparedKernel } from '../src/runtime/kernel-runner.ts';
import { timeKernel } from '../src/tuner/measure.ts';

export interface Roofline {
  readonly copyGBs: number;
  readonly fmaGflops: number;
}

const COPY = `@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = g.x + g.y * n.x * 256u;
  if (i < arrayLength(&dst)) { dst[i] = src[i]; }
}`;

const FMA_ITERS = 4096;
const FMA = `@group(0) @binding(0) var<storage, read> seed: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var a = vec4<f32>(seed[0], seed[1], seed[2], f32(g.x) * 1e-9);
  var b = vec4<f32>(0.999, 0.998, 0.997, 0.996);
  var c = vec4<f32>(1e-3);
  for (var i = 0u; i < ${FMA_ITERS}u; i++) { a = fma(a, b, c); b = fma(b, a, c); }
  out[g.x] = a.x + a.y + a.z + a.w + b.x;
}`;

export async function measureRoofline(ctx: GpuContext): Promise<Roofline> {
  const vec4s = (64 << 20) / 16; // 64 MiB each way
  const groups = Math.ceil(vec4s / 256);
  const y = Math.ceil(groups / 65535);
  const copy = await PreparedKernel.create(ctx, COPY, { dispatch: [Math.ceil(groups / y), y, 1], uniforms: [] }, [new Float32Array(vec4s * 4)], [vec4s * 4], 'copy');
  const tc = await timeKernel(ctx, copy, 2, 7);
  copy.destroy();
  const threads = 256 * 256;
  const fma = await PreparedKernel.create(ctx, FMA, { dispatch: [256, 1, 1], uniforms: [] }, [new Float32Array([1, 2, 3, 4])], [threads], 'fma');
  const tf = await timeKernel(ctx, fma, 1, 5);
  fma.destroy();
  return {
    copyGBs: (2 * vec4s * 16) / (tc.medianMs * 1e6),
    fmaGflops: (threads * FMA_ITERS * 2 * 4 * 2) / (tf.medianMs * 1e6),
  };
}
