// Uniform packing: 4-byte scalars at 4*i, size rounded to 16 (min 16), little-endian values,
// a struct whose members and padding match the packed bytes, and rejected bad input.

import { describe, expect, it } from 'vitest';
import type { Uniform } from '../../codegen/kernel.ts';
import { packUniforms, uniformLayout, uniformStructWgsl } from '../../codegen/wgsl/uniforms.ts';

const u = (name: string, type: Uniform['type'], value: number): Uniform => ({ name, type, value });

describe('uniform layout', () => {
  it('rounds the size up to 16 bytes, at least 16', () => {
    expect(uniformLayout([]).size).toBe(16);
    for (let n = 1; n <= 9; n++) {
      const l = uniformLayout(Array.from({ length: n }, (_, i) => u(`v${i}`, 'u32', i)));
      expect(l.size).toBe(Math.max(16, Math.ceil((4 * n) / 16) * 16));
      expect(l.fields.map((f) => f.offset)).toEqual(Array.from({ length: n }, (_, i) => 4 * i));
    }
  });

  it('packs u32, i32 and f32 little-endian at their offsets', () => {
    const bytes = packUniforms([u('a', 'u32', 0xdeadbeef), u('b', 'i32', -5), u('c', 'f32', 0.1), u('d', 'f32', -Infinity), u('e', 'u32', 7)]);
    expect(bytes.byteLength).toBe(32);
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(0, true)).toBe(0xdeadbeef);
    expect(v.getInt32(4, true)).toBe(-5);
    expect(v.getFloat32(8, true)).toBe(Math.fround(0.1));
    expect(v.getFloat32(12, true)).toBe(-Infinity);
    expect(v.getUint32(16, true)).toBe(7);
    expect([...bytes.slice(20)]).toEqual(new Array(12).fill(0));
  });

  it('emits a struct whose members and padding match the layout', () => {
    const us = [u('alpha', 'f32', 1), u('n', 'u32', 3), u('off', 'i32', -1), u('beta', 'f32', 0), u('m', 'u32', 2)];
    const text = uniformStructWgsl(us, 'Params');
    const members = [...text.matchAll(/^\s+(\w+): (\w+),$/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(members).toEqual(['alpha:f32', 'n:u32', 'off:i32', 'beta:f32', 'm:u32', '_pad0:u32', '_pad1:u32', '_pad2:u32']);
    expect(members.length * 4).toBe(packUniforms(us).byteLength);
    expect(text.startsWith('struct Params {')).toBe(true);
  });

  it('rejects out-of-range integers, duplicate and malformed names', () => {
    expect(() => packUniforms([u('a', 'u32', -1)])).toThrow(/u32/);
    expect(() => packUniforms([u('a', 'u32', 2 ** 32)])).toThrow(/u32/);
    expect(() => packUniforms([u('a', 'i32', 2 ** 31)])).toThrow(/i32/);
    expect(() => packUniforms([u('a', 'i32', 1.5)])).toThrow(/i32/);
    expect(() => uniformLayout([u('a', 'f32', 1), u('a', 'f32', 2)])).toThrow(/twice/);
    expect(() => uniformLayout([u('1x', 'f32', 1)])).toThrow(/identifier/);
    expect(() => uniformStructWgsl([], 'bad name')).toThrow(/identifier/);
  });
});
