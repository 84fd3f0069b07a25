// The pass contract and its combinators. A pass is pure: it never mutates its input graph and
// says whether it changed anything. User-facing problems go to `ctx.diag`; a pass throws only
// for a broken internal invariant, naming the node.

import type { Graph } from '../ir/graph.ts';
import { assertValid } from '../ir/verify.ts';

export interface PassDiagnostic {
  readonly severity: 'error' | 'warning' | 'note';
  readonly pass: string;
  readonly node?: string;
  readonly message: string;
}

export interface PassContext {
  readonly diag: PassDiagnostic[];
  /** Run the verifier after every pass (on in tests). */
  readonly verify: boolean;
}

export interface PassResult {
  readonly graph: Graph;
  readonly changed: boolean;
  readonly stats?: Readonly<Record<string, number>>;
}

export interface Pass {
  readonly name: string;
  run(g: Graph, ctx: PassContext): PassResult;
}

export function passContext(verify = false): PassContext {
  return { diag: [], verify };
}

function checked(p: Pass, g: Graph, ctx: PassContext): PassResult {
  const r = p.run(g, ctx);
  if (ctx.verify && r.changed) assertValid(r.graph, `pass '${p.name}'`);
  return r;
}

/** Runs passes in order. */
export function sequence(name: string, ...passes: readonly Pass[]): Pass {
  return {
    name,
    run(g, ctx) {
      let graph = g;
      let changed = false;
      for (const p of passes) {
        const r = checked(p, graph, ctx);
        graph = r.graph;
        changed ||= r.changed;
      }
      return { graph, changed };
    },
  };
}

/** Repeats `pass` until it stops changing the graph (at most `maxIters` times). */
export function fixpoint(pass: Pass, maxIters = 8): Pass {
  return {
    name: `fixpoint(${pass.name})`,
    run(g, ctx) {
      let graph = g;
      let changed = false;
      for (let i = 0; i < maxIters; i++) {
        const r = checked(pass, graph, ctx);
        graph = r.graph;
        if (!r.changed) break;
        changed = true;
      }
      return { graph, changed };
    },
  };
}
