// The runtime on its own: load a bundle and run it on WebGPU, with no compiler code.

export { acquireDevice, releaseDevice, NoAdapterError, type GpuContext, type DeviceFingerprint } from './device.ts';
export { Executor, InputError, type RunResult } from './executor.ts';
export { loadBundle, loadBundleFromUrl, BundleError } from './bundle-loader.ts';
export type { BundleData, Manifest, IoSpec, DispatchSpec, TensorRef } from './manifest.ts';
