// Checkpoint loaders: a hand-built PyTorch zip (pickle with memo, strided view, f16 storage,
// a non-tensor entry), refused globals, corrupted and truncated files, .safetensors, .npz,
// and the real RLFN and llama2.c checkpoints from ../shared/data.

import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/io/npy.ts';
import { numberToF16Bits } from '../../src/ir/f16.ts';
import { numel } from '../../src/ir/shape.ts';
import { loadCheckpoint, readCheckpoint, WeightsError } from '../../src/weights/index.ts';

const te = new TextEncoder();
const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const str = (s: string): number[] => { const b = [...te.encode(s)]; return [0x58, ...u32(b.length), ...b]; };
const glob = (m: string, n: string): number[] => [0x63, ...te.encode(`${m}\n${n}\n`)];
const MARK = 0x28; const TUPLE = 0x74; const REDUCE = 0x52; const EMPTY_TUPLE = 0x29; const NEWFALSE = 0x89;
const int1 = (n: number): number[] => [0x4b, n];

/** rebuild_tensor_v2(('storage', type, key, 'cpu', numel), offset, size, stride, False, OrderedDict()) */
function tensorPickle(storage: string, key: string, numelOf: number, offset: number, size: number[], stride: number[], memoRebuild: boolean): number[] {
  return [
    ...(memoRebuild ? [0x68, 1] : [...glob('torch._utils', '_rebuild_tensor_v2'), 0x71, 1]),
    MARK, MARK, ...str('storage'), ...glob('torch', storage), ...str(key), ...str('cpu'), ...int1(numelOf), TUPLE, 0x51,
    ...int1(offset), MARK, ...size.flatMap(int1), TUPLE, MARK, ...stride.flatMap(int1), TUPLE, NEWFALSE,
    ...glob('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE, TUPLE, REDUCE,
  ];
}

function stateDictPickle(extra: number[] = []): Uint8Array {
  return new Uint8Array([
    0x80, 2, ...glob('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE, MARK,
    ...str('layer.w'), ...tensorPickle('FloatStorage', '0', 8, 1, [2, 3], [1, 2], false),
    ...str('layer.h'), ...tensorPickle('HalfStorage', '1', 2, 0, [2], [1], true),
    ...str('step'), ...int1(7),
    ...extra,
    0x75, 0x2e, // SETITEMS, STOP
  ]);
}

function torchZip(pkl: Uint8Array, drop: string[] = []): Uint8Array {
  const f16 = new Uint16Array([numberToF16Bits(1.5), numberToF16Bits(-2)]);
  const files: Record<string, Uint8Array> = {
    'ckpt/data.pkl': pkl,
    'ckpt/data/0': new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer),
    'ckpt/data/1': new Uint8Array(f16.buffer),
    'ckpt/version': te.encode('3\n'),
  };
  for (const d of drop) delete files[d];
  return zipSync(files);
}

const expectWeightsError = (f: () => unknown, re: RegExp): void => {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(WeightsError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
};

describe('PyTorch zip checkpoints', () => {
  it('reads a hand-built state_dict: strided view, f16 storage, memo, non-tensor entries skipped', () => {
    const m = readCheckpoint(torchZip(stateDictPickle()), 'tiny.pth');
    expect([...m.keys()]).toEqual(['layer.w', 'layer.h']);
    expect(m.get('layer.w')?.shape).toEqual([2, 3]);
    expect([...(m.get('layer.w')?.data ?? [])]).toEqual([1, 3, 5, 2, 4, 6]);
    expect([...(m.get('layer.h')?.data ?? [])]).toEqual([1.5, -2]);
  });

  it('refuses globals outside the allow-list without executing anything', () => {
    const evil = [...str('x'), ...glob('os', 'system'), ...str('rm -rf /'), 0x85, REDUCE];
    expectWeightsError(() => readCheckpoint(torchZip(stateDictPickle(evil)), 'evil.pth'), /global 'os\.system' is not allowed/);
  });

  it('gives one clear line for corrupted archives, bad pickles and missing storages', () => {
    const good = torchZip(stateDictPickle());
    expectWeightsError(() => readCheckpoint(good.slice(0, good.length - 40), 'cut.pth'), /'cut\.pth': corrupted zip archive/);
    expectWeightsError(() => readCheckpoint(torchZip(stateDictPickle().slice(0, 60)), 'short.pth'), /'short\.pth': pickle: (truncated|unterminated)/);
    expectWeightsError(() => readCheckpoint(torchZip(stateDictPickle(), ['ckpt/data/1']), 'gap.pth'), /storage 1 of tensor 'layer\.h' is missing/);
    expectWeightsError(() => readCheckpoint(new Uint8Array([0x80, 2, 0x8a, 10]), 'old.pth'), /legacy torch\.save format/);
    expectWeightsError(() => readCheckpoint(torchZip(new Uint8Array([0x80, 2, 0xff])), 'op.pth'), /unsupported opcode 0xff at byte 2/);
  });

  it('loads the real RLFN x4 checkpoint: 114 tensors, 543,740 parameters', () => {
    const m = loadCheckpoint('../shared/data/rlfn/rlfn_x4.pth');
    expect(m.size).toBe(114);
    expect([...m.values()].reduce((s, t) => s + numel(t.shape), 0)).toBe(543_740);
    expect(m.get('block_1.esa.conv2.weight')?.shape).toEqual([16, 16, 3, 3]);
    expect(m.get('upsampler.0.weight')?.shape).toEqual([48, 52, 3, 3]);
    expect(m.get('conv_1.weight')?.data[0]).toBeCloseTo(0.0606834, 6);
  });
});

describe('other checkpoint formats', () => {
  it('reads .safetensors (f32 + f16) and rejects out-of-range offsets', () => {
    const header = { __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [1], data_offsets: [8, 10] } };
    const make = (h: object): Uint8Array => {
      const json = te.encode(JSON.stringify(h));
      const out = new Uint8Array(8 + json.length + 10);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(new Uint8Array(new Float32Array([0.5, -3]).buffer), 8 + json.length);
      out.set(new Uint8Array(new Uint16Array([numberToF16Bits(2)]).buffer), 8 + json.length + 8);
      return out;
    };
    const m = readCheckpoint(make(header), 'w.safetensors');
    expect([...(m.get('a')?.data ?? [])]).toEqual([0.5, -3]);
    expect([...(m.get('b')?.data ?? [])]).toEqual([2]);
    expectWeightsError(() => readCheckpoint(make({ ...header, b: { dtype: 'F16', shape: [1], data_offsets: [8, 12] } }), 'bad.safetensors'), /lies outside the file/);
  });

  it('reads .npz archives by entry name', () => {
    const z = zipSync({ 'enc.w.npy': writeNpy([2, 1], new Float32Array([1, 2])), 'n.npy': writeNpy([1], new Int32Array([5])) });
    const m = readCheckpoint(z, 'w.npz');
    expect(m.get('enc.w')?.shape).toEqual([2, 1]);
    expect(m.get('n')?.dtype).toBe('i32');
  });

  it('reads the llama2.c stories260K checkpoint with LLaMA-style names', () => {
    const m = loadCheckpoint('../shared/data/llama2c/stories260K.bin');
    expect(m.get('tok_embeddings.weight')?.shape).toEqual([512, 64]);
    expect(m.get('layers.4.attention.wk.weight')?.shape).toEqual([32, 64]);
    expect(m.get('layers.0.feed_forward.w2.weight')?.shape).toEqual([64, 172]);
    expect(m.get('norm.weight')?.shape).toEqual([64]);
    expect(m.get('output.weight')).toBe(m.get('tok_embeddings.weight'));
    expectWeightsError(() => readCheckpoint(new Uint8Array(40), 'zero.bin'), /implausible llama2\.c header/);
  });
});
