// The graph: nodes over SSA values. Every value name is defined exactly once (graph input,
// initializer or node output) and has a type in `values`. Nodes are kept in a topological
// order. Graphs are immutable; passes build new ones (see `withNodes`).

import type { Tensor, TensorType } from './tensor.ts';

export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly length?: number;
}

export type AttrValue = number | string | boolean | readonly number[] | readonly string[];
export type Attrs = Readonly<Record<string, AttrValue>>;

export interface Node {
  readonly name: string;
  readonly op: string;
  /** Value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
  readonly loc?: SourceLoc;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly values: ReadonlyMap<string, TensorType>;
  readonly nodes: readonly Node[];
  readonly initializers: ReadonlyMap<string, Tensor>;
}

export function valueType(g: Graph, name: string): TensorType {
  const t = g.values.get(name);
  if (!t) throw new Error(`graph '${g.name}': value '${name}' has no type`);
  return t;
}

/** A copy of `g` with other nodes (and optionally other values/initializers). */
export function withNodes(g: Graph, nodes: readonly Node[], extra?: Partial<Graph>): Graph {
  return { ...g, ...extra, nodes };
}

/** Map from value name to the node producing it. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

/** Map from value name to the nodes reading it (graph outputs are not counted). */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}

export function numberAttr(attrs: Attrs, key: string, fallback: number): number {
  const v = attrs[key];
  return typeof v === 'number' ? v : fallback;
}

export function intsAttr(attrs: Attrs, key: string, fallback: readonly number[]): readonly number[] {
  const v = attrs[key];
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as readonly number[]) : fallback;
}

export function stringAttr(attrs: Attrs, key: string, fallback: string): string {
  const v = attrs[key];
  return typeof v === 'string' ? v : fallback;
}
