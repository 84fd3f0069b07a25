// The interpreter's output for one op node on given inputs, for kernel tests that build their
// Problem by hand: each operand is a graph input (f32) or, when `constant`, an initializer.
// Not a test file; it never decides what a kernel should compute.

import { GraphBuilder } from '../../src/ir/builder.ts';
import type { ScalarDType } from '../../src/ir/dtype.ts';
import type { Attrs } from '../../src/ir/graph.ts';
import { ndarray, tensor, type NdArray } from '../../src/ir/tensor.ts';
import { interpret } from '../../src/interp/interpreter.ts';

export interface Operand {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
  readonly dtype?: ScalarDType;
  readonly constant?: boolean;
}

export function opReference(op: string, operands: readonly Operand[], attrs: Attrs): NdArray {
  const b = new GraphBuilder(op);
  const env: Record<string, NdArray> = {};
  const names = operands.map((o, i) => {
    const name = `in${i}`;
    if (o.constant) return b.initializer(name, tensor(o.dtype ?? 'f32', o.shape, o.data));
    env[name] = ndarray(o.shape, o.data);
    return b.input(name, o.dtype ?? 'f32', o.shape);
  });
  const y = b.op(op, names, attrs);
  b.output(y);
  return interpret(b.build(), env).get(y) as NdArray;
}
