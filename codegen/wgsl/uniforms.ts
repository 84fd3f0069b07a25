// The one owner of uniform-buffer layout: packs scalar uniforms per WGSL's uniform address
// space rules and emits the matching struct, so host bytes and shader view never disagree.
// Invariant: member i sits at byte offset 4*i; the size is rounded up to 16 bytes (min 16).
// Does not handle vectors, matrices or arrays in uniforms (kernels only pass scalars).

import type { Uniform } from '../kernel.ts';

const SCALAR_BYTES = 4;
/** WGSL requires a uniform buffer binding's struct size to be a multiple of 16 (vec4 granularity). */
const UNIFORM_STRUCT_ALIGN = 16;
const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface UniformField {
  readonly name: string;
  readonly type: Uniform['type'];
  readonly offset: number;
}

export interface UniformLayout {
  readonly fields: readonly UniformField[];
  /** Buffer size in bytes: a multiple of 16, at least 16. */
  readonly size: number;
}

export function uniformLayout(uniforms: readonly Uniform[]): UniformLayout {
  const seen = new Set<string>();
  const fields = uniforms.map((u, i): UniformField => {
    // A leading underscore pair and keywords are reserved in WGSL; plain identifiers suffice here.
    if (!IDENT.test(u.name)) throw new Error(`uniform name '${u.name}' is not a plain WGSL identifier`);
    if (seen.has(u.name)) throw new Error(`uniform '${u.name}' is declared twice`);
    seen.add(u.name);
    return { name: u.name, type: u.type, offset: i * SCALAR_BYTES };
  });
  const raw = fields.length * SCALAR_BYTES;
  const size = Math.max(UNIFORM_STRUCT_ALIGN, Math.ceil(raw / UNIFORM_STRUCT_ALIGN) * UNIFORM_STRUCT_ALIGN);
  return { fields, size };
}

function checkValue(u: Uniform): void {
  if (u.type === 'f32') return; // any number; NaN/Infinity pass through as f32 bit patterns
  const lo = u.type === 'u32' ? 0 : -0x80000000;
  const hi = u.type === 'u32' ? 0xffffffff : 0x7fffffff;
  if (!Number.isInteger(u.value) || u.value < lo || u.value > hi) {
    throw new RangeError(`uniform '${u.name}': ${u.value} is not a valid ${u.type}`);
  }
}

/** Little-endian bytes for the uniform buffer (WebGPU is little-endian on every platform). */
export function packUniforms(uniforms: readonly Uniform[]): Uint8Array {
  const layout = uniformLayout(uniforms);
  const bytes = new Uint8Array(layout.size);
  const view = new DataView(bytes.buffer);
  uniforms.forEach((u, i) => {
    checkValue(u);
    const off = (layout.fields[i] as UniformField).offset;
    if (u.type === 'f32') view.setFloat32(off, u.value, true);
    else if (u.type === 'u32') view.setUint32(off, u.value, true);
    else view.setInt32(off, u.value, true);
  });
  return bytes;
}

/**
 * The struct matching `packUniforms`. Trailing padding is explicit (`_pad*` u32 members) so
 * the WGSL struct's size equals the buffer size exactly, whatever the validator's rounding.
 */
export function uniformStructWgsl(uniforms: readonly Uniform[], structName: string): string {
  if (!IDENT.test(structName)) throw new Error(`struct name '${structName}' is not a plain WGSL identifier`);
  const layout = uniformLayout(uniforms);
  const lines = layout.fields.map((f) => `  ${f.name}: ${f.type},`);
  const pads = (layout.size - layout.fields.length * SCALAR_BYTES) / SCALAR_BYTES;
  for (let i = 0; i < pads; i++) lines.push(`  _pad${i}: u32,`);
  return `struct ${structName} {\n${lines.join('\n')}\n}\n`;
}
