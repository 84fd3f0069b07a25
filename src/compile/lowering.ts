// The contract every per-family lowering follows: given one node (and a context that knows
// shapes and can claim a unary epilogue chain), return the kernels it becomes, an alias of
// another value's storage (ops that move no data), or undefined when the node is not its op.

import type { Epilogue } from '../../codegen/problems.ts';
import type { Graph, Node } from '../ir/graph.ts';
import type { KernelInstance } from './lower.ts';

export interface LowerContext {
  readonly graph: Graph;
  shapeOf(v: string): number[];
  /** Claims the chain of unary readers after `start` (see lower.ts). */
  epilogueFrom(start: string): { epilogue: Epilogue; nodes: Node[]; out: string };
}

export type LoweredNode = { readonly kernels: readonly KernelInstance[] } | { readonly alias: string };

export type NodeLowering = (node: Node, cx: LowerContext) => LoweredNode | undefined;
