// The kernel-template contract. A template turns a Problem (everything baked into the WGSL,
// derived from IR nodes by src/compile/lower.ts) plus Knobs (the tuner's choices) into WGSL
// and a launch. Binding convention: @group(0) bindings 0..n-1 are the problem's inputs in
// order (read-only storage), then its outputs (read_write storage), then one uniform buffer
// when `launch` returns uniforms. Templates are pure: same (problem, knobs) -> same WGSL.

export type KnobValue = number | string | boolean;
export type Knobs = Readonly<Record<string, KnobValue>>;

/** The declared search space: every knob and its allowed values. */
export type KnobSpace<K extends Knobs> = { readonly [P in keyof K]: readonly K[P][] };

export interface DeviceInfo {
  readonly features: ReadonlySet<string>;
  /** WGSL language features (navigator.gpu.wgslLanguageFeatures, e.g. packed_4x8_integer_dot_product); absent = none known. */
  readonly wgslFeatures?: ReadonlySet<string>;
  readonly limits: {
    readonly maxComputeWorkgroupSizeX: number;
    readonly maxComputeWorkgroupSizeY: number;
    readonly maxComputeInvocationsPerWorkgroup: number;
    readonly maxComputeWorkgroupStorageSize: number;
    readonly maxComputeWorkgroupsPerDimension: number;
    readonly maxStorageBufferBindingSize: number;
  };
}

export interface Uniform {
  readonly name: string;
  readonly type: 'u32' | 'i32' | 'f32';
  readonly value: number;
}

export interface Launch {
  readonly dispatch: readonly [number, number, number];
  readonly uniforms: readonly Uniform[];
}

export interface KernelTemplate<P, K extends Knobs> {
  readonly name: string;
  readonly knobs: KnobSpace<K>;
  /** true, or the reason this (problem, knobs) cannot run on `dev`. */
  valid(p: P, k: K, dev: DeviceInfo): true | string;
  /** What is baked into the WGSL: the cache key (with the knobs) and the tuning-db key. */
  key(p: P): string;
  source(p: P, k: K, dev: DeviceInfo): string;
  launch(p: P, k: K): Launch;
  defaults(p: P, dev: DeviceInfo): K;
}

/** Template with erased types, as stored in the registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKernelTemplate = KernelTemplate<any, any>;

/** Every knob combination of a space, filtered by `valid` (in declaration order). */
export function enumerateKnobs<P, K extends Knobs>(t: KernelTemplate<P, K>, p: P, dev: DeviceInfo): K[] {
  const names = Object.keys(t.knobs) as (keyof K & string)[];
  const out: K[] = [];
  const rec = (i: number, acc: Record<string, KnobValue>): void => {
    if (i === names.length) {
      const k = { ...acc } as unknown as K;
      if (t.valid(p, k, dev) === true) out.push(k);
      return;
    }
    const n = names[i] as keyof K & string;
    for (const v of t.knobs[n]) rec(i + 1, { ...acc, [n]: v as KnobValue });
  };
  rec(0, {});
  return out;
}

/** Stable checksum of a knob space, so a changed template never reuses stale tunings. */
export function knobSpaceChecksum(t: AnyKernelTemplate): string {
  const text = `${t.name}:${JSON.stringify(t.knobs)}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** WebGPU's guaranteed minimum limits: what compilation assumes when no device is at hand. */
export const DEFAULT_DEVICE: DeviceInfo = {
  features: new Set(),
  limits: {
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeWorkgroupsPerDimension: 65535,
    maxStorageBufferBindingSize: 134217728,
  },
};
