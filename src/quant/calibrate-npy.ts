// Calibration samples from a directory of .npy files: `NAME.npy` (one sample) or `NAME.N.npy`
// (sample N = 0, 1, ...), one file per graph input NAME per sample (NAME with characters outside
// [A-Za-z0-9._-] written as `_`). Every input needs a file in every sample; float32/float64 only.
// Errors are CalibrationError (one line naming the file); no other layout is guessed.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readNpy } from '../io/npy.ts';
import { ndarray } from '../ir/tensor.ts';
import type { CalibrationSample } from './calibrate.ts';

export class CalibrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationError';
  }
}

const fileBase = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, '_');

export function readCalibrationDir(dir: string, inputs: readonly string[]): CalibrationSample[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.npy'));
  } catch (e) {
    throw new CalibrationError(`--calib '${dir}': cannot read the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // sample index (-1 = unnumbered NAME.npy) -> input -> file
  const samples = new Map<number, Map<string, string>>();
  for (const name of inputs) {
    const base = fileBase(name);
    for (const f of files) {
      const stem = f.slice(0, -4);
      let idx: number | undefined;
      if (stem === base) idx = -1;
      else if (stem.startsWith(`${base}.`) && /^\d+$/.test(stem.slice(base.length + 1))) idx = Number(stem.slice(base.length + 1));
      if (idx === undefined) continue;
      const m = samples.get(idx) ?? new Map<string, string>();
      m.set(name, f);
      samples.set(idx, m);
    }
  }
  if (!samples.size) throw new CalibrationError(`--calib '${dir}': no calibration files; expected ${inputs.map((n) => `${fileBase(n)}.npy or ${fileBase(n)}.0.npy`).join(', ')}`);
  const out: CalibrationSample[] = [];
  for (const [idx, m] of [...samples].sort((a, b) => a[0] - b[0])) {
    const missing = inputs.filter((n) => !m.has(n));
    const label = idx < 0 ? 'the unnumbered sample' : `sample ${idx}`;
    if (missing.length) throw new CalibrationError(`--calib '${dir}': ${label} lacks ${missing.map((n) => `${fileBase(n)}${idx < 0 ? '' : `.${idx}`}.npy`).join(', ')}`);
    const sample: Record<string, ReturnType<typeof ndarray>> = {};
    for (const [name, f] of m) {
      const file = path.join(dir, f);
      let arr: ReturnType<typeof readNpy>;
      try {
        arr = readNpy(new Uint8Array(readFileSync(file)));
      } catch (e) {
        throw new CalibrationError(`--calib: '${file}': ${(e as Error).message}`);
      }
      if (arr.dtype !== '<f4' && arr.dtype !== '<f8') throw new CalibrationError(`--calib: '${file}' holds dtype ${arr.dtype}; calibration inputs must be float32 or float64`);
      sample[name] = ndarray(arr.shape, arr.data as Float32Array | Float64Array);
    }
    out.push(sample);
  }
  return out;
}
