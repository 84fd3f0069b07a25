// The verifier: structural invariants every pass must keep. SSA (one definition per value),
// topological order, every value typed, every node's types re-inferred through the op table
// and equal to the recorded ones. Returns all problems, not just the first.

import { dtypeName } from './dtype.ts';
import type { Graph } from './graph.ts';
import { getOp } from './op-table.ts';
import { sameShape } from './shape.ts';
import { typeToString, type TensorType } from './tensor.ts';

export function verifyGraph(g: Graph): string[] {
  const errs: string[] = [];
  const defined = new Set<string>();
  const define = (v: string, by: string): void => {
    if (defined.has(v)) errs.push(`value '${v}' is defined twice (again by ${by})`);
    defined.add(v);
    if (!g.values.has(v)) errs.push(`value '${v}' (defined by ${by}) has no type`);
  };
  for (const v of g.inputs) define(v, 'graph input');
  for (const [v, t] of g.initializers) {
    define(v, 'initializer');
    const vt = g.values.get(v);
    if (vt && (!sameShape(vt.shape, t.shape) || dtypeName(vt.dtype) !== dtypeName(t.dtype))) errs.push(`initializer '${v}' data does not match its type ${typeToString(vt)}`);
  }
  const nodeNames = new Set<string>();
  for (const n of g.nodes) {
    if (nodeNames.has(n.name)) errs.push(`node name '${n.name}' is used twice`);
    nodeNames.add(n.name);
    const def = getOp(n.op);
    if (!def) { errs.push(`node '${n.name}': unknown op '${n.op}'`); continue; }
    for (const i of n.inputs) if (i !== '' && !defined.has(i)) errs.push(`node '${n.name}' (${n.op}) reads '${i}' before it is defined`);
    for (const o of n.outputs) define(o, `node '${n.name}'`);
    const ins = n.inputs.filter((i) => i !== '').map((i) => g.values.get(i)).filter((t): t is TensorType => !!t);
    if (ins.length !== n.inputs.filter((i) => i !== '').length) continue;
    const inferred = def.infer(ins, n.attrs);
    if (typeof inferred === 'string') { errs.push(`node '${n.name}' (${n.op}): ${inferred}`); continue; }
    if (inferred.length !== n.outputs.length) { errs.push(`node '${n.name}' (${n.op}) has ${n.outputs.length} outputs, the op makes ${inferred.length}`); continue; }
    inferred.forEach((t, k) => {
      const rec = g.values.get(n.outputs[k] as string);
      if (rec && typeToString(rec) !== typeToString(t)) errs.push(`node '${n.name}' (${n.op}) output '${n.outputs[k]}' is typed ${typeToString(rec)} but infers to ${typeToString(t)}`);
    });
  }
  for (const o of g.outputs) if (!defined.has(o)) errs.push(`graph output '${o}' is never defined`);
  return errs;
}

export function assertValid(g: Graph, after = 'construction'): void {
  const errs = verifyGraph(g);
  if (errs.length) throw new Error(`graph '${g.name}' is invalid after ${after}:\n  ${errs.join('\n  ')}`);
}
