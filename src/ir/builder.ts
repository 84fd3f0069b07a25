// Builder API: grows a graph node by node, inferring every value's type through the op table.
// Mistakes (unknown op, shape mismatch) throw an IrError naming the node; the builder keeps
// names unique by suffixing, so front-ends can pass human names freely.

import type { DType } from './dtype.ts';
import type { Attrs, Graph, Node, SourceLoc } from './graph.ts';
import { getOp } from './op-table.ts';
import type { Shape } from './shape.ts';
import { typeToString, type Tensor, type TensorType } from './tensor.ts';

export class IrError extends Error {
  constructor(message: string, readonly loc?: SourceLoc) {
    super(message);
    this.name = 'IrError';
  }
}

export class GraphBuilder {
  private readonly values = new Map<string, TensorType>();
  private readonly nodes: Node[] = [];
  private readonly inits = new Map<string, Tensor>();
  private readonly inputs: string[] = [];
  private readonly outputs: string[] = [];
  private readonly nodeNames = new Set<string>();

  constructor(readonly name = 'model') {}

  private fresh(base: string, taken: { has(k: string): boolean }): string {
    if (!taken.has(base)) return base;
    for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  input(name: string, dtype: DType, shape: Shape): string {
    if (this.values.has(name)) throw new IrError(`input '${name}' is already defined`);
    this.values.set(name, { dtype, shape });
    this.inputs.push(name);
    return name;
  }

  initializer(name: string, t: Tensor): string {
    if (this.values.has(name)) throw new IrError(`initializer '${name}' is already defined`);
    this.values.set(name, { dtype: t.dtype, shape: t.shape });
    this.inits.set(name, t);
    return name;
  }

  typeOf(value: string): TensorType {
    const t = this.values.get(value);
    if (!t) throw new IrError(`unknown value '${value}'`);
    return t;
  }

  /** Adds one node and returns its output value names. */
  opMulti(op: string, inputs: readonly string[], attrs: Attrs = {}, opts: { name?: string; outputs?: readonly string[]; loc?: SourceLoc } = {}): string[] {
    const def = getOp(op);
    const name = this.fresh(opts.name ?? op, this.nodeNames);
    if (!def) throw new IrError(`node '${name}': unknown op '${op}'`, opts.loc);
    const n = inputs.length;
    if (n < def.inputs.min || n > def.inputs.max) {
      throw new IrError(`node '${name}' (${op}): takes ${def.inputs.min}..${def.inputs.max} inputs, got ${n}`, opts.loc);
    }
    const types = inputs.map((v) => (v === '' ? undefined : this.values.get(v)));
    const missing = inputs.find((v, i) => v !== '' && !types[i]);
    if (missing !== undefined) throw new IrError(`node '${name}' (${op}): unknown input value '${missing}'`, opts.loc);
    const present = types.filter((t): t is TensorType => t !== undefined);
    const inferred = def.infer(present, attrs);
    if (typeof inferred === 'string') {
      const sig = present.map(typeToString).join(', ');
      throw new IrError(`node '${name}' (${op}): ${inferred} [inputs: ${sig}]`, opts.loc);
    }
    const outs = inferred.map((t, i) => {
      const v = this.fresh(opts.outputs?.[i] ?? (inferred.length === 1 ? name : `${name}.${i}`), this.values);
      this.values.set(v, t);
      return v;
    });
    this.nodeNames.add(name);
    const node: Node = opts.loc ? { name, op, inputs: [...inputs], outputs: outs, attrs, loc: opts.loc } : { name, op, inputs: [...inputs], outputs: outs, attrs };
    this.nodes.push(node);
    return outs;
  }

  op(op: string, inputs: readonly string[], attrs: Attrs = {}, opts: { name?: string; output?: string; loc?: SourceLoc } = {}): string {
    const o: { name?: string; outputs?: readonly string[]; loc?: SourceLoc } = {};
    if (opts.name !== undefined) o.name = opts.name;
    if (opts.output !== undefined) o.outputs = [opts.output];
    if (opts.loc !== undefined) o.loc = opts.loc;
    const outs = this.opMulti(op, inputs, attrs, o);
    return outs[0] as string;
  }

  output(value: string): void {
    if (!this.values.has(value)) throw new IrError(`output '${value}' is not a value of the graph`);
    this.outputs.push(value);
  }

  build(): Graph {
    return {
      name: this.name, inputs: [...this.inputs], outputs: [...this.outputs],
      values: new Map(this.values), nodes: [...this.nodes], initializers: new Map(this.inits),
    };
  }
}
