// Our side of a "first run": a bundle is compiled ahead of time (a build step), so what a user
// waits for is loading the serialized bundle, Executor.create and the first inference. The bundle
// is written to a temporary directory once, untimed, and loaded back from it inside the timing.
// Compile time is measured by the callers and reported on its own (`compileMs`).

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBundle } from '../src/bundle/write.ts';
import { loadBundle } from '../src/runtime/bundle-loader.ts';
import type { GpuContext } from '../src/runtime/device.ts';
import { Executor } from '../src/runtime/executor.ts';
import type { BundleData } from '../src/runtime/manifest.ts';

/** An executor started the way a shipped bundle starts, and the ms that took (load + create). */
export async function executorFromDisk(ctx: GpuContext, bundle: BundleData): Promise<{ ex: Executor; startMs: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-bench-'));
  try {
    await writeBundle(path.join(dir, 'bundle'), bundle);
    const t0 = performance.now();
    const loaded = await loadBundle(path.join(dir, 'bundle'));
    const ex = await Executor.create(ctx, loaded);
    return { ex, startMs: performance.now() - t0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether this process set MESA_SHADER_CACHE_DISABLE itself (see `coldShaderCache`). */
let setHere = false;

/**
 * Makes lavapipe's shader compiles cold for every contender in this process (Mesa reads the
 * variable when the Vulkan instance is made, so call before any WebGPU device or ORT session
 * exists). A value the user set is left alone.
 */
export function coldShaderCache(): void {
  if (process.env.MESA_SHADER_CACHE_DISABLE !== undefined) return;
  process.env.MESA_SHADER_CACHE_DISABLE = 'true';
  setHere = true;
}

/** The shader-cache setting as the results header states it. */
export function shaderCacheNote(): string {
  const v = process.env.MESA_SHADER_CACHE_DISABLE;
  if (v === undefined) return 'Mesa shader cache: on (MESA_SHADER_CACHE_DISABLE unset), so first runs may reuse kernels compiled by earlier processes';
  const cold = v === 'true' || v === '1';
  const by = setHere ? 'set by the suite' : 'from the environment';
  return `MESA_SHADER_CACHE_DISABLE=${v} (${by}): ${cold ? 'first runs compile every kernel cold, for every contender' : 'Mesa shader cache on, so first runs may reuse earlier compiles'}`;
}
