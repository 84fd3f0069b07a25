// The CLI side of quantization: `--bits/--group/--method/--asym/--keep/--bit-balance/--act-bits/
// --policy` parsed into QuantizeOptions (bad values are UserErrors), DSL annotations and `--calib`
// samples added once the model is loaded (withModelData), and the per-layer report that `compile`
// and `inspect` print ("W4A8 g128" per layer, weight compression ratio vs the same bundle in f32).

import { readFileSync } from 'node:fs';
import type { Graph } from '../ir/graph.ts';
import { nbitsAttrs } from '../ir/ops/matmul-nbits.ts';
import { numberAttr } from '../ir/graph.ts';
import type { Manifest } from '../runtime/manifest.ts';
import { DEFAULT_GROUP, type QuantizeOptions } from '../passes/quantize/quantize-pass.ts';
import { annotationSettings, parsePolicy, type PartialSettings, type QuantPolicy } from '../passes/quantize/policy.ts';
import { calibrate } from '../quant/calibrate.ts';
import { readCalibrationDir } from '../quant/calibrate-npy.ts';
import { UserError } from './errors.ts';
import { modelAnnotations } from './model-io.ts';

export interface QuantFlags {
  readonly bits?: string | undefined;
  readonly convBits?: string | undefined;
  readonly group?: string | undefined;
  readonly method?: string | undefined;
  readonly asym?: boolean | undefined;
  readonly sym?: boolean | undefined;
  readonly bitBalance?: boolean | undefined;
  readonly layout?: string | undefined;
  readonly keep?: readonly string[] | undefined;
  readonly actBits?: string | undefined;
  readonly calib?: string | undefined;
  readonly policy?: string | undefined;
}

/** Runs `f`, turning policy and calibration mistakes into UserErrors (one line, exit 1). */
function userErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if ((e as Error).name === 'QuantPolicyError' || (e as Error).name === 'CalibrationError' || (e as Error).name === 'NpyError') throw new UserError((e as Error).message);
    throw e;
  }
}

function readPolicy(file: string): QuantPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`--policy '${file}': cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return userErrors(() => parsePolicy(text, file));
}

/** QuantizeOptions from the flags, or undefined when neither `--bits` nor `--policy` is given (no quantization). */
export function quantizeOptionsOf(f: QuantFlags): QuantizeOptions | undefined {
  const others = f.group !== undefined || f.method !== undefined || f.asym || f.sym || f.bitBalance || f.layout !== undefined || (f.keep?.length ?? 0) > 0 || f.actBits !== undefined || f.calib !== undefined || f.convBits !== undefined;
  const policy = f.policy !== undefined ? readPolicy(f.policy) : undefined;
  if (f.bits === undefined && !policy) {
    if (others) throw new UserError('--group, --method, --asym, --sym, --bit-balance, --layout, --keep, --act-bits, --conv-bits and --calib need --bits (or --policy)');
    return undefined;
  }
  const bitsText = f.bits ?? (policy?.default.bits !== undefined ? String(policy.default.bits) : undefined);
  if (bitsText === undefined) throw new UserError(`--policy '${f.policy}': its "default" has no "bits"; give --bits N or add it`);
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new UserError(`--bits '${f.bits}': expected an integer 1..8`);
  const group = f.group === undefined ? DEFAULT_GROUP : Number(f.group);
  if (!Number.isInteger(group) || group < 0) throw new UserError(`--group '${f.group}': expected a non-negative integer (0 = per output channel)`);
  const method = f.method ?? 'mse';
  if (method !== 'rtn' && method !== 'mse' && method !== 'smooth') throw new UserError(`--method '${method}': expected rtn, mse or smooth`);
  const actBits = f.actBits === undefined ? 0 : Number(f.actBits);
  if (f.actBits !== undefined && (!Number.isInteger(actBits) || actBits < 2 || actBits > 8)) throw new UserError(`--act-bits '${f.actBits}': expected an integer 2..8 (usually 4 or 8)`);
  const convBits = f.convBits === undefined ? undefined : Number(f.convBits);
  if (convBits !== undefined && (!Number.isInteger(convBits) || convBits < 1 || convBits > 8)) throw new UserError(`--conv-bits '${f.convBits}': expected an integer 1..8`);
  const layout = f.layout ?? 'dense';
  if (layout !== 'dense' && layout !== 'planes') throw new UserError(`--layout '${layout}': expected dense or planes`);
  if (f.asym && f.sym) throw new UserError('--asym and --sym contradict each other');
  if (f.bitBalance && bits !== 2) throw new UserError(`--bit-balance is a 2-bit option (a 5-level grid stored as 3 bits), not for --bits ${bits}`);
  if (f.bitBalance && f.asym) throw new UserError('--bit-balance is symmetric; drop --asym');
  const symmetric = f.asym ? false : f.sym || f.bitBalance ? true : undefined;
  return {
    bits, group, method, layout, keep: [...(f.keep ?? [])],
    ...(symmetric !== undefined ? { symmetric } : {}), ...(f.bitBalance ? { bitBalance: true } : {}),
    ...(actBits ? { actBits } : {}), ...(policy ? { policy } : {}), ...(convBits !== undefined ? { convBits } : {}),
  };
}

/**
 * Adds what needs the loaded model: its DSL `@quant`/`@keep` annotations and, with `--calib DIR`,
 * calibration statistics from the float graph run on the directory's samples (interpreter).
 */
export function withModelData(q: QuantizeOptions, f: QuantFlags, g: Graph): QuantizeOptions {
  const records = modelAnnotations(g);
  let annotations: Map<string, PartialSettings> | undefined;
  if (records) {
    annotations = new Map();
    for (const [node, rs] of records) {
      const quantRecords = rs.filter((r) => r.name === 'quant' || r.name === 'keep');
      if (quantRecords.length) annotations.set(node, userErrors(() => annotationSettings(node, quantRecords)));
    }
  }
  const calibration = f.calib !== undefined ? userErrors(() => calibrate(g, readCalibrationDir(f.calib as string, g.inputs))) : undefined;
  if (calibration && !calibration.layers.size) throw new UserError(`--calib '${f.calib}': the model has no matmul/gemm layers with constant weights to calibrate`);
  return { ...q, ...(annotations?.size ? { annotations } : {}), ...(calibration ? { calibration } : {}) };
}

export interface QuantLayer {
  readonly node: string;
  readonly bits: number;
  readonly levels: number;
  readonly group: number;
  readonly N: number;
  readonly K: number;
  readonly layout: string;
  /** 0 = f32 activations. */
  readonly actBits: number;
}

export function quantLayers(g: Graph): QuantLayer[] {
  // conv2d_nbits shares matmul_nbits' packing attributes (N, K, bits, group, layout).
  return g.nodes.filter((n) => n.op === 'matmul_nbits' || n.op === 'conv2d_nbits').map((n) => {
    const a = nbitsAttrs(n.attrs);
    return { node: n.name, bits: a.bits, levels: numberAttr(n.attrs, 'levels', 2 ** a.bits), group: a.group, N: a.N, K: a.K, layout: a.layout, actBits: a.actBits };
  });
}

/** "W4A8 g128" (A32 = f32 activations), or "W2*A8 g128 (5 levels in 3-bit codes)" for bit balance; "per-channel" when group = K. */
export function layerLabel(l: QuantLayer): string {
  const g = l.group >= l.K ? 'per-channel' : `g${l.group}`;
  const a = `A${l.actBits || 32}`;
  return l.levels < 2 ** l.bits ? `W2*${a} ${g} (${l.levels} levels in ${l.bits}-bit codes)` : `W${l.bits}${a} ${g}`;
}

/** Weight bytes if quantized layers were f32, over the bundle's actual weight bytes. */
export function compressionRatio(g: Graph, m: Manifest): { floatBytes: number; bytes: number; ratio: number } {
  const packed = new Set(g.nodes.filter((n) => n.op === 'matmul_nbits' || n.op === 'conv2d_nbits').flatMap((n) => n.inputs.slice(1, 4)));
  const bytes = m.weights.tensors.reduce((s, t) => s + t.bytes, 0);
  let floatBytes = m.weights.tensors.reduce((s, t) => s + (packed.has(t.name) ? 0 : t.bytes), 0);
  // Shared packed weights count once, as in the bundle.
  const seen = new Set<string>();
  for (const n of g.nodes) {
    if ((n.op !== 'matmul_nbits' && n.op !== 'conv2d_nbits') || seen.has(n.inputs[1] ?? '')) continue;
    seen.add(n.inputs[1] ?? '');
    const a = nbitsAttrs(n.attrs);
    floatBytes += a.N * a.K * 4;
  }
  return { floatBytes, bytes, ratio: bytes > 0 ? floatBytes / bytes : 1 };
}
