// The IR text printer: one deterministic line per initializer and node, attrs sorted, so
// goldens diff cleanly. Summary mode elides initializer data as an FNV-1a hash; full mode
// (`data: true`) embeds every byte, making the text a complete serialized model (.abir).
// Values typed in `g.values` but defined by nothing are not printed (they carry no meaning).
//
// Grammar (parse.ts reads exactly this; one statement per line; `//` comments to end of line):
//   graph NAME(%in: TYPE, ...) -> (%out, ...) {
//     init %w: TYPE = DATA
//     %a: TYPE, %b: TYPE = OP(%x, _, ...) {key=ATTR, ...} @NODE loc("file":LINE:COL[:LEN])
//   }
//   TYPE   = DTYPE[DIM,...]      DIM = integer | symbolic name
//   DTYPE  = f32 | f16 | i32 | u32 | bool | iN | uN (N = 1..8)
//          | iN{axis=A,group=G[,zp]}                               (summary: dtypeName)
//          | iN{axis=A,group=G,scales=b64"..."[,zp=b64"..."]}     (full: data included)
//   DATA   = <#fnv1a64hex>                  (summary; parse needs `elided: 'zeros'`)
//          | (<HOSTKIND>)? b64"..."          (full: little-endian bytes of the host array)
//          | [n, n, ...]                    (hand-written; element values)
//   ATTR   = number | inf | -inf | nan | "string" | true | false | [numbers] | ["strings"]
//   `_` is an omitted optional input. Names (%value, @node) are bare when they match
//   [A-Za-z0-9_.]+, graph/op/attr/dim names when they match [A-Za-z_][A-Za-z0-9_.]*;
//   anything else is a JSON string (%"a b"). HOSTKIND (f32 f64 u16 i32 u32 u8 i8) is printed
//   only when the data array is not the dtype's usual one (see canonicalHostKind).
//   Source locations are printed only when `locs` is on (default: on in full mode).

import { dtypeName, isPacked, type DType } from './dtype.ts';
import type { AttrValue, Graph, Node, SourceLoc } from './graph.ts';
import type { Shape } from './shape.ts';
import type { Tensor, TensorType } from './tensor.ts';
import {
  canonicalHostKind, encodeBase64, fnv1a64, formatNumber, hostKindOf, littleEndianBytes, quoteIdent, quoteName,
} from './text-data.ts';

export interface PrintOptions {
  /** Embed initializer bytes and quantization params (full mode). Default false (summary). */
  readonly data?: boolean;
  /** Print node source locations. Default: same as `data`. */
  readonly locs?: boolean;
}

export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  const full = opts.data ?? false;
  const p = new Printer(full, opts.locs ?? full);
  return p.graph(g);
}

/** One type as the printer spells it (`f32[batch,64]`); summary spelling unless `full`. */
export function printType(t: TensorType, full = false): string {
  return new Printer(full, false).type(t);
}

/** The summary hash of a tensor's data, as printed after `<#`. */
export function tensorDigest(t: Tensor): string {
  return fnv1a64(littleEndianBytes(t.data));
}

class Printer {
  constructor(private readonly full: boolean, private readonly locs: boolean) {}

  graph(g: Graph): string {
    // An untyped input is a verifier error; `?` makes the parser reject it loudly.
    const ins = g.inputs.map((v) => {
      const t = g.values.get(v);
      return `%${quoteName(v)}: ${t ? this.type(t) : '?'}`;
    }).join(', ');
    const outs = g.outputs.map((v) => `%${quoteName(v)}`).join(', ');
    const lines = [`graph ${quoteIdent(g.name)}(${ins}) -> (${outs}) {`];
    for (const [name, t] of g.initializers) lines.push(`  init %${quoteName(name)}: ${this.type(g.values.get(name) ?? t)} = ${this.data(t)}`);
    for (const n of g.nodes) lines.push(`  ${this.node(g, n)}`);
    lines.push('}');
    return `${lines.join('\n')}\n`;
  }

  private node(g: Graph, n: Node): string {
    const outs = n.outputs.map((o) => {
      const t = g.values.get(o);
      return t ? `%${quoteName(o)}: ${this.type(t)}` : `%${quoteName(o)}`;
    }).join(', ');
    const args = n.inputs.map((i) => (i === '' ? '_' : `%${quoteName(i)}`)).join(', ');
    let s = `${outs} = ${quoteIdent(n.op)}(${args})`;
    const keys = Object.keys(n.attrs).sort();
    if (keys.length) s += ` {${keys.map((k) => `${quoteIdent(k)}=${attrValue(n.attrs[k] as AttrValue)}`).join(', ')}}`;
    s += ` @${quoteName(n.name)}`;
    if (this.locs && n.loc) s += ` ${loc(n.loc)}`;
    return s;
  }

  type(t: TensorType): string {
    return `${this.dtype(t.dtype)}${shape(t.shape)}`;
  }

  private dtype(d: DType): string {
    if (!this.full || !isPacked(d) || !d.quant) return dtypeName(d);
    const q = d.quant;
    const zp = q.zeroPoints ? `,zp=b64"${encodeBase64(littleEndianBytes(q.zeroPoints))}"` : '';
    return `${d.signed ? 'i' : 'u'}${d.bits}{axis=${q.axis},group=${q.groupSize},scales=b64"${encodeBase64(littleEndianBytes(q.scales))}"${zp}}`;
  }

  private data(t: Tensor): string {
    const bytes = littleEndianBytes(t.data);
    if (!this.full) return `<#${fnv1a64(bytes)}>`;
    const kind = hostKindOf(t.data);
    const tag = kind === canonicalHostKind(t.dtype) ? '' : `<${kind}> `;
    return `${tag}b64"${encodeBase64(bytes)}"`;
  }
}

function shape(s: Shape): string {
  return `[${s.map((d) => (typeof d === 'number' ? String(d) : quoteIdent(d))).join(',')}]`;
}

function attrValue(v: AttrValue): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  return `[${(v as readonly (number | string)[]).map((x) => (typeof x === 'number' ? formatNumber(x) : JSON.stringify(x))).join(',')}]`;
}

function loc(l: SourceLoc): string {
  return `loc(${JSON.stringify(l.file)}:${l.line}:${l.col}${l.length !== undefined ? `:${l.length}` : ''})`;
}
