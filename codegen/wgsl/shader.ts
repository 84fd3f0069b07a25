// Shader builder and the one home of index arithmetic: binding declarations per the template
// convention (inputs read-only, outputs read_write, then one uniform block), literals, dispatch
// folding, flat-index -> strided-offset functions with shapes baked in (packed-bit ones: packed.ts).
// Storage is f32 unless ShaderIo.inputTypes says otherwise; all sizes must fit u32.

import type { Uniform } from '../kernel.ts';
import { uniformStructWgsl } from './uniforms.ts';

/** WebGPU guarantees at least this many workgroups per dimension; `launch` has no DeviceInfo, so folding targets it. */
export const MAX_WORKGROUPS_PER_DIM = 65535;
/** Largest dispatch the 2-D fold can express. */
export const MAX_FOLDED_WORKGROUPS = MAX_WORKGROUPS_PER_DIM * MAX_WORKGROUPS_PER_DIM;

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

export function u32Lit(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${n} is not a u32`);
  return `${n}u`;
}

export function i32Lit(n: number): string {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`${n} is not an i32`);
  return n < 0 ? `(${n}i)` : `${n}i`;
}

const F32_MAX = 3.4028234663852886e38;

/** A finite f32 literal; WGSL has no infinity literal, so infinities become the f32 extremes. */
export function f32Lit(x: number): string {
  if (Number.isNaN(x)) throw new RangeError('NaN has no WGSL literal');
  const v = x === Infinity ? F32_MAX : x === -Infinity ? -F32_MAX : Math.fround(x);
  if (!Number.isFinite(v)) return v > 0 ? f32Lit(F32_MAX) : f32Lit(-F32_MAX); // rounds past f32 range
  let s = String(Math.abs(v));
  if (!/[.e]/.test(s)) s += '.0';
  return v < 0 || Object.is(v, -0) ? `(-${s}f)` : `${s}f`;
}

/** Workgroup count -> dispatch, folded into 2-D when one dimension is not enough. */
export function foldDispatch(groups: number): [number, number, number] {
  if (groups < 1) return [1, 1, 1];
  if (groups > MAX_FOLDED_WORKGROUPS) throw new RangeError(`${groups} workgroups exceed the 2-D fold limit`);
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1, 1];
  const y = ceilDiv(groups, MAX_WORKGROUPS_PER_DIM);
  return [ceilDiv(groups, y), y, 1];
}

/** A reason when `groups` cannot be dispatched (for templates' `valid`). */
export function dispatchProblem(groups: number): string | undefined {
  return groups > MAX_FOLDED_WORKGROUPS ? `${groups} workgroups exceed ${MAX_FOLDED_WORKGROUPS} (2-D dispatch fold)` : undefined;
}

/**
 * Merges adjacent dims that every stride vector walks contiguously (s[d] = s[d+1] * shape[d+1])
 * and drops size-1 dims, so offset functions do fewer divisions. Same numel, same offsets.
 */
export function coalesceDims(shape: readonly number[], stridesList: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d] as number;
    if (size === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && stridesList.every((s, j) => (outStrides[j]?.[last] as number) === (s[d] as number) * size);
    if (mergeable) {
      outShape[last] = (outShape[last] as number) * size;
      stridesList.forEach((s, j) => ((outStrides[j] as number[])[last] = s[d] as number));
    } else {
      outShape.push(size);
      stridesList.forEach((s, j) => (outStrides[j] as number[]).push(s[d] as number));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * `fn name(i: u32) -> u32`: decodes flat row-major index `i` over `shape` and returns
 * sum(idx_d * strides[d]). Size-1 and stride-0 dims cost nothing beyond one division.
 */
export function offsetFn(name: string, shape: readonly number[], strides: readonly number[]): string {
  const c = coalesceDims(shape, [strides]);
  const dims = c.shape;
  const st = c.strides[0] as number[];
  const lines: string[] = [`fn ${name}(i: u32) -> u32 {`];
  if (dims.length === 0) lines.push('  return 0u;');
  else if (dims.length === 1) lines.push(st[0] === 0 ? '  return 0u;' : st[0] === 1 ? '  return i;' : `  return i * ${u32Lit(st[0] as number)};`);
  else {
    lines.push('  var r = i;', '  var off = 0u;');
    for (let d = dims.length - 1; d >= 0; d--) {
      const size = u32Lit(dims[d] as number);
      const s = st[d] as number;
      if (d === 0) {
        if (s !== 0) lines.push(`  off += r * ${u32Lit(s)};`);
      } else {
        if (s !== 0) lines.push(`  off += (r % ${size}) * ${u32Lit(s)};`);
        lines.push(`  r = r / ${size};`);
      }
    }
    lines.push('  return off;');
  }
  lines.push('}');
  return lines.join('\n');
}

export interface HelperSink {
  /** Registers module-scope code once under `name` (later calls with the same name are ignored). */
  helper(name: string, code: string): string;
}

export interface ShaderIo {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Element type per input (default f32), e.g. 'u32' for packed words; indices match `inputs`. */
  readonly inputTypes?: readonly string[];
  /** Element type per output (default f32), e.g. 'u32' for quantize_act rows; indices match `outputs`. */
  readonly outputTypes?: readonly string[];
  readonly uniforms?: readonly Uniform[];
}

/** Builtins every entry point gets; kernels use `groupIdx` (folded linear workgroup id) and `lidx`. */
const ENTRY_PARAMS = [
  '@builtin(global_invocation_id) gid: vec3<u32>',
  '@builtin(local_invocation_id) lid: vec3<u32>',
  '@builtin(local_invocation_index) lidx: u32',
  '@builtin(workgroup_id) wid: vec3<u32>',
  '@builtin(num_workgroups) nwg: vec3<u32>',
];

/** Collects bindings, helpers and module-scope declarations; `build` emits the whole module. */
export class ShaderBuilder implements HelperSink {
  private readonly helpers = new Map<string, string>();
  private readonly decls: string[] = [];

  constructor(private readonly io: ShaderIo) {}

  helper(name: string, code: string): string {
    if (!this.helpers.has(name)) this.helpers.set(name, code);
    return name;
  }

  /** Module-scope declaration (workgroup arrays, constants), emitted in call order. */
  decl(code: string): void {
    this.decls.push(code);
  }

  bindings(): string {
    const lines: string[] = [];
    let b = 0;
    this.io.inputs.forEach((n, i) => lines.push(`@group(0) @binding(${b++}) var<storage, read> ${n}: array<${this.io.inputTypes?.[i] ?? 'f32'}>;`));
    this.io.outputs.forEach((n, i) => lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${n}: array<${this.io.outputTypes?.[i] ?? 'f32'}>;`));
    const u = this.io.uniforms ?? [];
    if (u.length) {
      lines.unshift(uniformStructWgsl(u, 'Params'));
      lines.push(`@group(0) @binding(${b}) var<uniform> params: Params;`);
    }
    return lines.join('\n');
  }

  /**
   * The module with `main`. `body` runs with `groupIdx` = linear workgroup index (undone 2-D fold)
   * and may `return` early when `groupIdx` is past the real count: that is workgroup-uniform,
   * so barriers after it stay valid.
   */
  build(workgroupSize: readonly [number, number, number], body: string): string {
    const [x, y, z] = workgroupSize;
    return [
      this.bindings(), '',
      ...this.decls, ...(this.decls.length ? [''] : []),
      ...[...this.helpers.values()].flatMap((h) => [h, '']),
      `@compute @workgroup_size(${x}, ${y}, ${z})`,
      `fn main(${ENTRY_PARAMS.join(', ')}) {`,
      '  let groupIdx = wid.x + wid.y * nwg.x;',
      indent(body, 2),
      '}', '',
    ].join('\n');
  }
}

export function indent(code: string, n: number): string {
  const pad = ' '.repeat(n);
  return code.split('\n').map((l) => (l.length ? pad + l : l)).join('\n');
}
