// The per-node view an ONNX importer works through: constant-or-value inputs, attributes,
// and `emit` to add IR nodes via the GraphBuilder. Inputs that are constant after folding
// stay host constants until an IR op needs them as data (then they become initializers).
// A missing IR op surfaces as MissingIrOp, which the importer collects as "unsupported".

import type { GraphBuilder } from '../ir/builder.ts';
import type { Attrs } from '../ir/graph.ts';
import { getOp } from '../ir/op-table.ts';
import { isConcrete, type Shape } from '../ir/shape.ts';
import type { DType } from '../ir/dtype.ts';
import { constFromProto, constToTensor, OnnxImportError, type ConstTensor } from './const-tensor.ts';
import { attrFloat, attrFloats, attrInt, attrInts, attrString, type AttributeProto, type NodeProto } from './proto.ts';

export type Entry = { readonly kind: 'const'; readonly c: ConstTensor } | { readonly kind: 'value'; readonly v: string };

export class MissingIrOp extends Error {
  constructor(readonly op: string) {
    super(`IR op '${op}' is not available`);
  }
}

/** What NodeCtx needs from the importer: the value table and the builder. */
export interface ImportState {
  readonly b: GraphBuilder;
  readonly entries: Map<string, Entry>;
  /** IR initializer names already made for constants, by ONNX value name + dtype. */
  readonly materialized: Map<string, string>;
  readonly modelFile: string | undefined;
}

export class NodeCtx {
  private tmp = 0;

  constructor(private readonly st: ImportState, readonly node: NodeProto, readonly opset: number, readonly name: string) {}

  get op(): string {
    return this.node.opType ?? '';
  }

  get inputCount(): number {
    return this.node.input?.length ?? 0;
  }

  get outputCount(): number {
    return this.node.output?.length ?? 0;
  }

  fail(msg: string): never {
    throw new OnnxImportError(`node '${this.name}' (${this.op}): ${msg}`);
  }

  /** True when input i is given (not omitted with ''). */
  has(i: number): boolean {
    return !!this.node.input?.[i];
  }

  entry(i: number): Entry {
    const n = this.node.input?.[i];
    if (!n) this.fail(`input ${i} is required`);
    const e = this.st.entries.get(n);
    if (!e) this.fail(`input '${n}' is not defined before this node`);
    return e;
  }

  constant(i: number): ConstTensor | undefined {
    if (!this.has(i)) return undefined;
    const e = this.entry(i);
    return e.kind === 'const' ? e.c : undefined;
  }

  /** Input i, which must be a constant after folding (shape, axes, pads ... operands). */
  needConst(i: number, what: string): ConstTensor {
    const c = this.constant(i);
    if (!c) this.fail(`input ${i} (${what}) must be a constant after folding, but '${this.node.input?.[i]}' is computed at run time`);
    return c;
  }

  /** Input i as an IR value, making an initializer for a constant (i32 for integer indices). */
  value(i: number, as?: 'float'): string {
    const e = this.entry(i);
    if (e.kind === 'value') return e.v;
    const onnxName = this.node.input?.[i] as string;
    const c = as && e.c.kind !== as ? { ...e.c, kind: as } : e.c;
    const key = `${onnxName}\u0000${c.kind}`;
    const have = this.st.materialized.get(key);
    if (have) return have;
    const v = this.st.b.initializer(uniqueName(this.st, onnxName), constToTensor(c, onnxName));
    this.st.materialized.set(key, v);
    return v;
  }

  /** An IR initializer for a constant made by an importer (folded BN scales, reshaped biases). */
  constValue(c: ConstTensor, hint: string): string {
    return this.st.b.initializer(uniqueName(this.st, `${this.name}_${hint}`), constToTensor(c, hint));
  }

  shape(i: number): Shape {
    const e = this.entry(i);
    return e.kind === 'const' ? e.c.shape : this.st.b.typeOf(e.v).shape;
  }

  concreteShape(i: number): number[] {
    const s = this.shape(i);
    if (!isConcrete(s)) this.fail(`needs the shape of '${this.node.input?.[i]}', which has dynamic dims [${s.join(',')}]; bind them (--input NAME=DIMxDIM or inputShapes)`);
    return [...s];
  }

  concreteShapeOf(v: string): number[] {
    const s = this.st.b.typeOf(v).shape;
    if (!isConcrete(s)) this.fail(`needs the shape of '${v}', which has dynamic dims [${s.join(',')}]; bind them`);
    return [...s];
  }

  /** IR dtype of input i ('f32' for float constants). */
  dtypeOf(i: number): DType {
    const e = this.entry(i);
    if (e.kind === 'const') return e.c.kind === 'float' ? 'f32' : e.c.kind === 'int' ? 'i32' : 'bool';
    return this.st.b.typeOf(e.v).dtype;
  }

  tensorAttr(a: AttributeProto): ConstTensor {
    if (!a.t) this.fail(`attribute '${a.name}' holds no tensor`);
    return constFromProto(a.t, this.st.modelFile);
  }

  rank(i: number): number {
    return this.shape(i).length;
  }

  /** Adds an IR node. `out` = k names its result after ONNX output k; otherwise a temporary. */
  emit(op: string, inputs: readonly string[], attrs: Attrs = {}, out?: number): string {
    if (!getOp(op)) throw new MissingIrOp(op);
    const output = out !== undefined ? (this.node.output?.[out] ?? `${this.name}_${this.tmp++}`) : `${this.name}_t${this.tmp++}`;
    return this.st.b.op(op, inputs, attrs, { name: out !== undefined ? this.name : `${this.name}_${op}`, output });
  }

  emitMulti(op: string, inputs: readonly string[], attrs: Attrs): string[] {
    if (!getOp(op)) throw new MissingIrOp(op);
    return this.st.b.opMulti(op, inputs, attrs, { name: this.name, outputs: this.node.output ?? [] });
  }

  /** Defines ONNX output k as an IR value or a constant. */
  setOutput(k: number, v: string | ConstTensor): void {
    const n = this.node.output?.[k];
    if (!n) return;
    this.st.entries.set(n, typeof v === 'string' ? { kind: 'value', v } : { kind: 'const', c: v });
  }

  /** Output 0 aliases input i (Identity, Dropout, same-type Cast). */
  alias(k: number, i: number): void {
    const n = this.node.output?.[k];
    if (n) this.st.entries.set(n, this.entry(i));
  }

  int(name: string, fallback: number): number { return attrInt(this.node, name, fallback); }
  float(name: string, fallback: number): number { return attrFloat(this.node, name, fallback); }
  ints(name: string): number[] | undefined { return attrInts(this.node, name); }
  floats(name: string): number[] | undefined { return attrFloats(this.node, name); }
  str(name: string, fallback: string): string { return attrString(this.node, name, fallback); }
}

function uniqueName(st: ImportState, base: string): string {
  let n = base;
  const taken = (v: string): boolean => {
    try {
      st.b.typeOf(v);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 1; taken(n); i++) n = `${base}_${i}`;
  return n;
}
