// Parser for the IR text form printed by print.ts (grammar in its header). Statements end at
// line breaks; after an error the parser skips to the next line, so one run reports every
// problem as {line, col, message}. A successful parse always passes verifyGraph: node output
// types are inferred through the op table and must equal any `: TYPE` annotation.

import { packedInt, SCALAR_DTYPES, type DType, type QuantParams, type ScalarDType } from './dtype.ts';
import { numberToF16Bits } from './f16.ts';
import type { AttrValue, Graph, Node, SourceLoc } from './graph.ts';
import { getOp } from './op-table.ts';
import { isConcrete, numel, type Dim } from './shape.ts';
import { typeToString, type HostArray, type Tensor, type TensorType } from './tensor.ts';
import { canonicalHostKind, decodeBase64, fromLittleEndianBytes, hostBytesPerElement, isHostKind, newHostArray, quoteName, type HostKind } from './text-data.ts';
import { describeToken, formatTextErrors, lex, type TextError, type Token } from './text-lexer.ts';
import { verifyGraph } from './verify.ts';

export { formatTextErrors, type TextError } from './text-lexer.ts';

export interface ParseOptions {
  /** File name used in error messages (default '<text>'). */
  readonly file?: string;
  /**
   * Summary text elides data (`<#hash>`, quant types without scales). 'error' (default)
   * rejects it; 'zeros' reads zero-filled initializers and empty scale/zero-point arrays.
   */
  readonly elided?: 'error' | 'zeros';
}

export type ParseResult =
  | { readonly ok: true; readonly graph: Graph }
  | { readonly ok: false; readonly errors: readonly TextError[] };

/** Parses IR text; never throws, returns every error. */
export function tryParseGraph(text: string, opts: ParseOptions = {}): ParseResult {
  const { tokens, errors } = lex(text);
  const p = new Parser(tokens, opts.elided ?? 'error');
  const graph = p.file();
  const all = [...errors, ...p.errors].sort((a, b) => a.line - b.line || a.col - b.col);
  return all.length || !graph ? { ok: false, errors: all } : { ok: true, graph };
}

export class GraphTextError extends Error {
  constructor(readonly errors: readonly TextError[], text: string, readonly file: string) {
    super(formatTextErrors(text, errors, file));
    this.name = 'GraphTextError';
  }
}

/** Parses IR text, throwing a GraphTextError whose message lists every error with a snippet. */
export function parseGraph(text: string, opts: ParseOptions = {}): Graph {
  const r = tryParseGraph(text, opts);
  if (!r.ok) throw new GraphTextError(r.errors, text, opts.file ?? '<text>');
  return r.graph;
}

const BAIL = Symbol('bail');
const vname = (name: string): string => `%${quoteName(name)}`;
const SCALARS = new Set<string>(SCALAR_DTYPES);

class Parser {
  readonly errors: TextError[] = [];
  private i = 0;
  /** Value name -> type; null when an earlier error left it unknown (suppresses cascades). */
  private readonly types = new Map<string, TensorType | null>();
  private readonly values = new Map<string, TensorType>();
  private readonly inits = new Map<string, Tensor>();
  private readonly nodes: Node[] = [];
  private readonly nodeNames = new Set<string>();

  constructor(private readonly toks: readonly Token[], private readonly elided: 'error' | 'zeros') {}

  file(): Graph | undefined {
    const head = this.peek();
    let header: { name: string; inputs: string[]; outputs: Token[] } | undefined;
    try {
      header = this.header();
    } catch (e) {
      if (e !== BAIL) throw e;
      while (this.peek().kind !== 'eof' && !this.isPunct(this.next(), '{'));
    }
    while (!this.isPunct(this.peek(), '}') && this.peek().kind !== 'eof') {
      const start = this.i;
      try {
        this.statement();
        const t = this.peek();
        if (!t.bol && t.kind !== 'eof') this.fail(t, `expected a line break after the statement, found ${describeToken(t)}`);
      } catch (e) {
        if (e !== BAIL) throw e;
        if (this.i === start) this.i++;
        while (!this.peek().bol && this.peek().kind !== 'eof') this.i++;
      }
    }
    const close = this.next();
    if (!this.isPunct(close, '}')) this.report(close, `expected '}' to close graph, found ${describeToken(close)}`);
    else if (this.peek().kind !== 'eof') this.report(this.peek(), `unexpected ${describeToken(this.peek())} after the closing '}'`);
    if (!header) return undefined;
    for (const t of header.outputs) if (!this.types.has(t.text)) this.report(t, `graph output ${vname(t.text)} is never defined`);
    if (this.errors.length) return undefined;
    const g: Graph = {
      name: header.name, inputs: header.inputs, outputs: header.outputs.map((t) => t.text),
      values: this.values, nodes: this.nodes, initializers: this.inits,
    };
    // Safety net: the checks above should already have caught everything the verifier does.
    for (const msg of verifyGraph(g)) this.report(head, `verifier: ${msg}`);
    return this.errors.length ? undefined : g;
  }

  private header(): { name: string; inputs: string[]; outputs: Token[] } {
    const kw = this.next();
    if (kw.kind !== 'ident' || kw.text !== 'graph') this.fail(kw, `expected 'graph', found ${describeToken(kw)}`);
    const name = this.identOrString('graph name');
    this.expect('(', 'after the graph name');
    const inputs: string[] = [];
    if (!this.acceptPunct(')')) {
      do {
        const v = this.valueTok();
        this.expect(':', 'before the input type');
        this.define(v, this.type());
        inputs.push(v.text);
      } while (this.acceptPunct(','));
      this.expect(')', 'to close the input list');
    }
    this.expect('->', 'after the inputs');
    this.expect('(', 'to open the output list');
    const outputs: Token[] = [];
    if (!this.acceptPunct(')')) {
      do outputs.push(this.valueTok()); while (this.acceptPunct(','));
      this.expect(')', 'to close the output list');
    }
    this.expect('{', 'to open the graph body');
    return { name, inputs, outputs };
  }

  private statement(): void {
    const t = this.peek();
    if (t.kind === 'ident' && t.text === 'init') { this.i++; this.init(); return; }
    if (t.kind === 'value') { this.node(); return; }
    this.fail(t, `expected 'init', a node (%out = op(...)) or '}', found ${describeToken(t)}`);
  }

  private init(): void {
    const v = this.valueTok();
    this.expect(':', 'before the initializer type');
    const typeTok = this.peek();
    const type = this.type();
    this.expect('=', 'before the initializer data');
    if (!isConcrete(type.shape)) this.fail(typeTok, `initializer ${vname(v.text)} needs a concrete shape, got ${typeToString(type)}`);
    const shape = type.shape as readonly number[];
    this.define(v, type);
    const data = this.data(canonicalHostKind(type.dtype), numel(shape), type.dtype);
    this.inits.set(v.text, { dtype: type.dtype, shape, data });
  }

  private node(): void {
    const outs: { tok: Token; ann: TensorType | undefined }[] = [];
    do {
      const tok = this.valueTok();
      outs.push({ tok, ann: this.acceptPunct(':') ? this.type() : undefined });
    } while (this.acceptPunct(','));
    this.expect('=', 'after the node outputs');
    const opTok = this.peek();
    const op = this.identOrString('op name');
    this.expect('(', `after '${op}'`);
    const args: Token[] = [];
    if (!this.acceptPunct(')')) {
      do {
        const a = this.next();
        if (a.kind !== 'value' && !(a.kind === 'ident' && a.text === '_')) this.fail(a, `expected an input (%name or _), found ${describeToken(a)}`);
        args.push(a);
      } while (this.acceptPunct(','));
      this.expect(')', `to close the inputs of '${op}'`);
    }
    const attrs = this.isPunct(this.peek(), '{') ? this.attrs() : {};
    let nameTok: Token | undefined;
    if (this.peek().kind === 'node') nameTok = this.next();
    const loc = this.peek().kind === 'ident' && this.peek().text === 'loc' ? this.loc() : undefined;

    const inputs = args.map((a) => (a.kind === 'ident' ? '' : a.text));
    let known = true;
    const present: TensorType[] = [];
    for (const a of args) {
      if (a.kind === 'ident') continue;
      const t = this.types.get(a.text);
      if (t === undefined) this.report(a, `unknown value ${vname(a.text)} (values must be defined above their first use)`);
      if (!t) known = false;
      else present.push(t);
    }
    const def = getOp(op);
    let inferred: TensorType[] | undefined;
    if (!def) this.report(opTok, `unknown op '${op}'`);
    else if (inputs.length < def.inputs.min || inputs.length > def.inputs.max) {
      this.report(opTok, `'${op}' takes ${def.inputs.min}..${def.inputs.max} inputs, got ${inputs.length}`);
    } else if (known) {
      const r = def.infer(present, attrs);
      if (typeof r === 'string') this.report(opTok, `${r} [inputs: ${present.map(typeToString).join(', ')}]`);
      else if (r.length !== outs.length) this.report(opTok, `'${op}' makes ${r.length} output(s), ${outs.length} are named`);
      else inferred = r;
    }
    outs.forEach(({ tok, ann }, k) => {
      const inf = inferred?.[k];
      if (ann && inf && typeToString(ann) !== typeToString(inf)) {
        this.report(tok, `${vname(tok.text)} is declared ${typeToString(ann)} but '${op}' infers ${typeToString(inf)}`);
      }
      this.define(tok, ann ?? inf ?? null);
    });
    let name = nameTok?.text ?? op;
    if (nameTok && this.nodeNames.has(name)) this.report(nameTok, `node name @${quoteName(name)} is used twice`);
    // Unnamed nodes (hand-written text) get the op name, suffixed like GraphBuilder does.
    for (let k = 1; !nameTok && this.nodeNames.has(name); k++) name = `${op}_${k}`;
    this.nodeNames.add(name);
    const base = { name, op, inputs, outputs: outs.map((o) => o.tok.text), attrs };
    this.nodes.push(loc ? { ...base, loc } : base);
  }

  private define(tok: Token, t: TensorType | null): void {
    if (this.types.has(tok.text)) this.report(tok, `value ${vname(tok.text)} is already defined`);
    else this.types.set(tok.text, t);
    if (t && !this.values.has(tok.text)) this.values.set(tok.text, t);
  }

  private type(): TensorType {
    const d = this.next();
    if (d.kind !== 'ident') this.fail(d, `expected a dtype (f32, f16, i32, u32, bool, i1..i8, u1..u8), found ${describeToken(d)}`);
    let dtype: DType;
    const packed = /^([iu])([1-8])$/.exec(d.text);
    if (SCALARS.has(d.text)) dtype = d.text as ScalarDType;
    else if (packed) {
      const quant = this.isPunct(this.peek(), '{') ? this.quant(d) : undefined;
      dtype = packedInt(Number(packed[2]), packed[1] === 'i', quant);
    } else this.fail(d, `unknown dtype '${d.text}'`);
    this.expect('[', `to open the shape of ${d.text}`);
    const shape: Dim[] = [];
    if (!this.acceptPunct(']')) {
      do {
        const t = this.next();
        if (t.kind === 'num' && /^\d+$/.test(t.text)) shape.push(Number(t.text));
        else if (t.kind === 'ident' || t.kind === 'str') shape.push(t.text);
        else this.fail(t, `expected a dim (integer or name), found ${describeToken(t)}`);
      } while (this.acceptPunct(','));
      this.expect(']', 'to close the shape');
    }
    return { dtype, shape };
  }

  private quant(dtypeTok: Token): QuantParams {
    this.expect('{', '');
    let axis: number | undefined;
    let groupSize: number | undefined;
    let scales: Float32Array | undefined;
    let zeroPoints: Int32Array | undefined;
    let zpFlag = false;
    do {
      const k = this.next();
      if (k.kind !== 'ident') this.fail(k, `expected a quantization field (axis, group, scales, zp), found ${describeToken(k)}`);
      if (k.text === 'zp' && !this.isPunct(this.peek(), '=')) { zpFlag = true; continue; }
      this.expect('=', `after '${k.text}'`);
      if (k.text === 'axis') axis = this.integer();
      else if (k.text === 'group') groupSize = this.integer();
      else if (k.text === 'scales') scales = this.data('f32', undefined) as Float32Array;
      else if (k.text === 'zp') zeroPoints = this.data('i32', undefined) as Int32Array;
      else this.fail(k, `unknown quantization field '${k.text}' (expected axis, group, scales, zp)`);
    } while (this.acceptPunct(','));
    this.expect('}', 'to close the quantization params');
    if (axis === undefined || groupSize === undefined) this.fail(dtypeTok, `${dtypeTok.text}{...} needs axis= and group=`);
    if (!scales) {
      if (this.elided === 'error' && this.noteElided()) this.report(dtypeTok, `${dtypeTok.text}{...} has no scales= (summary text); print with { data: true } or parse with elided: 'zeros'`);
      scales = new Float32Array(0);
      if (zpFlag) zeroPoints = new Int32Array(0);
    }
    return zeroPoints ? { axis, groupSize, scales, zeroPoints } : { axis, groupSize, scales };
  }

  /** DATA (see print.ts) as an array of `kind` (or the tagged kind); zeros when elided. */
  private data(kind: HostKind, count: number | undefined, dtype?: DType): HostArray {
    const t = this.peek();
    if (this.acceptPunct('<')) {
      const x = this.next();
      if (x.kind === 'hash') {
        this.expect('>', 'after the hash');
        if (this.elided === 'error' && this.noteElided()) this.report(t, "initializer data is elided (summary text); print with { data: true } or parse with elided: 'zeros'");
        return newHostArray(kind, count ?? 0);
      }
      if (x.kind !== 'ident' || !isHostKind(x.text)) this.fail(x, `expected an array kind (f32 f64 u16 i32 u32 u8 i8) or #hash, found ${describeToken(x)}`);
      kind = x.text;
      this.expect('>', 'after the array kind');
    }
    const b = this.next();
    let out: HostArray;
    if (b.kind === 'ident' && b.text === 'b64') {
      const s = this.next();
      if (s.kind !== 'str') this.fail(s, `expected a string after b64, found ${describeToken(s)}`);
      const bytes = decodeBase64(s.text);
      if (typeof bytes === 'string') this.fail(s, bytes);
      const size = hostBytesPerElement(kind);
      if (bytes.length % size !== 0) this.fail(s, `${bytes.length} bytes is not a whole number of ${kind} elements`);
      out = fromLittleEndianBytes(kind, bytes);
    } else if (this.isPunct(b, '[')) {
      const vals: number[] = [];
      if (!this.acceptPunct(']')) {
        do vals.push(this.number()); while (this.acceptPunct(','));
        this.expect(']', 'to close the data list');
      }
      out = newHostArray(kind, vals.length);
      // The list holds element values; f16 data lives as bit patterns (tensor.ts).
      const toBits = dtype === 'f16' && kind === 'u16';
      vals.forEach((v, i) => { out[i] = toBits ? numberToF16Bits(v) : v; });
    } else {
      this.fail(b, `expected data (b64"...", [numbers] or <#hash>), found ${describeToken(b)}`);
    }
    if (count !== undefined && out.length !== count) this.fail(b, `data has ${out.length} elements, the shape needs ${count}`);
    return out;
  }

  private attrs(): Record<string, AttrValue> {
    this.expect('{', '');
    const out: Record<string, AttrValue> = {};
    if (this.acceptPunct('}')) return out;
    do {
      const kt = this.peek();
      const key = this.identOrString('attribute name');
      this.expect('=', `after attribute '${key}'`);
      const v = this.attrValue();
      if (Object.hasOwn(out, key)) this.report(kt, `attribute '${key}' is given twice`);
      out[key] = v;
    } while (this.acceptPunct(','));
    this.expect('}', 'to close the attributes');
    return out;
  }

  private attrValue(): AttrValue {
    const t = this.peek();
    if (t.kind === 'str') { this.i++; return t.text; }
    if (t.kind === 'ident' && (t.text === 'true' || t.text === 'false')) { this.i++; return t.text === 'true'; }
    if (!this.acceptPunct('[')) return this.number();
    if (this.acceptPunct(']')) return [];
    if (this.peek().kind === 'str') {
      const strs: string[] = [];
      do {
        const s = this.next();
        if (s.kind !== 'str') this.fail(s, `expected a string (lists hold one kind), found ${describeToken(s)}`);
        strs.push(s.text);
      } while (this.acceptPunct(','));
      this.expect(']', 'to close the list');
      return strs;
    }
    const nums: number[] = [];
    do nums.push(this.number()); while (this.acceptPunct(','));
    this.expect(']', 'to close the list');
    return nums;
  }

  private number(): number {
    const neg = this.acceptPunct('-');
    const t = this.next();
    let v: number;
    if (t.kind === 'num') v = Number(t.text);
    else if (t.kind === 'ident' && t.text === 'inf') v = Infinity;
    else if (t.kind === 'ident' && t.text === 'nan') v = NaN;
    else this.fail(t, `expected a number, found ${describeToken(t)}`);
    return neg ? -v : v;
  }

  private integer(): number {
    const t = this.peek();
    const v = this.number();
    if (!Number.isInteger(v)) this.fail(t, `expected an integer, got ${v}`);
    return v;
  }

  private loc(): SourceLoc {
    this.i++;
    this.expect('(', "after 'loc'");
    const f = this.next();
    if (f.kind !== 'str') this.fail(f, `expected a quoted file name, found ${describeToken(f)}`);
    this.expect(':', '');
    const line = this.integer();
    this.expect(':', '');
    const col = this.integer();
    const length = this.acceptPunct(':') ? this.integer() : undefined;
    this.expect(')', "to close 'loc'");
    return length === undefined ? { file: f.text, line, col } : { file: f.text, line, col, length };
  }

  private valueTok(): Token {
    const t = this.next();
    if (t.kind !== 'value') this.fail(t, `expected a value (%name), found ${describeToken(t)}`);
    return t;
  }

  private identOrString(what: string): string {
    const t = this.next();
    if (t.kind !== 'ident' && t.kind !== 'str') this.fail(t, `expected ${what}, found ${describeToken(t)}`);
    return t.text;
  }

  private peek(): Token {
    return this.toks[Math.min(this.i, this.toks.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isPunct(t: Token, p: string): boolean {
    return t.kind === 'punct' && t.text === p;
  }

  private acceptPunct(p: string): boolean {
    if (!this.isPunct(this.peek(), p)) return false;
    this.i++;
    return true;
  }

  private expect(p: string, why: string): Token {
    const t = this.peek();
    if (!this.isPunct(t, p)) this.fail(t, `expected '${p}'${why ? ` ${why}` : ''}, found ${describeToken(t)}`);
    this.i++;
    return t;
  }

  private elidedSeen = false;

  /** True the first time: summary text elides every initializer, one error says it all. */
  private noteElided(): boolean {
    const first = !this.elidedSeen;
    this.elidedSeen = true;
    return first;
  }

  private report(t: Token, message: string): void {
    this.errors.push({ line: t.line, col: t.col, message });
  }

  private fail(t: Token, message: string): never {
    this.report(t, message);
    throw BAIL;
  }
}
