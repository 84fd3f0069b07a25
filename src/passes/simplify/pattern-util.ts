// Helpers the pattern-fusion passes share: a read-only view of a graph (producers, distinct
// readers, f32 constants) and an edit that drops/replaces nodes and adds values in one rebuild.
// Values are SSA, so a fused node placed where the chain's last node stood sees all its inputs.
// Not a general rewrite engine: patterns are matched by hand in each pass.

import type { Graph, Node } from '../../ir/graph.ts';
import { consumers, producers } from '../../ir/graph.ts';
import { isConcrete } from '../../ir/shape.ts';
import type { Tensor, TensorType } from '../../ir/tensor.ts';

export interface GraphView {
  readonly g: Graph;
  readonly prod: ReadonlyMap<string, Node>;
  /** True when exactly one node reads `v` (maybe twice, as in mul(d, d)) and `v` is no graph output. */
  single(v: string): boolean;
  /** The one node reading `v`, under the same conditions as `single`. */
  onlyReader(v: string): Node | undefined;
  /** Distinct nodes reading `v`. */
  readers(v: string): readonly Node[];
  /** An f32 initializer with a concrete shape, or undefined. */
  f32Const(v: string | undefined): Tensor | undefined;
  shape(v: string): readonly number[] | undefined;
}

export function viewOf(g: Graph): GraphView {
  const prod = producers(g);
  const cons = consumers(g);
  const outs = new Set(g.outputs);
  const readers = (v: string): Node[] => [...new Set(cons.get(v) ?? [])];
  return {
    g, prod, readers,
    single: (v) => !outs.has(v) && readers(v).length === 1,
    onlyReader: (v) => (!outs.has(v) && readers(v).length === 1 ? readers(v)[0] : undefined),
    f32Const: (v) => {
      const t = v === undefined ? undefined : g.initializers.get(v);
      return t && t.dtype === 'f32' && isConcrete(t.shape) ? t : undefined;
    },
    shape: (v) => {
      const s = g.values.get(v)?.shape;
      return s && isConcrete(s) ? s : undefined;
    },
  };
}

/** The input of binary node `n` other than `v` (undefined when `v` is not an input). */
export function otherInput(n: Node, v: string): string | undefined {
  return n.inputs[0] === v ? n.inputs[1] : n.inputs[1] === v ? n.inputs[0] : undefined;
}

/** Collects the edits of one pass run and applies them in one rebuild. */
export class GraphEdit {
  private readonly dropped = new Set<Node>();
  private readonly replaced = new Map<Node, Node[]>();
  private readonly inits = new Map<string, Tensor>();
  private readonly types = new Map<string, TensorType>();
  private readonly nodeNames: Set<string>;
  constructor(private readonly g: Graph) {
    this.nodeNames = new Set(g.nodes.map((n) => n.name));
  }

  /** True when none of `nodes` was touched by an earlier match of this run. */
  untouched(nodes: readonly Node[]): boolean {
    return nodes.every((n) => !this.dropped.has(n) && !this.replaced.has(n));
  }

  /** A value name not yet used in the graph, derived from `base`. */
  fresh(base: string): string {
    const taken = (k: string): boolean => this.g.values.has(k) || this.types.has(k);
    if (!taken(base)) return base;
    for (let i = 1; ; i++) if (!taken(`${base}_${i}`)) return `${base}_${i}`;
  }

  /** A node name not yet used, derived from `base` (and reserved). */
  freshNode(base: string): string {
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    return name;
  }

  addConst(base: string, t: Tensor): string {
    const name = this.fresh(base);
    this.inits.set(name, t);
    this.types.set(name, { dtype: t.dtype, shape: t.shape });
    return name;
  }

  addValue(base: string, t: TensorType): string {
    const name = this.fresh(base);
    this.types.set(name, t);
    return name;
  }

  /** Drops `drop` and puts `by` where `at` stood (`at` is dropped too). */
  replace(at: Node, drop: readonly Node[], by: readonly Node[]): void {
    for (const d of drop) this.dropped.add(d);
    this.replaced.set(at, [...by]);
  }

  get count(): number {
    return this.replaced.size;
  }

  apply(): Graph {
    const nodes = this.g.nodes.flatMap((n) => this.replaced.get(n) ?? (this.dropped.has(n) ? [] : [n]));
    const live = new Set<string>();
    for (const n of nodes) for (const v of [...n.inputs, ...n.outputs]) live.add(v);
    // Outputs of dropped nodes disappear; everything else (inputs, initializers, graph outputs) stays.
    const gone = new Set([...this.dropped].flatMap((n) => n.outputs).filter((v) => !live.has(v)));
    const values = new Map([...this.g.values, ...this.types].filter(([k]) => !gone.has(k)));
    const initializers = new Map([...this.g.initializers, ...this.inits]);
    return { ...this.g, nodes, values, initializers };
  }
}
