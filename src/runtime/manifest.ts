// The bundle manifest (format version 1): everything needed to run a compiled model without
// the compiler — buffers, where each tensor lives, the dispatch list and the device the
// kernels were tuned for. Plain JSON; `BundleData` is a manifest with its files in memory.

import type { DeviceFingerprint } from './device.ts';
import type { Knobs, Uniform } from '../../codegen/kernel.ts';

export const MANIFEST_FORMAT = 'anybit-bundle';
export const MANIFEST_VERSION = 1;
/** Alignment of tensors inside weights.bin (and of their storage-binding offsets). */
export const WEIGHT_ALIGNMENT = 256;

/** A byte range of a GPU buffer: buffer -1 is the weights buffer, >= 0 an activation slot. */
export interface TensorRef {
  readonly buffer: number;
  readonly offset: number;
  readonly bytes: number;
}

export interface IoSpec {
  readonly name: string;
  readonly dtype: 'f32';
  readonly shape: readonly number[];
  readonly ref: TensorRef;
}

export interface DispatchSpec {
  /** Names of the IR nodes this dispatch computes. */
  readonly nodes: readonly string[];
  readonly kernel: string;
  readonly template: string;
  readonly knobs: Knobs;
  /** Inputs first (read-only), then outputs; a uniform buffer follows when `uniforms` is non-empty. */
  readonly bindings: readonly TensorRef[];
  readonly numInputs: number;
  readonly uniforms: readonly Uniform[];
  readonly workgroups: readonly [number, number, number];
  readonly flops: number;
  readonly bytes: number;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: number;
  readonly model: string;
  readonly compiler: string;
  /** Fingerprint of the device whose tuning database chose the kernels, or null for defaults. */
  readonly tunedFor: DeviceFingerprint | null;
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
  /** Activation slot sizes in bytes (slot i is buffer i). */
  readonly slots: readonly number[];
  readonly weights: {
    readonly file: 'weights.bin';
    readonly bytes: number;
    readonly tensors: readonly { readonly name: string; readonly offset: number; readonly bytes: number; readonly shape: readonly number[] }[];
  };
  readonly kernels: readonly { readonly id: string; readonly file: string; readonly template: string; readonly key: string }[];
  readonly dispatches: readonly DispatchSpec[];
  readonly stats: { readonly flops: number; readonly activationBytes: number; readonly unplannedActivationBytes: number; readonly weightBytes: number };
}

export interface BundleData {
  readonly manifest: Manifest;
  /** Kernel id -> WGSL source. */
  readonly kernels: ReadonlyMap<string, string>;
  readonly weights: Uint8Array;
}

/** Checks a parsed manifest's shape enough to give a clear error instead of a crash later. */
export function checkManifest(m: unknown): asserts m is Manifest {
  const o = m as Partial<Manifest> | null;
  if (!o || o.format !== MANIFEST_FORMAT) throw new Error('not an anybit bundle manifest (format field missing)');
  if (o.version !== MANIFEST_VERSION) throw new Error(`bundle format version ${String(o.version)} is not supported (this runtime reads version ${MANIFEST_VERSION})`);
  for (const k of ['inputs', 'outputs', 'slots', 'kernels', 'dispatches'] as const) {
    if (!Array.isArray(o[k])) throw new Error(`bundle manifest is missing '${k}'`);
  }
}
