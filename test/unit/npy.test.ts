// .npy read/write: round trips for every dtype, files laid out byte-for-byte as NumPy writes
// them (headers built by hand from the format spec), and each error message.

import { describe, expect, it } from 'vitest';
import { NpyError, readNpy, writeNpy, type NpyData, type NpyDtype } from '../../src/io/npy.ts';

/**
 * A .npy as NumPy's format.py lays it out: magic, version, header length, then the dict plus
 * 21 - len(repr(shape[0])) growth spaces, padded with spaces to 64 bytes and ended by '\n'.
 */
function handMade(dict: string, body: Uint8Array, version: 1 | 2 = 1, firstDim = ''): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  dict += firstDim ? ' '.repeat(21 - firstDim.length) : '';
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(pre + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(body, pre + header.length);
  return out;
}

const le = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f32Body = le(new Float32Array([1, 2, 3, 4, 5, 6.5]));

function npyError(f: () => unknown): string {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(NpyError); return (e as Error).message; }
  throw new Error('expected an NpyError');
}

describe('readNpy', () => {
  it('reads a v1.0 file laid out as NumPy writes it', () => {
    const bytes = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32Body);
    expect(bytes.length).toBe(128 + 24);
    const a = readNpy(bytes);
    expect(a.dtype).toBe('<f4');
    expect(a.shape).toEqual([2, 3]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('reads v2.0 headers, 1-d and 0-d shapes, and an unaligned input view', () => {
    const v2 = readNpy(handMade("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", le(new Int32Array([-1, 0, 7])), 2));
    expect(v2.shape).toEqual([3]);
    expect([...v2.data]).toEqual([-1, 0, 7]);
    const scalar = readNpy(handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", le(new Float64Array([Math.PI]))));
    expect(scalar.shape).toEqual([]);
    expect(scalar.data[0]).toBe(Math.PI);
    const file = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", f32Body);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    expect([...readNpy(shifted.subarray(1)).data]).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('reads int64 as numbers, bool and uint8', () => {
    const i8 = readNpy(handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", le(new BigInt64Array([-5n, 2n ** 40n]))));
    expect(i8.data).toBeInstanceOf(Float64Array);
    expect([...i8.data]).toEqual([-5, 2 ** 40]);
    const b = readNpy(handMade("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", new Uint8Array([1, 0, 1])));
    expect(b.dtype).toBe('|b1');
    expect([...b.data]).toEqual([1, 0, 1]);
    expect(readNpy(handMade("{'descr': '<u1', 'fortran_order': False, 'shape': (1,), }", new Uint8Array([200]))).dtype).toBe('|u1');
  });

  it('accepts key order and quoting NumPy may vary', () => {
    const a = readNpy(handMade('{"shape": (2,3), "fortran_order": False, "descr": "<f4"}', f32Body));
    expect(a.shape).toEqual([2, 3]);
  });

  it('reports each malformed file clearly', () => {
    expect(npyError(() => readNpy(new TextEncoder().encode('PK\x03\x04 not numpy')))).toMatch(/^bad magic/);
    expect(npyError(() => readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32Body.subarray(0, 20)))))
      .toBe('truncated data: expected 24 bytes got 20');
    expect(npyError(() => readNpy(handMade("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)))))
      .toMatch(/^unsupported dtype '<c8'/);
    expect(npyError(() => readNpy(handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", f32Body))))
      .toMatch(/^big-endian data \('>f4'\) is not supported/);
    expect(npyError(() => readNpy(handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f32Body))))
      .toMatch(/^fortran_order=True arrays are not supported/);
    expect(npyError(() => readNpy(handMade("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)))))
      .toMatch(/structured arrays/);
    expect(npyError(() => readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(28)))))
      .toMatch(/4 trailing bytes/);
    expect(npyError(() => readNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", f32Body))))
      .toMatch(/^malformed header/);
    const badVersion = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", f32Body);
    badVersion[6] = 9;
    expect(npyError(() => readNpy(badVersion))).toBe('unsupported .npy format version 9.0');
    expect(npyError(() => readNpy(handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", le(new BigInt64Array([2n ** 60n]))))))
      .toMatch(/does not fit in a float64/);
  });
});

describe('writeNpy', () => {
  it('writes the exact bytes NumPy would for a float32 array', () => {
    const ours = writeNpy([2, 3], new Float32Array([1, 2, 3, 4, 5, 6.5]));
    expect([...ours]).toEqual([...handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32Body, 1, '2')]);
    const wide = writeNpy([123456789, 0], new Float32Array(0));
    expect([...wide]).toEqual([...handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (123456789, 0), }", new Uint8Array(0), 1, '123456789')]);
    expect(new TextDecoder().decode(writeNpy([4], new Int32Array(4)).subarray(10, 70))).toContain("'shape': (4,), }");
  });

  const cases: [NpyDtype, NpyData, { dtype?: NpyDtype }][] = [
    ['<f4', new Float32Array([1.5, -0, NaN, Infinity]), {}],
    ['<f8', new Float64Array([Math.E, -1e300, 5e-324, 0]), {}],
    ['<f2', new Uint16Array([0x3c00, 0xc000, 0x7bff, 1]), {}],
    ['<i4', new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1]), {}],
    ['<u4', new Uint32Array([2 ** 32 - 1, 0, 1, 7]), {}],
    ['|u1', new Uint8Array([0, 255, 7, 1]), {}],
    ['|i1', new Int8Array([-128, 127, 0, -1]), {}],
    ['|b1', new Uint8Array([1, 0, 0, 1]), { dtype: '|b1' }],
    ['<i8', new Float64Array([-(2 ** 53) + 1, 2 ** 53 - 1, 0, -7]), { dtype: '<i8' }],
  ];
  for (const [dtype, data, opts] of cases) {
    it(`round-trips ${dtype}`, () => {
      const back = readNpy(writeNpy([2, 2], data, opts));
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 2]);
      expect(back.data.constructor).toBe(data.constructor);
      expect(le(back.data)).toEqual(le(data));
    });
  }

  it('aligns data to 64 bytes and switches to v2.0 for huge headers', () => {
    for (const shape of [[], [0], [1, 2, 3, 4, 5, 6, 7]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const bytes = writeNpy(shape, new Float32Array(n));
      expect(bytes[6]).toBe(1);
      expect((bytes.length - n * 4) % 64).toBe(0);
      expect(readNpy(bytes).shape).toEqual(shape);
    }
    const long = new Array<number>(25000).fill(1);
    const big = writeNpy(long, new Float32Array(1));
    expect(big[6]).toBe(2);
    expect(readNpy(big).shape).toEqual(long);
  });

  it('rejects mismatched data and impossible dtypes', () => {
    expect(npyError(() => writeNpy([2, 2], new Float32Array(3)))).toBe('data has 3 elements, shape (2, 2) needs 4');
    expect(npyError(() => writeNpy([1], new Float32Array(1), { dtype: '<i4' }))).toBe("cannot write Float32Array as '<i4'");
    expect(npyError(() => writeNpy([1], new Float64Array([0.5]), { dtype: '<i8' }))).toMatch(/safe integers/);
    expect(npyError(() => writeNpy([1], new Uint8Array([2]), { dtype: '|b1' }))).toMatch(/0 or 1/);
  });
});
