// Pieces shared by the IR text printer and parser: name quoting, number spelling, host-array
// kinds with their little-endian bytes, base64 and the summary hash. Invariant: every encoder
// here has an exact inverse (bytes, numbers incl. -0/±inf, names with any characters).
// Does not know the grammar; print.ts and parse.ts own that.

import { isPacked, type DType } from './dtype.ts';
import type { HostArray } from './tensor.ts';

/** Value and node names after `%` / `@` may be bare when they match this; else JSON-quoted. */
export const BARE_NAME = /^[A-Za-z0-9_.]+$/;
/** Graph names, op names, attr keys and symbolic dims: bare when they match this. */
export const BARE_IDENT = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export function quoteName(name: string): string {
  return BARE_NAME.test(name) ? name : JSON.stringify(name);
}

export function quoteIdent(name: string): string {
  return BARE_IDENT.test(name) ? name : JSON.stringify(name);
}

/** Shortest decimal that reads back to the same double; `String` alone loses -0. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

export type HostKind = 'f32' | 'f64' | 'u16' | 'i32' | 'u32' | 'u8' | 'i8';

const HOST_CTORS = {
  f32: Float32Array, f64: Float64Array, u16: Uint16Array, i32: Int32Array,
  u32: Uint32Array, u8: Uint8Array, i8: Int8Array,
} as const;

export const HOST_KINDS = Object.keys(HOST_CTORS) as HostKind[];

export function isHostKind(s: string): s is HostKind {
  return Object.hasOwn(HOST_CTORS, s);
}

export function hostKindOf(a: HostArray): HostKind {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int8Array) return 'i8';
  return 'u8';
}

/** The array a dtype's initializer data normally lives in (see tensor.ts); others are tagged. */
export function canonicalHostKind(d: DType): HostKind {
  if (isPacked(d)) return d.signed ? 'i8' : 'u8';
  switch (d) {
    case 'f32': return 'f32';
    case 'f16': return 'u16';
    case 'i32': return 'i32';
    case 'u32': return 'u32';
    case 'bool': return 'u8';
  }
}

export function hostBytesPerElement(k: HostKind): number {
  return HOST_CTORS[k].BYTES_PER_ELEMENT;
}

export function newHostArray(k: HostKind, length: number): HostArray {
  return new HOST_CTORS[k](length);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a typed array (a copy only on big-endian hosts). */
export function littleEndianBytes(a: HostArray): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN || a.BYTES_PER_ELEMENT === 1) return bytes;
  return swapped(bytes, a.BYTES_PER_ELEMENT);
}

/** A fresh array of kind `k` from little-endian bytes; the length must divide evenly. */
export function fromLittleEndianBytes(k: HostKind, bytes: Uint8Array): HostArray {
  const size = hostBytesPerElement(k);
  const own = size > 1 && !LITTLE_ENDIAN ? swapped(bytes, size) : bytes.slice();
  return new HOST_CTORS[k](own.buffer as ArrayBuffer, own.byteOffset, own.byteLength / size);
}

function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j] as number;
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

// Own codec rather than Buffer/btoa: src/ir must also load in browsers, and btoa needs a
// binary string as large as the data.
export function encodeBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    chunk += `${B64[n >>> 18]}${B64[(n >>> 12) & 63]}${B64[(n >>> 6) & 63]}${B64[n & 63]}`;
    if (chunk.length >= 8192) { parts.push(chunk); chunk = ''; }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    chunk += `${B64[n >>> 18]}${B64[(n >>> 12) & 63]}==`;
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    chunk += `${B64[n >>> 18]}${B64[(n >>> 12) & 63]}${B64[(n >>> 6) & 63]}=`;
  }
  parts.push(chunk);
  return parts.join('');
}

/** Decoded bytes, or an error message (strict: padding required, no whitespace). */
export function decodeBase64(s: string): Uint8Array | string {
  if (s.length % 4 !== 0) return `base64 length ${s.length} is not a multiple of 4`;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const last = i + 4 === s.length;
      if (c === 61 && last && j >= 4 - pad) { n <<= 6; continue; }
      const v = c < 128 ? (B64_INDEX[c] as number) : -1;
      if (v < 0) return `invalid base64 character '${s[i + j]}' at offset ${i + j}`;
      n = (n << 6) | v;
    }
    out[o++] = (n >>> 16) & 255;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** FNV-1a 64-bit as 16 hex digits: a stable fingerprint of initializer bytes for summaries. */
export function fnv1a64(bytes: Uint8Array): string {
  // 64-bit state in two 32-bit halves; prime 2^40 + 0x1b3, so h*p = h*0x1b3 + (lo << 40).
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ (bytes[i] as number)) >>> 0;
    const l = lo * 0x1b3;
    const carry = Math.floor(l / 0x100000000);
    const nh = hi * 0x1b3 + carry + ((lo << 8) >>> 0);
    lo = l >>> 0;
    hi = nh % 0x100000000;
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
