// GPU test support: one shared device per test file, and the rule for missing adapters —
// suites are skipped where there is no WebGPU adapter, except when ANYBIT_REQUIRE_GPU=1 (CI),
// where the missing adapter fails the run.

import { acquireDevice, type GpuContext } from '../../src/runtime/device.ts';

let probe: Promise<GpuContext | null> | undefined;

export function gpuOrNull(): Promise<GpuContext | null> {
  probe ??= acquireDevice().catch((e: unknown) => {
    if (process.env.ANYBIT_REQUIRE_GPU === '1') throw e;
    return null;
  });
  return probe;
}

/** True when GPU suites must be skipped (no adapter and not required). */
export const noGpu: boolean = (await gpuOrNull()) === null;

export async function gpu(): Promise<GpuContext> {
  const c = await gpuOrNull();
  if (!c) throw new Error('no WebGPU adapter');
  return c;
}
