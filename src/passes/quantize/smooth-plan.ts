// The quantize pass's smoothing phase: layers whose method is 'smooth' are grouped by the A they
// read (Q/K/V share one s), each group's α is searched on its calibration rows (smooth.ts) and
// applied, consumers before producers so a fold into a producer layer is seen by its own search.
// Without calibration data the layers fall back to plain 'mse' with a warning.

import type { Graph, Node } from '../../ir/graph.ts';
import { scaledStats, type ActStats } from '../../quant/act-stats.ts';
import type { Calibration } from '../../quant/calibrate.ts';
import type { PassContext } from '../pass.ts';
import { viewOf } from '../simplify/pattern-util.ts';
import type { LayerSettings } from './policy.ts';
import { actGroup, candidateOf, weightLayers } from './quantize-pass.ts';
import { applySmoothing, searchSmoothing, weightNK } from './smooth.ts';

export interface SmoothPhaseResult {
  readonly graph: Graph;
  readonly changed: boolean;
  /** Groups smoothed, and how many needed a new mul (no producer to fold 1/s into). */
  readonly smoothed: number;
  readonly muls: number;
}

const fmt = (x: number): string => x.toPrecision(3);

export function smoothPhase(g: Graph, settingsFor: (n: Node) => LayerSettings | 'keep', layerStats: Map<string, ActStats>,
  o: { readonly calibration?: Calibration; readonly smoothAlphas?: readonly number[] }, ctx: PassContext): SmoothPhaseResult {
  const v = viewOf(g);
  const want = weightLayers(g).filter((n) => {
    const st = settingsFor(n);
    return n.op !== 'conv2d' && st !== 'keep' && st.method === 'smooth' && typeof candidateOf(v, n) !== 'string';
  });
  const none = { graph: g, changed: false, smoothed: 0, muls: 0 };
  if (!want.length) return none;
  if (!o.calibration) {
    ctx.diag.push({ severity: 'warning', pass: 'quantize', message: `method 'smooth' needs calibration data (--calib DIR); ${want.length} layer(s) use 'mse' on weights instead` });
    return none;
  }
  const groups = new Map<string, string[]>();
  for (const n of want) groups.set(n.inputs[0] as string, [...(groups.get(n.inputs[0] as string) ?? []), n.name]);
  let cur = g;
  let smoothed = 0;
  let muls = 0;
  for (const [a, names] of [...groups].reverse()) {
    const x = layerStats.get(names[0] as string);
    if (!x || x.count === 0) {
      ctx.diag.push({ severity: 'note', pass: 'quantize', node: names[0] as string, message: `not smoothed: no calibration rows for its input '${a}'` });
      continue;
    }
    const nodes = names.map((nm) => cur.nodes.find((n) => n.name === nm) as Node);
    // The search quantizes as the pass will: WxAy layers with their rounded group.
    const ws = nodes.map((n) => {
      const st = settingsFor(n) as LayerSettings;
      const w = weightNK(cur, n);
      return { ...w, settings: st.actBits ? { ...st, group: actGroup(st.group, w.K) } : st };
    });
    if (ws.some((w) => w.K !== x.K)) throw new Error(`quantize: calibration of '${names[0]}' has ${x.K} channels, its weight does not`);
    const r = searchSmoothing(x, ws, o.smoothAlphas ? { alphas: o.smoothAlphas } : {});
    const who = names.length > 1 ? `${names.length} layers reading '${a}'` : `'${a}'`;
    if (r.alpha === null) {
      ctx.diag.push({ severity: 'note', pass: 'quantize', node: names[0] as string, message: `not smoothed: no α lowers the output error on ${who} (${fmt(r.baseline)})` });
      continue;
    }
    const ap = applySmoothing(cur, a, names, r.s);
    cur = ap.graph;
    const sx = scaledStats(x, r.s.map((s) => 1 / s));
    for (const nm of names) layerStats.set(nm, sx);
    smoothed++;
    if (ap.foldedInto.startsWith('new mul')) muls++;
    ctx.diag.push({ severity: 'note', pass: 'quantize', node: names.join(', '), message: `smoothed ${who}: α=${r.alpha}, 1/s folded into ${ap.foldedInto}; calibration output error ${fmt(r.baseline)} -> ${fmt(r.error)}` });
  }
  return { graph: cur, changed: smoothed > 0, smoothed, muls };
}
