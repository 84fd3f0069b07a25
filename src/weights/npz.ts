// .npy (one tensor, named by the file's base name) and .npz (a zip of .npy files, named by
// entry without '.npy'). Float arrays become f32, integers i32, via src/io/npy.ts.

import { unzipSync } from 'fflate';
import path from 'node:path';
import { readNpy } from '../io/npy.ts';
import { tensor, type Tensor } from '../ir/tensor.ts';
import { WeightsError } from './errors.ts';

function toTensor(bytes: Uint8Array, name: string, file: string): Tensor {
  let a: ReturnType<typeof readNpy>;
  try {
    a = readNpy(bytes);
  } catch (e) {
    throw new WeightsError(`'${file}': ${name}: ${(e as Error).message}`);
  }
  const isFloat = a.dtype === '<f4' || a.dtype === '<f8' || a.dtype === '<f2';
  if (a.dtype === '<f2') throw new WeightsError(`'${file}': ${name}: float16 .npy weights are not supported; save as float32`);
  return isFloat ? tensor('f32', a.shape, Float32Array.from(a.data as ArrayLike<number>)) : tensor('i32', a.shape, Int32Array.from(a.data as ArrayLike<number>));
}

export function readNpyWeights(bytes: Uint8Array, file: string): Map<string, Tensor> {
  const name = path.basename(file).replace(/\.npy$/i, '');
  return new Map([[name, toTensor(bytes, name, file)]]);
}

export function readNpz(bytes: Uint8Array, file: string): Map<string, Tensor> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new WeightsError(`'${file}': corrupted .npz archive (${(e as Error).message})`);
  }
  const out = new Map<string, Tensor>();
  for (const [k, v] of Object.entries(entries)) {
    if (!k.endsWith('.npy')) continue;
    const name = k.slice(0, -4);
    out.set(name, toTensor(v, name, file));
  }
  return out;
}
