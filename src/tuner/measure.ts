// Timing of one prepared kernel: warm-up runs are discarded, then each repeat's compute pass
// is timed with GPU timestamps when the device has them, else by wall time to queue
// completion; the median and the p10-p90 spread are reported. This file and search.ts are
// the only code that times anything.

import type { GpuContext } from '../runtime/device.ts';
import type { PreparedKernel } from '../runtime/kernel-runner.ts';

export interface Timing {
  readonly medianMs: number;
  readonly spreadMs: number;
  readonly samples: readonly number[];
}

export async function timeKernel(ctx: GpuContext, k: PreparedKernel, warmup: number, repeats: number): Promise<Timing> {
  const { device } = ctx;
  for (let i = 0; i < warmup; i++) {
    const enc = device.createCommandEncoder();
    k.encode(enc);
    device.queue.submit([enc.finish()]);
  }
  await device.queue.onSubmittedWorkDone();
  const samples: number[] = [];
  if (ctx.hasTimestamps) {
    const set = device.createQuerySet({ type: 'timestamp', count: 2 * repeats });
    const resolve = device.createBuffer({ size: 16 * repeats, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 16 * repeats, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = device.createCommandEncoder();
      for (let r = 0; r < repeats; r++) k.encode(enc, { querySet: set, beginningOfPassWriteIndex: 2 * r, endOfPassWriteIndex: 2 * r + 1 });
      enc.resolveQuerySet(set, 0, 2 * repeats, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * repeats);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      for (let r = 0; r < repeats; r++) samples.push(Number((t[2 * r + 1] as bigint) - (t[2 * r] as bigint)) / 1e6);
    } finally {
      set.destroy();
      resolve.destroy();
      read.destroy();
    }
  } else {
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      const enc = device.createCommandEncoder();
      k.encode(enc);
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      samples.push(performance.now() - t0);
    }
  }
  return summarize(samples);
}

export function summarize(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))] as number;
  return { medianMs: q(0.5), spreadMs: q(0.9) - q(0.1), samples };
}
