// Per-layer quantization settings: CLI defaults, a JSON policy file ({"default": {...}, "layers":
// [{"match": glob, ..., "keep": true}]}) and DSL annotations (`@quant(bits=, group=, act_bits=)`,
// `@keep(f32)`) merged per weight layer. Precedence, lowest first: CLI defaults < policy default
// < DSL annotation < policy layer rules (later rules win) < --keep. Only settings live here.

export type LayerMethod = 'rtn' | 'mse' | 'smooth';

export interface LayerSettings {
  readonly bits: number;
  /** Group size along K; 0 = per output channel. */
  readonly group: number;
  /** 0 = f32 activations; 2..8 = per-token dynamic activation quantization (quantize_act). */
  readonly actBits: number;
  readonly method: LayerMethod;
  /** Undefined: symmetric at 4+ bits, asymmetric below. */
  readonly symmetric: boolean | undefined;
  readonly bitBalance: boolean;
}

/** Any subset of the settings, plus `keep` (stay float). */
export interface PartialSettings {
  bits?: number;
  group?: number;
  actBits?: number;
  method?: LayerMethod;
  symmetric?: boolean;
  bitBalance?: boolean;
  keep?: boolean;
}

export interface PolicyRule extends PartialSettings {
  /** Glob (`*`, `?`) or substring of the node or weight name. */
  readonly match: string;
}

export interface QuantPolicy {
  readonly default: PartialSettings;
  readonly layers: readonly PolicyRule[];
}

/** A user mistake in a policy file or annotation: one line naming where. */
export class QuantPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantPolicyError';
  }
}

export function matchesPattern(name: string, pattern: string): boolean {
  if (!/[*?]/.test(pattern)) return name.includes(pattern);
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

const KEYS: Readonly<Record<string, keyof PartialSettings>> = {
  bits: 'bits', group: 'group', actBits: 'actBits', act_bits: 'actBits', method: 'method',
  symmetric: 'symmetric', bitBalance: 'bitBalance', bit_balance: 'bitBalance', keep: 'keep',
};

/** One settings object's fields, checked; `where` prefixes every error ("policy.json: layers[2]"). */
export function settingsOf(o: Readonly<Record<string, unknown>>, where: string, extra: readonly string[] = []): PartialSettings {
  const out: PartialSettings = {};
  const int = (k: string, v: unknown, ok: (n: number) => boolean, want: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || !ok(v)) throw new QuantPolicyError(`${where}.${k}: expected ${want}, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (k: string, v: unknown): boolean => {
    if (typeof v !== 'boolean') throw new QuantPolicyError(`${where}.${k}: expected true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  for (const [k, v] of Object.entries(o)) {
    if (extra.includes(k)) continue;
    const key = KEYS[k];
    if (!key) throw new QuantPolicyError(`${where}: unknown key '${k}' (known: ${[...Object.keys(KEYS).filter((x) => !x.includes('_')), ...extra].join(', ')})`);
    if (key === 'bits') out.bits = int(k, v, (n) => n >= 1 && n <= 8, 'an integer 1..8');
    else if (key === 'group') out.group = int(k, v, (n) => n >= 0, 'a non-negative integer (0 = per output channel)');
    else if (key === 'actBits') out.actBits = int(k, v, (n) => n === 0 || (n >= 2 && n <= 8), '0 (f32) or an integer 2..8');
    else if (key === 'method') {
      if (v !== 'rtn' && v !== 'mse' && v !== 'smooth') throw new QuantPolicyError(`${where}.method: expected "rtn", "mse" or "smooth", got ${JSON.stringify(v)}`);
      out.method = v;
    } else if (key === 'symmetric') out.symmetric = bool(k, v);
    else if (key === 'bitBalance') out.bitBalance = bool(k, v);
    else out.keep = bool(k, v);
  }
  return out;
}

/** Parses and checks a policy file's text; throws QuantPolicyError naming the file and field. */
export function parsePolicy(text: string, file: string): QuantPolicy {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new QuantPolicyError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(j)) throw new QuantPolicyError(`${file}: expected an object {"default": {...}, "layers": [...]}`);
  for (const k of Object.keys(j)) if (k !== 'default' && k !== 'layers') throw new QuantPolicyError(`${file}: unknown key '${k}' (known: default, layers)`);
  const d = j.default ?? {};
  if (!isObj(d)) throw new QuantPolicyError(`${file}: "default" must be an object`);
  const dflt = settingsOf(d, `${file}: default`);
  if (dflt.keep !== undefined) throw new QuantPolicyError(`${file}: default.keep: keep belongs in a layer rule`);
  const ls = j.layers ?? [];
  if (!Array.isArray(ls)) throw new QuantPolicyError(`${file}: "layers" must be an array of rules`);
  const layers = ls.map((r: unknown, i): PolicyRule => {
    const where = `${file}: layers[${i}]`;
    if (!isObj(r)) throw new QuantPolicyError(`${where}: expected an object with "match"`);
    if (typeof r.match !== 'string' || r.match === '') throw new QuantPolicyError(`${where}.match: expected a non-empty glob string, got ${JSON.stringify(r.match)}`);
    return { match: r.match, ...settingsOf(r, where, ['match']) };
  });
  return { default: dflt, layers };
}

/** DSL annotation records (outermost first) -> settings; throws QuantPolicyError for bad values. */
export function annotationSettings(node: string, records: readonly { readonly name: string; readonly args: Readonly<Record<string, unknown>> }[]): PartialSettings {
  let out: PartialSettings = {};
  for (const r of records) {
    if (r.name === 'keep') {
      const dt = r.args.dtype ?? 'f32';
      if (dt !== 'f32') throw new QuantPolicyError(`@keep on '${node}': only @keep(f32) is supported, got ${JSON.stringify(dt)}`);
      out = { ...out, keep: true };
    } else if (r.name === 'quant') {
      out = { ...out, ...settingsOf(r.args, `@quant on '${node}'`) };
    }
  }
  return out;
}

export interface LayerContext {
  readonly node: string;
  readonly weight: string;
  /** Merged DSL annotations of the node, if any. */
  readonly annotation?: PartialSettings | undefined;
}

/** The merged settings of one layer, or 'keep'; an inconsistent merge is a one-line error string. */
export function resolveLayer(cli: LayerSettings, cliKeep: readonly string[], policy: QuantPolicy | undefined, l: LayerContext): LayerSettings | 'keep' | { error: string } {
  const hit = (p: string): boolean => matchesPattern(l.node, p) || matchesPattern(l.weight, p);
  if (cliKeep.some(hit)) return 'keep';
  let s: PartialSettings = { ...(policy?.default ?? {}), ...(l.annotation ?? {}) };
  for (const r of policy?.layers ?? []) {
    if (!hit(r.match)) continue;
    const { match: _m, ...rest } = r;
    s = { ...s, ...rest };
  }
  if (s.keep) return 'keep';
  const out: LayerSettings = {
    bits: s.bits ?? cli.bits, group: s.group ?? cli.group, actBits: s.actBits ?? cli.actBits, method: s.method ?? cli.method,
    symmetric: s.symmetric ?? cli.symmetric, bitBalance: s.bitBalance ?? (s.bits !== undefined && s.bits !== 2 ? false : cli.bitBalance),
  };
  if (out.bitBalance && out.bits !== 2) return { error: `bit balance is a 2-bit option, but the policy gives bits=${out.bits}` };
  if (out.bitBalance && out.symmetric === false) return { error: 'bit balance is symmetric, but the policy asks for symmetric=false' };
  return out;
}
