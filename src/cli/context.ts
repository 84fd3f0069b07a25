// What every command shares: where its output goes (text or one JSON object) and the GPU.

import { acquireDevice, type GpuContext } from '../runtime/device.ts';

export interface Out {
  json: boolean;
  log(line: string): void;
  result(obj: unknown): void;
}

export function makeOut(json: boolean): Out {
  return {
    json,
    log: (line) => { if (!json) process.stdout.write(`${line}\n`); },
    result: (obj) => { if (json) process.stdout.write(`${JSON.stringify(obj, null, 1)}\n`); },
  };
}

/** Acquires the GPU, or returns null when `optional` and none is available. */
export async function gpu(optional: boolean): Promise<GpuContext | null> {
  try {
    return await acquireDevice();
  } catch (e) {
    if (optional && (e as Error).name === 'NoAdapterError') return null;
    throw e;
  }
}
