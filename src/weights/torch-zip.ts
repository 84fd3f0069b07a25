// PyTorch zip checkpoints (`torch.save` since 1.6): `<root>/data.pkl` holds the pickled
// state_dict (read by our safe unpickler), `<root>/data/<key>` the raw storages. A dict nested
// under 'state_dict'/'model'/'params' is unwrapped; non-tensor entries are skipped.

import { unzipSync } from 'fflate';
import type { Tensor } from '../ir/tensor.ts';
import { decodeTensor, type ElemType } from './decode.ts';
import { WeightsError } from './errors.ts';
import { unpickle, type PyValue, type TensorRef } from './pickle.ts';

const STORAGE_TYPES: Readonly<Record<string, ElemType>> = {
  FloatStorage: 'f32', HalfStorage: 'f16', BFloat16Storage: 'bf16', DoubleStorage: 'f64', LongStorage: 'i64',
  IntStorage: 'i32', ShortStorage: 'i16', CharStorage: 'i8', ByteStorage: 'u8', BoolStorage: 'bool',
};

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b;
}

function isTensorRef(v: PyValue): v is TensorRef {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'tensor';
}

export function readTorchZip(bytes: Uint8Array, file: string): Map<string, Tensor> {
  if (!isZip(bytes)) {
    throw new WeightsError(`'${file}': not a zip checkpoint (legacy torch.save format is not supported; re-save with a current PyTorch)`);
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new WeightsError(`'${file}': corrupted zip archive (${(e as Error).message})`);
  }
  const pkl = Object.keys(entries).find((k) => /(^|\/)data\.pkl$/.test(k));
  if (!pkl) throw new WeightsError(`'${file}': zip has no data.pkl; is this a PyTorch checkpoint?`);
  const root = pkl.slice(0, pkl.length - 'data.pkl'.length);
  let obj: PyValue;
  try {
    obj = unpickle(entries[pkl] as Uint8Array);
  } catch (e) {
    throw new WeightsError(`'${file}': ${(e as Error).message}`);
  }
  for (const k of ['state_dict', 'model', 'params', 'params_ema']) {
    if (obj instanceof Map && !([...obj.values()].some(isTensorRef)) && obj.get(k) instanceof Map) obj = obj.get(k) as PyValue;
  }
  if (!(obj instanceof Map)) throw new WeightsError(`'${file}': data.pkl does not hold a dict of tensors`);
  const out = new Map<string, Tensor>();
  for (const [k, v] of obj) {
    if (typeof k !== 'string' || !isTensorRef(v)) continue;
    const et = STORAGE_TYPES[v.storage.storageType];
    if (!et) throw new WeightsError(`'${file}': tensor '${k}' has unsupported storage type ${v.storage.storageType}`);
    const raw = entries[`${root}data/${v.storage.key}`];
    if (!raw) throw new WeightsError(`'${file}': storage ${v.storage.key} of tensor '${k}' is missing from the archive`);
    try {
      out.set(k, decodeTensor(k, et, raw, v.shape, v.offset, v.stride));
    } catch (e) {
      throw new WeightsError(`'${file}': ${(e as Error).message}`);
    }
  }
  return out;
}
