// Checkpoint loading by file extension: .pth/.pt (PyTorch zip), .safetensors, .npy/.npz,
// .bin (llama2.c legacy), or `random:SEED` (random.ts). Returns tensors by hierarchical name in file order; every failure
// is one WeightsError line naming the file.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Tensor } from '../ir/tensor.ts';
import { WeightsError } from './errors.ts';
import { readLlama2c } from './llama2c.ts';
import { readNpyWeights, readNpz } from './npz.ts';
import { parseRandomSpec, type GeneratedWeights } from './random.ts';
import { readSafetensors } from './safetensors.ts';
import { readTorchZip } from './torch-zip.ts';

export { WeightsError } from './errors.ts';
export { randomWeights, type GeneratedWeights } from './random.ts';

/** What params bind from: checkpoint tensors by name, or weights generated per declaration. */
export type WeightSource = ReadonlyMap<string, Tensor> | GeneratedWeights;

export const CHECKPOINT_EXTENSIONS = ['.pth', '.pt', '.safetensors', '.npy', '.npz', '.bin'] as const;

export function readCheckpoint(bytes: Uint8Array, file: string): Map<string, Tensor> {
  switch (path.extname(file).toLowerCase()) {
    case '.pth': case '.pt': case '.ckpt': return readTorchZip(bytes, file);
    case '.safetensors': return readSafetensors(bytes, file);
    case '.npz': return readNpz(bytes, file);
    case '.npy': return readNpyWeights(bytes, file);
    case '.bin': return readLlama2c(bytes, file);
    default: throw new WeightsError(`'${file}': unknown checkpoint format (expected ${CHECKPOINT_EXTENSIONS.join(', ')})`);
  }
}

export function loadCheckpoint(file: string): Map<string, Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new WeightsError(`cannot read checkpoint '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return readCheckpoint(bytes, file);
}

/** `--weights` value: `random:SEED` generates, anything else is a checkpoint file. */
export function openWeights(spec: string): WeightSource {
  return parseRandomSpec(spec) ?? loadCheckpoint(spec);
}
