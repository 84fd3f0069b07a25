// HardSwish pattern fusion: x * clip(x + 3, 0, 6) / 6 (as exported by Paddle/PyTorch, either
// div(mul(x, clip), 6) or mul(x, div(clip, 6))) becomes one hardswish node, which conv/matmul
// epilogues then absorb. Intermediates must have one reader and not be graph outputs; the
// constants must be scalar initializers. Rounding differs from the chain by ~1 ulp.

import type { Graph, Node } from '../../ir/graph.ts';
import { consumers, numberAttr, producers } from '../../ir/graph.ts';
import { sameShape } from '../../ir/shape.ts';
import type { Pass } from '../pass.ts';

interface Match { readonly x: string; readonly drop: readonly Node[] }

export const hardswishFusion: Pass = {
  name: 'hardswish-fusion',
  run(g: Graph) {
    const prod = producers(g);
    const readers = consumers(g);
    const outs = new Set(g.outputs);
    const single = (v: string): boolean => (readers.get(v)?.length ?? 0) === 1 && !outs.has(v);
    const isScalar = (v: string | undefined, val: number): boolean => {
      const t = v === undefined ? undefined : g.initializers.get(v);
      return !!t && t.data.length === 1 && t.data[0] === val;
    };
    const other = (n: Node, v: string): string | undefined => (n.inputs[0] === v ? n.inputs[1] : n.inputs[1] === v ? n.inputs[0] : undefined);
    /** v = clip{0,6}(add(x, 3)) with single-reader intermediates: returns x and the two nodes. */
    const relu6Plus3 = (v: string | undefined): Match | undefined => {
      const clip = v === undefined ? undefined : prod.get(v);
      if (!clip || clip.op !== 'clip' || !single(v as string) || numberAttr(clip.attrs, 'min', NaN) !== 0 || numberAttr(clip.attrs, 'max', NaN) !== 6) return undefined;
      const a = clip.inputs[0] as string;
      const add = prod.get(a);
      if (!add || add.op !== 'add' || !single(a)) return undefined;
      const [p, q] = add.inputs as [string, string];
      const x = isScalar(q, 3) ? p : isScalar(p, 3) ? q : undefined;
      return x === undefined ? undefined : { x, drop: [add, clip] };
    };
    const match = (root: Node): Match | undefined => {
      const [r0, r1] = root.inputs;
      if (root.op === 'div' && isScalar(r1, 6)) {
        const mul = prod.get(r0 as string);
        if (!mul || mul.op !== 'mul' || !single(r0 as string)) return undefined;
        for (const c of mul.inputs) {
          const m = relu6Plus3(c);
          if (m && other(mul, c) === m.x) return { x: m.x, drop: [...m.drop, mul] };
        }
      }
      if (root.op === 'mul') {
        for (const d of root.inputs) {
          const div = prod.get(d);
          if (!div || div.op !== 'div' || !single(d) || !isScalar(div.inputs[1], 6)) continue;
          const m = relu6Plus3(div.inputs[0]);
          if (m && other(root, d) === m.x) return { x: m.x, drop: [...m.drop, div] };
        }
      }
      return undefined;
    };
    const dropped = new Set<Node>();
    const replaced = new Map<Node, Node>();
    for (const n of g.nodes) {
      if (dropped.has(n)) continue;
      const m = match(n);
      const xt = m && g.values.get(m.x);
      const yt = g.values.get(n.outputs[0] as string);
      if (!m || !xt || !yt || !sameShape(xt.shape, yt.shape) || xt.dtype !== yt.dtype || m.drop.some((d) => dropped.has(d))) continue;
      m.drop.forEach((d) => dropped.add(d));
      replaced.set(n, { name: n.name, op: 'hardswish', inputs: [m.x], outputs: n.outputs, attrs: {}, ...(n.loc ? { loc: n.loc } : {}) });
    }
    if (!replaced.size) return { graph: g, changed: false };
    const nodes = g.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
    const gone = new Set([...dropped].flatMap((n) => n.outputs));
    const values = new Map([...g.values].filter(([k]) => !gone.has(k)));
    return { graph: { ...g, nodes, values }, changed: true, stats: { fused: replaced.size } };
  },
};
