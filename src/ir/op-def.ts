// What the compiler knows about one op, in one place: attributes, shape/type inference, the
// float64 reference semantics, and cost. Inference returns an error string for user mistakes
// (the caller attaches node name and location); it never throws.

import type { Attrs } from './graph.ts';
import type { NdArray, TensorType } from './tensor.ts';

export type AttrKind = 'int' | 'float' | 'ints' | 'floats' | 'string' | 'bool';

export interface AttrSpec {
  readonly kind: AttrKind;
  readonly default?: number | string | boolean | readonly number[];
  readonly doc?: string;
}

export interface Cost {
  readonly flops: number;
  /** Bytes read plus bytes written, assuming each tensor is touched once. */
  readonly bytes: number;
}

export type OpCategory = 'unary' | 'binary' | 'matmul' | 'conv' | 'layout' | 'pool' | 'norm' | 'reduce';

export interface OpDef {
  readonly name: string;
  readonly category: OpCategory;
  readonly doc: string;
  readonly inputs: { readonly min: number; readonly max: number };
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  infer(inputs: readonly TensorType[], attrs: Attrs): TensorType[] | string;
  reference(inputs: readonly NdArray[], attrs: Attrs): NdArray[];
  cost(inputs: readonly TensorType[], outputs: readonly TensorType[], attrs: Attrs): Cost;
}
