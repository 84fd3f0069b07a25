// Decomposed LayerNorm fusion: d = x - reduce_mean(x, trailing axes, keepdims); y = d /
// sqrt(reduce_mean(d*d or pow(d, 2)) + eps), then optionally * scale, + bias (f32 constants over
// the normalized dims) becomes one layer_norm {axis, epsilon}. Intermediates have no reader
// outside the chain and are no graph outputs. Not handled: rsqrt / d * (1/s) spellings.

import type { Node } from '../../ir/graph.ts';
import { intsAttr, numberAttr } from '../../ir/graph.ts';
import { sameShape } from '../../ir/shape.ts';
import { tensor, type Tensor } from '../../ir/tensor.ts';
import type { Pass } from '../pass.ts';
import { GraphEdit, otherInput, viewOf, type GraphView } from './pattern-util.ts';

/** The first normalized axis when `n` is reduce_mean over a contiguous trailing axis set with keepdims. */
function trailingMean(v: GraphView, n: Node | undefined): number | undefined {
  if (!n || n.op !== 'reduce_mean' || numberAttr(n.attrs, 'keepdims', 1) === 0) return undefined;
  const rank = v.shape(n.inputs[0] as string)?.length;
  if (rank === undefined) return undefined;
  const raw = intsAttr(n.attrs, 'axes', []);
  const axes = (raw.length ? raw : Array.from({ length: rank }, (_, i) => i)).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  const first = rank - axes.length;
  return axes.every((a, i) => a === first + i) && axes.length > 0 ? first : undefined;
}

/** `c` reshaped to the normalized dims (leading 1s dropped), or undefined when it does not fit. */
function normParam(c: Tensor | undefined, norm: readonly number[]): Tensor | undefined {
  if (!c) return undefined;
  const s = c.shape as readonly number[];
  const lead = s.length - norm.length;
  if (lead > 0 && s.slice(0, lead).some((d) => d !== 1)) return undefined;
  const tail = lead > 0 ? s.slice(lead) : s;
  const off = norm.length - tail.length;
  if (!tail.every((d, i) => d === 1 || d === norm[off + i])) return undefined;
  return lead > 0 ? tensor('f32', tail, c.data) : c;
}

interface Core { readonly x: string; readonly axis: number; readonly eps: number; readonly chain: readonly Node[]; readonly out: string }

/** Matches the mean/var/div core ending at div node `div`. */
function matchCore(v: GraphView, div: Node): Core | undefined {
  if (div.op !== 'div') return undefined;
  const [d, s] = div.inputs as [string, string];
  const sqrt = v.prod.get(s);
  const sub = v.prod.get(d);
  if (!sqrt || sqrt.op !== 'sqrt' || !v.single(s) || !sub || sub.op !== 'sub') return undefined;
  const [x, m] = sub.inputs as [string, string];
  const mean = v.prod.get(m);
  const axis = trailingMean(v, mean);
  if (axis === undefined || !mean || mean.inputs[0] !== x || !v.single(m)) return undefined;
  const addEps = v.prod.get(sqrt.inputs[0] as string);
  if (!addEps || addEps.op !== 'add' || !v.single(sqrt.inputs[0] as string)) return undefined;
  const varOut = addEps.inputs.find((i) => v.prod.get(i)?.op === 'reduce_mean');
  const epsT = v.f32Const(varOut === undefined ? undefined : otherInput(addEps, varOut));
  const varMean = varOut === undefined ? undefined : v.prod.get(varOut);
  if (!epsT || epsT.data.length !== 1 || !varMean || !v.single(varOut as string) || trailingMean(v, varMean) !== axis) return undefined;
  const sqOut = varMean.inputs[0] as string;
  const sq = v.prod.get(sqOut);
  const squares = sq && ((sq.op === 'mul' && sq.inputs[0] === d && sq.inputs[1] === d) ||
    (sq.op === 'pow' && sq.inputs[0] === d && v.f32Const(sq.inputs[1])?.data.length === 1 && v.f32Const(sq.inputs[1])?.data[0] === 2));
  if (!sq || !squares || !v.single(sqOut)) return undefined;
  // d feeds exactly the square and the division.
  const dReaders = v.readers(d);
  if (v.g.outputs.includes(d) || dReaders.length !== 2 || !dReaders.includes(sq) || !dReaders.includes(div)) return undefined;
  const eps = epsT.data[0] as number;
  if (!(eps >= 0)) return undefined;
  return { x, axis, eps, chain: [mean, sub, sq, varMean, addEps, sqrt, div], out: div.outputs[0] as string };
}

export const layerNormFusion: Pass = {
  name: 'layer-norm-fusion',
  run(g) {
    const v = viewOf(g);
    const edit = new GraphEdit(g);
    for (const div of g.nodes) {
      const core = matchCore(v, div);
      const xs = core && v.shape(core.x);
      const xt = core && g.values.get(core.x);
      if (!core || !xs || xt?.dtype !== 'f32') continue;
      const norm = xs.slice(core.axis);
      const chain = [...core.chain];
      let out = core.out;
      let scale: Tensor | undefined;
      let bias: Tensor | undefined;
      // Optional trailing affine: * scale, then + bias (constants in either operand position).
      const affine = (op: 'mul' | 'add'): Tensor | undefined => {
        const r = v.onlyReader(out);
        const c = r && r.op === op ? normParam(v.f32Const(otherInput(r, out)), norm) : undefined;
        const rs = r && v.shape(r.outputs[0] as string);
        if (!r || !c || !rs || !sameShape(rs, xs)) return undefined;
        chain.push(r);
        out = r.outputs[0] as string;
        return c;
      };
      scale = affine('mul');
      bias = affine('add');
      if (!sameShape(v.shape(out) ?? [], xs) || !edit.untouched(chain)) continue;
      const last = chain[chain.length - 1] as Node;
      const base = last.name;
      const scaleName = edit.addConst(`${base}.scale`, scale ?? tensor('f32', [norm[norm.length - 1] as number], new Float32Array(norm[norm.length - 1] as number).fill(1)));
      const inputs = [core.x, scaleName];
      if (bias) inputs.push(edit.addConst(`${base}.bias`, bias));
      const fused: Node = {
        name: base, op: 'layer_norm', inputs, outputs: [out], attrs: { axis: core.axis, epsilon: core.eps },
        ...(last.loc ? { loc: last.loc } : {}),
      };
      edit.replace(last, chain.slice(0, -1), [fused]);
    }
    if (!edit.count) return { graph: g, changed: false };
    return { graph: edit.apply(), changed: true, stats: { fused: edit.count } };
  },
};
