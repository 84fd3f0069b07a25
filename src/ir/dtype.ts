// Element types of the IR. Scalars map one-to-one to WGSL/host types; packed integers are
// 1..8-bit signed or unsigned values that may carry quantization parameters (scales, zero
// points, axis, group size). Nothing here knows how a packed type is laid out in memory.

export type ScalarDType = 'f32' | 'f16' | 'i32' | 'u32' | 'bool';

export interface QuantParams {
  /** Axis the scales vary along (the output-channel axis for weights). */
  readonly axis: number;
  /** Elements per group along the reduction axis; 0 means one group per `axis` slice. */
  readonly groupSize: number;
  readonly scales: Float32Array;
  readonly zeroPoints?: Int32Array;
}

export interface PackedIntDType {
  readonly kind: 'packed';
  readonly bits: number;
  readonly signed: boolean;
  readonly quant?: QuantParams;
}

export type DType = ScalarDType | PackedIntDType;

export const SCALAR_DTYPES: readonly ScalarDType[] = ['f32', 'f16', 'i32', 'u32', 'bool'];

export function packedInt(bits: number, signed: boolean, quant?: QuantParams): PackedIntDType {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) {
    throw new RangeError(`packed integer width must be 1..8 bits, got ${bits}`);
  }
  return quant ? { kind: 'packed', bits, signed, quant } : { kind: 'packed', bits, signed };
}

export function isPacked(d: DType): d is PackedIntDType {
  return typeof d === 'object';
}

export function isFloat(d: DType): boolean {
  return d === 'f32' || d === 'f16';
}

/** `i4`, `u3`, `i8{axis=0,group=128}`, or the scalar's name. Stable: used by the printer. */
export function dtypeName(d: DType): string {
  if (!isPacked(d)) return d;
  const base = `${d.signed ? 'i' : 'u'}${d.bits}`;
  if (!d.quant) return base;
  const zp = d.quant.zeroPoints ? ',zp' : '';
  return `${base}{axis=${d.quant.axis},group=${d.quant.groupSize}${zp}}`;
}

/** Integer range representable by a packed type. */
export function packedRange(d: PackedIntDType): { min: number; max: number } {
  return d.signed
    ? { min: -(2 ** (d.bits - 1)), max: 2 ** (d.bits - 1) - 1 }
    : { min: 0, max: 2 ** d.bits - 1 };
}

/** Storage bytes for `count` elements (packed types round up to whole bytes). */
export function storageBytes(d: DType, count: number): number {
  if (isPacked(d)) return Math.ceil((count * d.bits) / 8);
  switch (d) {
    case 'f16': return count * 2;
    case 'bool': return count;
    default: return count * 4;
  }
}

export function sameDType(a: DType, b: DType): boolean {
  if (!isPacked(a) || !isPacked(b)) return a === b;
  return a.bits === b.bits && a.signed === b.signed && dtypeName(a) === dtypeName(b);
}
