// The CLI side of weight quantization: `--bits/--group/--method/--asym/--keep/--bit-balance`
// parsed into QuantizeOptions (bad values are UserErrors), and the per-layer report that
// `compile` and `inspect` print (bits per matmul_nbits layer, weight compression ratio).
// The ratio compares against the same bundle with every quantized layer stored as f32.

import type { Graph } from '../ir/graph.ts';
import { nbitsAttrs } from '../ir/ops/matmul-nbits.ts';
import { numberAttr } from '../ir/graph.ts';
import type { Manifest } from '../runtime/manifest.ts';
import { DEFAULT_GROUP, type QuantizeOptions } from '../passes/quantize/quantize-pass.ts';
import { UserError } from './errors.ts';

export interface QuantFlags {
  readonly bits?: string | undefined;
  readonly group?: string | undefined;
  readonly method?: string | undefined;
  readonly asym?: boolean | undefined;
  readonly sym?: boolean | undefined;
  readonly bitBalance?: boolean | undefined;
  readonly layout?: string | undefined;
  readonly keep?: readonly string[] | undefined;
}

/** QuantizeOptions from the flags, or undefined when `--bits` is absent (no quantization). */
export function quantizeOptionsOf(f: QuantFlags): QuantizeOptions | undefined {
  const others = f.group !== undefined || f.method !== undefined || f.asym || f.sym || f.bitBalance || f.layout !== undefined || (f.keep?.length ?? 0) > 0;
  if (f.bits === undefined) {
    if (others) throw new UserError('--group, --method, --asym, --sym, --bit-balance, --layout and --keep need --bits');
    return undefined;
  }
  const bits = Number(f.bits);
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new UserError(`--bits '${f.bits}': expected an integer 1..8`);
  const group = f.group === undefined ? DEFAULT_GROUP : Number(f.group);
  if (!Number.isInteger(group) || group < 0) throw new UserError(`--group '${f.group}': expected a non-negative integer (0 = per output channel)`);
  const method = f.method ?? 'mse';
  if (method !== 'rtn' && method !== 'mse') throw new UserError(`--method '${method}': expected rtn or mse`);
  const layout = f.layout ?? 'dense';
  if (layout !== 'dense' && layout !== 'planes') throw new UserError(`--layout '${layout}': expected dense or planes`);
  if (f.asym && f.sym) throw new UserError('--asym and --sym contradict each other');
  if (f.bitBalance && bits !== 2) throw new UserError(`--bit-balance is a 2-bit option (a 5-level grid stored as 3 bits), not for --bits ${bits}`);
  if (f.bitBalance && f.asym) throw new UserError('--bit-balance is symmetric; drop --asym');
  const symmetric = f.asym ? false : f.sym || f.bitBalance ? true : undefined;
  return {
    bits, group, method, layout, keep: [...(f.keep ?? [])],
    ...(symmetric !== undefined ? { symmetric } : {}), ...(f.bitBalance ? { bitBalance: true } : {}),
  };
}

export interface QuantLayer {
  readonly node: string;
  readonly bits: number;
  readonly levels: number;
  readonly group: number;
  readonly N: number;
  readonly K: number;
  readonly layout: string;
}

export function quantLayers(g: Graph): QuantLayer[] {
  return g.nodes.filter((n) => n.op === 'matmul_nbits').map((n) => {
    const a = nbitsAttrs(n.attrs);
    return { node: n.name, bits: a.bits, levels: numberAttr(n.attrs, 'levels', 2 ** a.bits), group: a.group, N: a.N, K: a.K, layout: a.layout };
  });
}

/** "W4 g128", or "W2* g128 (5 levels in 3-bit codes)" for bit balance; "per-channel" when group = K. */
export function layerLabel(l: QuantLayer): string {
  const g = l.group >= l.K ? 'per-channel' : `g${l.group}`;
  return l.levels < 2 ** l.bits ? `W2* ${g} (${l.levels} levels in ${l.bits}-bit codes)` : `W${l.bits} ${g}`;
}

/** Weight bytes if quantized layers were f32, over the bundle's actual weight bytes. */
export function compressionRatio(g: Graph, m: Manifest): { floatBytes: number; bytes: number; ratio: number } {
  const packed = new Set(g.nodes.filter((n) => n.op === 'matmul_nbits').flatMap((n) => n.inputs.slice(1, 4)));
  const bytes = m.weights.tensors.reduce((s, t) => s + t.bytes, 0);
  let floatBytes = m.weights.tensors.reduce((s, t) => s + (packed.has(t.name) ? 0 : t.bytes), 0);
  // Shared packed weights count once, as in the bundle.
  const seen = new Set<string>();
  for (const n of g.nodes) {
    if (n.op !== 'matmul_nbits' || seen.has(n.inputs[1] ?? '')) continue;
    seen.add(n.inputs[1] ?? '');
    const a = nbitsAttrs(n.attrs);
    floatBytes += a.N * a.K * 4;
  }
  return { floatBytes, bytes, ratio: bytes > 0 ? floatBytes / bytes : 1 };
}
