// The elaborator: AST -> IR graph through GraphBuilder. Model parameters, loops and block
// calls are evaluated at compile time (blocks are inlined; their params get hierarchical
// names like `block_1.esa.conv2.weight`). Every user mistake becomes a Diagnostic and
// elaboration continues with a poison value; only broken internal invariants throw.

import type { Diagnostic, Span } from '../src/diag/diagnostic.ts';
import { diag } from '../src/diag/diagnostic.ts';
import { GraphBuilder, IrError } from '../src/ir/builder.ts';
import type { DType } from '../src/ir/dtype.ts';
import type { AttrValue, Graph, SourceLoc } from '../src/ir/graph.ts';
import { getOp, OP_TABLE } from '../src/ir/op-table.ts';
import type { Dim } from '../src/ir/shape.ts';
import { ndarray, tensor, type Tensor } from '../src/ir/tensor.ts';
import type { Annotation, Arg, Callable, Expr, NamePattern, Stmt } from './ast.ts';
import type { WeightSource } from '../src/weights/index.ts';
import { WeightBinder } from './bind-weights.ts';
import { renameOutputs } from './rename-outputs.ts';
import { containsErr, describe, ERR, int, isAttrError, scalarArith, suggest, toAttr, type Val } from './values.ts';

export interface ElaborateOptions {
  /** Model to build when the program has several. */
  readonly model?: string;
  /** Overrides for model parameters (`--set NAME=VALUE`). */
  readonly set?: Readonly<Record<string, number>>;
  /** Concrete input shapes; their symbolic dims become integers usable in arithmetic. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** Checkpoint tensors by hierarchical name, or generated weights; absent = zero-filled params (for tests). */
  readonly weights?: WeightSource;
}

export interface AnnotationRecord { readonly name: string; readonly args: Readonly<Record<string, AttrValue>> }

export interface Elaborated {
  readonly graph: Graph | null;
  readonly diagnostics: Diagnostic[];
  /** Node name -> annotations in effect where it was created (`@quant`, `@sparse`, `@keep`). */
  readonly annotations: ReadonlyMap<string, readonly AnnotationRecord[]>;
}

const DTYPES: ReadonlySet<string> = new Set(['f32', 'f16']);
const ANNOTATIONS: Readonly<Record<string, readonly string[]>> = { quant: ['bits', 'group', 'act_bits'], sparse: ['group', 'rate'], keep: ['dtype'] };
const MAX_DEPTH = 64;
const MAX_ITERS = 100_000;

class Scope {
  private readonly vars = new Map<string, Val>();
  constructor(readonly parent: Scope | null) {}
  get(n: string): Val | undefined { return this.vars.get(n) ?? this.parent?.get(n); }
  define(n: string, v: Val): void { this.vars.set(n, v); }
  assign(n: string, v: Val): boolean {
    if (this.vars.has(n)) { this.vars.set(n, v); return true; }
    return this.parent?.assign(n, v) ?? false;
  }
  names(): string[] { return [...this.vars.keys(), ...(this.parent?.names() ?? [])]; }
}

interface Ctx {
  readonly scope: Scope;
  readonly prefix: readonly string[];
  readonly annots: readonly AnnotationRecord[];
  readonly depth: number;
}

export class Elaborator {
  readonly diagnostics: Diagnostic[] = [];
  private readonly b: GraphBuilder;
  private readonly blocks = new Map<string, Callable>();
  private readonly annotations = new Map<string, AnnotationRecord[]>();
  private readonly binder: WeightBinder;
  private consts = 0;

  constructor(items: readonly Callable[], private readonly model: Callable, private readonly opts: ElaborateOptions) {
    for (const c of items) if (c.k === 'block') this.blocks.set(c.name, c);
    this.b = new GraphBuilder(model.name);
    this.binder = new WeightBinder(opts.weights ?? null);
  }

  private error(code: string, message: string, span: Span, notes: string[] = []): Val {
    this.diagnostics.push(diag(code, message, span, notes));
    return ERR;
  }

  run(): Elaborated {
    const m = this.model;
    const scope = new Scope(null);
    const ctx: Ctx = { scope, prefix: [], annots: this.evalAnnots(m.annots, scope), depth: 0 };
    const set = { ...(this.opts.set ?? {}) };
    for (const p of m.params ?? []) {
      if (p.type) { this.error('decl', `model parameter '${p.name}' cannot have a tensor type; inputs go in the second group`, p.span); continue; }
      const given = set[p.name];
      delete set[p.name];
      const v = given !== undefined ? (Number.isInteger(given) ? int(given) : { k: 'float' as const, v: given })
        : p.dflt ? this.evalExpr(p.dflt, ctx, null) : this.error('decl', `model parameter '${p.name}' has no default; pass --set ${p.name}=VALUE`, p.span);
      scope.define(p.name, v);
    }
    for (const name of Object.keys(set)) {
      this.error('unknown-name', `--set ${name}: model '${m.name}' has no parameter '${name}'`, m.span,
        [`parameters: ${(m.params ?? []).map((p) => p.name).join(', ') || '(none)'}`]);
    }
    for (const inp of m.inputs) this.declareInput(inp.name, inp.type, inp.span, ctx);
    const shapes = this.opts.inputShapes ?? {};
    for (const name of Object.keys(shapes)) {
      if (!m.inputs.some((i) => i.name === name)) this.error('unknown-name', `--input ${name}: model '${m.name}' has no input '${name}'`, m.span, [`inputs: ${m.inputs.map((i) => i.name).join(', ')}`]);
    }
    const ret = this.runBody(m.body, ctx);
    const outs: { value: string; name: string }[] = [];
    if (m.outputs) {
      for (const o of m.outputs) {
        const v = scope.get(o);
        if (!v) this.error('unknown-name', `output '${o}' is not defined in model '${m.name}'`, m.span, this.didYouMean(o, scope));
        else if (v.k === 'tensor') outs.push({ value: v.v, name: o });
        else if (v.k !== 'err') this.error('type', `output '${o}' is ${describe(v)}, not a tensor`, m.span);
      }
    } else if (ret) {
      ret.vals.forEach((v, i) => {
        if (v.k === 'tensor') outs.push({ value: v.v, name: ret.values[i]?.k === 'name' ? (ret.values[i] as { name: string }).name : v.v });
        else if (v.k !== 'err') this.error('type', `model output ${i + 1} is ${describe(v)}, not a tensor`, ret.span);
      });
    } else {
      this.error('decl', `model '${m.name}' has no outputs: declare '-> (name, ...)' or end with 'return'`, m.span);
    }
    this.diagnostics.push(...this.binder.report(m.span));
    if (this.diagnostics.length) return { graph: null, diagnostics: this.diagnostics, annotations: this.annotations };
    for (const o of outs) this.b.output(o.value);
    const g = renameOutputs(this.b.build(), outs);
    return { graph: g, diagnostics: this.diagnostics, annotations: this.annotations };
  }

  private declareInput(name: string, type: Callable['inputs'][number]['type'], span: Span, ctx: Ctx): void {
    if (!type) { this.error('decl', `model input '${name}' needs a type, e.g. ${name}: f32[1, 3, H, W]`, span); return; }
    if (!DTYPES.has(type.dtype)) { this.error('type', `unknown element type '${type.dtype}' (expected f32 or f16)`, type.span); return; }
    const dims = type.dims;
    if (dims.k !== 'list') throw new Error('to-ir: type dims must be a list');
    const given = this.opts.inputShapes?.[name];
    if (given && given.length !== dims.items.length) {
      this.error('shape', `--input ${name}: rank ${given.length} given, the model declares rank ${dims.items.length}`, type.span);
    }
    const shape: Dim[] = [];
    dims.items.forEach((e, i) => {
      const g = given?.length === dims.items.length ? given[i] : undefined;
      if (e.k === 'name' && !ctx.scope.get(e.name)) {
        // A fresh name in an input type declares a symbolic dim.
        ctx.scope.define(e.name, g !== undefined ? int(g) : { k: 'dim', name: e.name });
        shape.push(g ?? e.name);
        return;
      }
      const v = this.evalExpr(e, ctx, null);
      if (v.k === 'int') {
        if (g !== undefined && g !== v.v) this.error('shape', `--input ${name}: dim ${i} is ${v.v} in the model, ${g} given`, e.span);
        shape.push(v.v);
      } else if (v.k === 'dim') shape.push(g ?? v.name);
      else if (v.k !== 'err') this.error('type', `dimension ${i} of input '${name}' is ${describe(v)}, expected an integer or a name`, e.span);
    });
    if (shape.length !== dims.items.length) { ctx.scope.define(name, ERR); return; }
    ctx.scope.define(name, { k: 'tensor', v: this.b.input(name, type.dtype as DType, shape) });
  }

  private runBody(body: readonly Stmt[], ctx: Ctx): { vals: Val[]; values: readonly Expr[]; span: Span } | null {
    for (const s of body) {
      const c: Ctx = s.annots.length ? { ...ctx, annots: [...ctx.annots, ...this.evalAnnots(s.annots, ctx.scope)] } : ctx;
      switch (s.k) {
        case 'let':
          c.scope.define(s.name, this.evalExpr(s.value, c, s.name));
          break;
        case 'assign': {
          if (!c.scope.get(s.name)) {
            this.error('unknown-name', `assignment to undefined name '${s.name}'; use 'let ${s.name} = ...' to define it`, s.span, this.didYouMean(s.name, c.scope));
            c.scope.define(s.name, ERR);
          } else c.scope.assign(s.name, this.evalExpr(s.value, c, s.name));
          break;
        }
        case 'param':
          c.scope.define(s.name, this.param(s, c));
          break;
        case 'repeat': {
          const from = this.evalExpr(s.from, c, null);
          const to = this.evalExpr(s.to, c, null);
          if (containsErr(from) || containsErr(to)) break;
          if (from.k !== 'int' || to.k !== 'int') { this.error('type', `repeat bounds must be integers, got ${describe(from)} .. ${describe(to)}`, s.span); break; }
          if (to.v - from.v > MAX_ITERS) { this.error('decl', `repeat of ${to.v - from.v} iterations exceeds the limit of ${MAX_ITERS}`, s.span); break; }
          for (let i = from.v; i < to.v; i++) {
            const inner = new Scope(c.scope);
            inner.define(s.v, int(i));
            const r = this.runBody(s.body, { ...c, scope: inner });
            if (r) return r;
          }
          break;
        }
        case 'return':
          return { vals: s.values.map((e) => this.evalExpr(e, c, null)), values: s.values, span: s.span };
      }
    }
    return null;
  }

  private param(s: Extract<Stmt, { k: 'param' }>, ctx: Ctx): Val {
    if (s.dtype !== null && s.dtype !== 'f32') return this.error('type', `param '${s.name}': only f32 weights are supported, got '${s.dtype}'`, s.span);
    const sv = this.evalExpr(s.shape, ctx, null);
    if (containsErr(sv)) return ERR;
    const shape = toAttr(sv, 'ints');
    if (isAttrError(shape)) return this.error('shape', `param '${s.name}': shape ${shape.error}`, s.shape.span);
    if ((shape as number[]).some((d) => d < 0)) return this.error('shape', `param '${s.name}': negative dimension in [${(shape as number[]).join(', ')}]`, s.shape.span);
    const key = [...ctx.prefix, s.name].join('.');
    const t = this.binder.take(key, shape as number[], s.span);
    if (!t) return ERR;
    return { k: 'tensor', v: this.b.initializer(key, t) };
  }

  private evalAnnots(as: readonly Annotation[], scope: Scope): AnnotationRecord[] {
    return as.map((a) => {
      const known = ANNOTATIONS[a.name];
      if (!known) this.error('unknown-name', `unknown annotation '@${a.name}' (known: ${Object.keys(ANNOTATIONS).map((k) => `@${k}`).join(', ')})`, a.span);
      const args: Record<string, AttrValue> = {};
      a.args.forEach((arg, i) => {
        const key = arg.name ?? known?.[i] ?? `arg${i}`;
        // `@keep(f32)`: a bare name in an annotation is a word, not a variable.
        const v = arg.value.k === 'name' && !scope.get(arg.value.name) ? { k: 'str' as const, v: arg.value.name } : this.evalExpr(arg.value, { scope, prefix: [], annots: [], depth: 0 }, null);
        const attr = v.k === 'str' ? v.v : toAttr(v, v.k === 'int' ? 'int' : 'float');
        if (known && arg.name && !known.includes(arg.name)) this.error('unknown-name', `@${a.name} has no argument '${arg.name}' (arguments: ${known.join(', ')})`, arg.span);
        else if (isAttrError(attr)) { if (!containsErr(v)) this.error('type', `@${a.name}(${key}=...): ${attr.error}`, arg.span); }
        else args[key] = attr;
      });
      return { name: a.name, args };
    });
  }

  private didYouMean(name: string, scope: Scope | null): string[] {
    const cands = [...(scope?.names() ?? []), ...this.blocks.keys(), ...OP_TABLE.keys(), 'dim', 'shape'];
    const s = suggest(name, cands);
    return s ? [`did you mean '${s}'?`] : [];
  }

  private loc(span: Span): SourceLoc {
    return { file: span.file, line: span.line, col: span.col, length: span.length };
  }

  private nodeName(ctx: Ctx, hint: string | null, op: string): string {
    return [...ctx.prefix, hint ?? op].join('.');
  }

  private addOp(op: string, inputs: string[], attrs: Record<string, AttrValue>, ctx: Ctx, hint: string | null, span: Span): Val {
    try {
      const out = this.b.op(op, inputs, attrs, { name: this.nodeName(ctx, hint, op), loc: this.loc(span) });
      if (ctx.annots.length) {
        const node = this.b.build().nodes.at(-1);
        if (node) this.annotations.set(node.name, [...ctx.annots]);
      }
      return { k: 'tensor', v: out };
    } catch (e) {
      if (e instanceof IrError) {
        // The builder names the node; the caret already shows where, so keep the op and reason.
        const msg = e.message.replace(/^node '[^']*' \(([^)]*)\): /, '$1: ').replace(new RegExp(`^${op}: ${op} `), `${op}: `);
        return this.error('type', msg, span);
      }
      throw e;
    }
  }

  private constant(v: number, like: string, ctx: Ctx): string {
    const dtype = this.b.typeOf(like).dtype;
    const name = [...ctx.prefix, `const_${this.consts++}`].join('.');
    return this.b.initializer(name, tensor(dtype === 'f16' ? 'f32' : dtype, [1], new Float32Array([v])));
  }

  evalExpr(e: Expr, ctx: Ctx, hint: string | null): Val {
    switch (e.k) {
      case 'int': return int(e.v);
      case 'float': return { k: 'float', v: e.v };
      case 'str': return { k: 'str', v: e.v };
      case 'bool': return { k: 'bool', v: e.v };
      case 'list': return { k: 'list', items: e.items.map((i) => this.evalExpr(i, ctx, null)) };
      case 'name': {
        const v = ctx.scope.get(e.name);
        return v ?? this.error('unknown-name', `unknown name '${e.name}'`, e.span, this.didYouMean(e.name, ctx.scope));
      }
      case 'neg': {
        const v = this.evalExpr(e.e, ctx, null);
        if (v.k === 'tensor') return this.addOp('neg', [v.v], {}, ctx, hint, e.span);
        if (v.k === 'err') return ERR;
        const r = scalarArith('-', int(0), v);
        return typeof r === 'string' ? this.error('type', r, e.span) : r;
      }
      case 'bin': {
        const l = this.evalExpr(e.l, ctx, null);
        const r = this.evalExpr(e.r, ctx, null);
        if (l.k === 'err' || r.k === 'err') return ERR;
        if (l.k === 'tensor' || r.k === 'tensor') return this.tensorArith(e.op, l, r, ctx, hint, e.span);
        const v = scalarArith(e.op, l, r);
        return typeof v === 'string' ? this.error('type', v, e.span) : v;
      }
      case 'call': return this.call(e, ctx, hint);
    }
  }

  private tensorArith(op: string, l: Val, r: Val, ctx: Ctx, hint: string | null, span: Span): Val {
    const name = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' }[op];
    if (!name) return this.error('type', `'${op}' is for integers; tensors use +, -, * and /`, span);
    const like = l.k === 'tensor' ? l.v : (r as { v: string }).v;
    const side = (v: Val): string | null => (v.k === 'tensor' ? v.v : v.k === 'int' || v.k === 'float' ? this.constant(v.v, like, ctx) : null);
    const a = side(l);
    const b = side(r);
    if (a === null || b === null) return this.error('type', `cannot apply '${op}' to ${describe(l)} and ${describe(r)}`, span);
    return this.addOp(name, [a, b], {}, ctx, hint, span);
  }

  private call(e: Extract<Expr, { k: 'call' }>, ctx: Ctx, hint: string | null): Val {
    const builtin = this.builtin(e, ctx);
    if (builtin) return builtin;
    const block = this.blocks.get(e.callee);
    if (block) return this.callBlock(block, e, ctx, hint);
    const def = getOp(e.callee);
    if (!def) return this.error('unknown-name', `unknown op or block '${e.callee}'`, e.span, this.didYouMean(e.callee, ctx.scope));
    if (e.as) this.error('decl', `'as' names a block instance; '${e.callee}' is an op`, e.as.span);
    const vals = e.args.map((a) => this.evalExpr(a.value, ctx, null));
    // `sqrt(8)`, `exp(-1)`: an op applied to numbers only folds to a number via its reference.
    if (vals.length && e.args.every((a) => a.name === null) && vals.every((v) => v.k === 'int' || v.k === 'float')) {
      const [out] = def.reference(vals.map((v) => ndarray([1], [(v as { v: number }).v])), {});
      return { k: 'float', v: out?.data[0] ?? Number.NaN };
    }
    const inputs: string[] = [];
    const attrs: Record<string, AttrValue> = {};
    let bad = false;
    for (const [i, a] of e.args.entries()) {
      const v = vals[i] as Val;
      if (containsErr(v)) { bad = true; continue; }
      if (a.name === null) {
        if (v.k === 'tensor') inputs.push(v.v);
        else { bad = true; this.error('type', `${e.callee}: positional argument ${inputs.length + 1} is ${describe(v)}; inputs are tensors, attributes are named (name=value)`, a.span); }
        continue;
      }
      const spec = def.attrs[a.name];
      if (!spec) {
        bad = true;
        const s = suggest(a.name, Object.keys(def.attrs));
        this.error('unknown-name', `${e.callee} has no attribute '${a.name}'`, a.span, [
          ...(s ? [`did you mean '${s}'?`] : []), `attributes: ${Object.keys(def.attrs).join(', ') || '(none)'}`]);
        continue;
      }
      const attr = toAttr(v, spec.kind);
      if (isAttrError(attr)) { bad = true; this.error('type', `${e.callee}(${a.name}=...): ${attr.error}`, a.value.span); continue; }
      attrs[a.name] = attr;
    }
    if (bad) return ERR;
    return this.addOp(e.callee, inputs, attrs, ctx, hint, e.span);
  }

  private builtin(e: Extract<Expr, { k: 'call' }>, ctx: Ctx): Val | null {
    if (e.callee !== 'dim' && e.callee !== 'shape') return null;
    if (this.blocks.has(e.callee)) return null;
    const args = e.args.map((a) => this.evalExpr(a.value, ctx, null));
    if (args.some(containsErr)) return ERR;
    const t = args[0];
    if (!t || t.k !== 'tensor' || args.length !== (e.callee === 'dim' ? 2 : 1)) {
      return this.error('type', e.callee === 'dim' ? 'dim(tensor, axis) takes a tensor and an integer axis' : 'shape(tensor) takes one tensor', e.span);
    }
    const dimVal = (d: Dim): Val => (typeof d === 'number' ? int(d) : { k: 'dim', name: d });
    const shape = this.b.typeOf(t.v).shape;
    if (e.callee === 'shape') return { k: 'list', items: shape.map(dimVal) };
    const ax = args[1] as Val;
    if (ax.k !== 'int') return this.error('type', `dim(): axis must be an integer, got ${describe(ax)}`, e.span);
    const i = ax.v < 0 ? ax.v + shape.length : ax.v;
    const d = shape[i];
    return d === undefined ? this.error('shape', `dim(): axis ${ax.v} out of range for rank ${shape.length}`, e.span) : dimVal(d);
  }

  private instanceName(p: NamePattern, ctx: Ctx): string | null {
    let s = '';
    for (const piece of p.pieces) {
      if (piece.k === 'text') { s += piece.v; continue; }
      const v = this.evalExpr(piece.e, ctx, null);
      if (v.k === 'int' || v.k === 'str') s += String(v.v);
      else { if (v.k !== 'err') this.error('type', `a name piece must be an integer or string, got ${describe(v)}`, p.span); return null; }
    }
    return s;
  }

  private callBlock(block: Callable, e: Extract<Expr, { k: 'call' }>, ctx: Ctx, hint: string | null): Val {
    if (ctx.depth >= MAX_DEPTH) return this.error('decl', `block '${block.name}' nests deeper than ${MAX_DEPTH} calls (recursion?)`, e.span);
    const inst = e.as ? this.instanceName(e.as, ctx) : hint ?? block.name;
    if (inst === null) return ERR;
    const scope = new Scope(null);
    const pos = e.args.filter((a) => a.name === null);
    const named = new Map<string, Arg>();
    for (const a of e.args) if (a.name !== null) named.set(a.name, a);
    if (pos.length !== block.inputs.length) {
      return this.error('type', `block '${block.name}' takes ${block.inputs.length} tensor input(s) (${block.inputs.map((i) => i.name).join(', ')}), got ${pos.length}`, e.span);
    }
    const inner: Ctx = { scope, prefix: [...ctx.prefix, ...inst.split('.').filter(Boolean)], annots: [...ctx.annots, ...this.evalAnnots(block.annots, scope)], depth: ctx.depth + 1 };
    let bad = false;
    for (const p of block.params ?? []) {
      const a = named.get(p.name);
      named.delete(p.name);
      const v = a ? this.evalExpr(a.value, ctx, null) : p.dflt ? this.evalExpr(p.dflt, inner, null)
        : this.error('decl', `block '${block.name}' needs parameter '${p.name}' (pass ${p.name}=...)`, e.span);
      if (containsErr(v)) bad = true;
      scope.define(p.name, v);
    }
    for (const [n, a] of named) {
      bad = true;
      const s = suggest(n, (block.params ?? []).map((p) => p.name));
      this.error('unknown-name', `block '${block.name}' has no parameter '${n}'`, a.span, s ? [`did you mean '${s}'?`] : []);
    }
    block.inputs.forEach((inp, i) => {
      const v = this.evalExpr((pos[i] as Arg).value, ctx, null);
      if (v.k !== 'tensor' && v.k !== 'err') { bad = true; this.error('type', `block '${block.name}' input '${inp.name}' must be a tensor, got ${describe(v)}`, (pos[i] as Arg).span); }
      if (v.k === 'err') bad = true;
      scope.define(inp.name, v);
    });
    if (bad) return ERR;
    const r = this.runBody(block.body, inner);
    if (!r) return this.error('decl', `block '${block.name}' ends without 'return'`, block.span);
    if (r.vals.length !== 1) return this.error('type', `block '${block.name}' returns ${r.vals.length} values; a call yields one`, r.span);
    return r.vals[0] as Val;
  }
}
