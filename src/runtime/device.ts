// Adapter and device acquisition behind one interface: Node (the `webgpu` package, Dawn) or a
// browser (navigator.gpu). Also the device fingerprint the tuning database is keyed by.
// Optional features (timestamp-query, shader-f16, subgroups) are requested when offered.

import type { DeviceInfo } from '../../codegen/kernel.ts';

export interface GpuContext {
  readonly device: GPUDevice;
  readonly info: DeviceInfo;
  readonly fingerprint: DeviceFingerprint;
  readonly hasTimestamps: boolean;
  destroy(): void;
  readonly keepAlive: readonly unknown[];
}

export interface DeviceFingerprint {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly features: readonly string[];
  readonly limits: Readonly<Record<string, number>>;
  /** Short stable id: vendor-architecture-hash. Used for file names and db keys. */
  readonly id: string;
}

const WANTED_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'] as const;
const FINGERPRINT_LIMITS = [
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage',
  'minStorageBufferOffsetAlignment', 'minUniformBufferOffsetAlignment',
] as const;

export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(`no WebGPU adapter available: ${detail}`);
    this.name = 'NoAdapterError';
  }
}

function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process !== 'undefined' && process.versions?.node) {
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
    const mod = (await import('webgpu')) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
    Object.assign(globalThis, mod.globals);
    // Dawn masks the low 16 bits of timestamps (~65 µs) unless told not to: kernels on a real GPU
    // take microseconds, so the tuner and benchmarks need full precision. ANYBIT_DAWN_FLAGS adds more.
    const flags = ['disable-dawn-features=timestamp_quantization', ...(process.env.ANYBIT_DAWN_FLAGS ?? '').split(' ').filter(Boolean)];
    return mod.create(flags);
  }
  throw new NoAdapterError('neither navigator.gpu nor Node with the webgpu package');
}

let shared: Promise<GpuContext> | undefined;

/** One process-wide device (Dawn instances are heavy); `fresh` forces a new one. */
export function acquireDevice(opts: { fresh?: boolean } = {}): Promise<GpuContext> {
  if (!shared || opts.fresh) shared = createContext();
  return shared;
}

/** Destroys the shared device, if one was made (lets Node exit cleanly). */
export async function releaseDevice(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s) (await s.catch(() => null))?.destroy();
}

async function createContext(): Promise<GpuContext> {
  const gpu = await getGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new NoAdapterError('requestAdapter() returned null (on Linux, run scripts/setup-webgpu.sh)');
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const l = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const features = [...device.features].sort();
  const limits: Record<string, number> = {};
  for (const k of FINGERPRINT_LIMITS) limits[k] = (device.limits as unknown as Record<string, number>)[k] ?? 0;
  const ai = adapter.info;
  const base = {
    vendor: ai.vendor || 'unknown', architecture: ai.architecture || 'unknown',
    device: ai.device || '', description: ai.description || '', features, limits,
  };
  const id = `${base.vendor}-${base.architecture}-${fnv(JSON.stringify(base))}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  const fingerprint: DeviceFingerprint = { ...base, id };
  const info: DeviceInfo = {
    features: new Set(features),
    // Older implementations lack the set; then no language extension is assumed.
    wgslFeatures: new Set(gpu.wgslLanguageFeatures ?? []),
    limits: {
      maxComputeWorkgroupSizeX: device.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: device.limits.maxComputeWorkgroupSizeY,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    },
  };
  // The context holds the instance and adapter: if Dawn's instance is garbage-collected while
  // its device lives, the process aborts on the next wait (seen with the `webgpu` package).
  return { device, info, fingerprint, hasTimestamps: device.features.has('timestamp-query'), destroy: () => device.destroy(), keepAlive: [gpu, adapter] };
}
