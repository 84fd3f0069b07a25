// The CST visitor: turns chevrotain's concrete syntax tree into the typed AST of ast.ts. It
// runs only on trees without syntax errors (recovered trees may lack children), so a missing
// child here is a bug and throws naming the rule. Child keys are checked against the grammar
// by tsc through the generated CstChildKey (dsl/cst-types.generated.ts).

import type { CstElement, CstNode, IToken } from 'chevrotain';
import type { Span } from '../src/diag/diagnostic.ts';
import type { CstChildKey } from './cst-types.generated.ts';
import type { Annotation, Arg, BinOp, Callable, DeclItem, Expr, Import, NamePattern, NamePiece, Program, Stmt, TypeExpr } from './ast.ts';

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

export class CstToAst {
  constructor(readonly file: string) {}

  private span(n: CstNode | IToken): Span {
    if (isToken(n)) return { file: this.file, line: n.startLine ?? 1, col: n.startColumn ?? 1, length: n.image.length };
    const l = n.location;
    if (!l) throw new Error(`cst-to-ast: rule '${n.name}' has no location`);
    return { file: this.file, line: l.startLine ?? 1, col: l.startColumn ?? 1, length: Math.max(1, (l.endOffset ?? l.startOffset) - l.startOffset + 1) };
  }

  private nodes(n: CstNode, key: CstChildKey): CstNode[] {
    return (n.children[key] ?? []).filter((e): e is CstNode => !isToken(e));
  }

  private node(n: CstNode, key: CstChildKey, i = 0): CstNode {
    const c = this.nodes(n, key)[i];
    if (!c) throw new Error(`cst-to-ast: rule '${n.name}' lacks '${key}'[${i}]`);
    return c;
  }

  private tokens(n: CstNode, ...keys: CstChildKey[]): IToken[] {
    const all = keys.flatMap((k) => (n.children[k] ?? []).filter(isToken));
    return all.sort((a, b) => a.startOffset - b.startOffset);
  }

  private tok(n: CstNode, key: CstChildKey, i = 0): IToken {
    const t = this.tokens(n, key)[i];
    if (!t) throw new Error(`cst-to-ast: rule '${n.name}' lacks token '${key}'[${i}]`);
    return t;
  }

  program(n: CstNode): Program {
    const imports: Import[] = [];
    const items: Callable[] = [];
    for (const item of this.nodes(n, 'topItem')) {
      const imp = this.nodes(item, 'importDecl')[0];
      if (imp) {
        imports.push({ path: unquote(this.tok(imp, 'StringLit').image), span: this.span(imp) });
        continue;
      }
      const annots = this.nodes(item, 'annotation').map((a) => this.annotation(a));
      const m = this.nodes(item, 'modelDecl')[0];
      const b = this.nodes(item, 'blockDecl')[0];
      const decl = m ?? b;
      if (!decl) throw new Error('cst-to-ast: topItem without a declaration');
      items.push(this.callable(decl, m ? 'model' : 'block', annots));
    }
    return { file: this.file, imports, items };
  }

  private callable(n: CstNode, k: 'model' | 'block', annots: Annotation[]): Callable {
    const idents = this.tokens(n, 'Ident');
    const groups = this.nodes(n, 'declGroup').map((g) => this.nodes(g, 'declItem').map((d) => this.declItem(d)));
    const two = groups.length === 2;
    return {
      k, name: (idents[0] as IToken).image,
      params: two ? (groups[0] as DeclItem[]) : null,
      inputs: (two ? groups[1] : groups[0]) ?? [],
      outputs: k === 'model' && this.tokens(n, 'Arrow').length ? idents.slice(1).map((t) => t.image) : null,
      body: this.body(this.node(n, 'body')),
      annots, span: this.span(this.tok(n, 'Ident')),
    };
  }

  private declItem(n: CstNode): DeclItem {
    const t = this.nodes(n, 'typeExpr')[0];
    const d = this.nodes(n, 'expr')[0];
    return { name: this.tok(n, 'Ident').image, type: t ? this.typeExpr(t) : null, dflt: d ? this.expr(d) : null, span: this.span(n) };
  }

  private typeExpr(n: CstNode): TypeExpr {
    return { dtype: this.tok(n, 'Ident').image, dims: this.list(this.node(n, 'listExpr')), span: this.span(n) };
  }

  private body(n: CstNode): Stmt[] {
    return this.nodes(n, 'statement').map((s) => this.statement(s));
  }

  private statement(n: CstNode): Stmt {
    const annots = this.nodes(n, 'annotation').map((a) => this.annotation(a));
    const [kind] = Object.keys(n.children).filter((k) => k !== 'annotation');
    const s = this.node(n, (kind ?? '?') as CstChildKey);
    const span = this.span(s);
    switch (kind) {
      case 'letStmt':
      case 'assignStmt':
        return { k: kind === 'letStmt' ? 'let' : 'assign', name: this.tok(s, 'Ident').image, value: this.expr(this.node(s, 'expr')), annots, span };
      case 'paramStmt': {
        const ids = this.tokens(s, 'Ident');
        return { k: 'param', name: (ids[0] as IToken).image, dtype: ids[1]?.image ?? null, shape: this.list(this.node(s, 'listExpr')), annots, span };
      }
      case 'repeatStmt':
        return {
          k: 'repeat', v: this.tok(s, 'Ident').image, from: this.expr(this.node(s, 'expr', 0)), to: this.expr(this.node(s, 'expr', 1)),
          body: this.body(this.node(s, 'body')), annots, span,
        };
      case 'returnStmt':
        return { k: 'return', values: this.nodes(s, 'expr').map((e) => this.expr(e)), annots, span };
      default:
        throw new Error(`cst-to-ast: unknown statement kind '${String(kind)}'`);
    }
  }

  private annotation(n: CstNode): Annotation {
    const a = this.nodes(n, 'argList')[0];
    return { name: this.tok(n, 'Ident').image, args: a ? this.args(a) : [], span: this.span(n) };
  }

  private args(n: CstNode): Arg[] {
    return this.nodes(n, 'arg').map((a) => ({ name: this.tokens(a, 'Ident')[0]?.image ?? null, value: this.expr(this.node(a, 'expr')), span: this.span(a) }));
  }

  expr(n: CstNode): Expr {
    const operands = this.nodes(n, 'mulExpr').map((m) => this.mulExpr(m));
    const ops = this.tokens(n, 'Plus', 'Minus');
    return this.fold(operands, ops);
  }

  private mulExpr(n: CstNode): Expr {
    const operands = this.nodes(n, 'unaryExpr').map((u) => this.unary(u));
    return this.fold(operands, this.tokens(n, 'Star', 'FloorDiv', 'Slash'));
  }

  private fold(operands: Expr[], ops: IToken[]): Expr {
    let acc = operands[0];
    if (!acc) throw new Error('cst-to-ast: expression without operands');
    ops.forEach((op, i) => {
      const r = operands[i + 1] as Expr;
      const l = acc as Expr;
      const length = r.span.line === l.span.line ? r.span.col + r.span.length - l.span.col : l.span.length;
      acc = { k: 'bin', op: op.image as BinOp, l, r, span: { ...l.span, length } };
    });
    return acc;
  }

  private unary(n: CstNode): Expr {
    const inner = this.nodes(n, 'unaryExpr')[0];
    if (inner) return { k: 'neg', e: this.unary(inner), span: this.span(n) };
    return this.primary(this.node(n, 'primary'));
  }

  private primary(n: CstNode): Expr {
    const span = this.span(n);
    const c = n.children;
    if (c.Float) { const t = this.tok(n, 'Float'); return { k: 'float', v: Number(t.image), text: t.image, span }; }
    if (c.Int) return { k: 'int', v: Number(this.tok(n, 'Int').image), span };
    if (c.StringLit) return { k: 'str', v: unquote(this.tok(n, 'StringLit').image), span };
    if (c.True) return { k: 'bool', v: true, span };
    if (c.False) return { k: 'bool', v: false, span };
    if (c.listExpr) return this.list(this.node(n, 'listExpr'));
    if (c.expr) return this.expr(this.node(n, 'expr'));
    const call = this.node(n, 'callOrName');
    const name = this.tok(call, 'Ident').image;
    const args = this.nodes(call, 'argList')[0];
    if (!args) return { k: 'name', name, span };
    const pat = this.nodes(call, 'namePattern')[0];
    return { k: 'call', callee: name, args: this.args(args), as: pat ? this.namePattern(pat) : null, span: this.span(this.tok(call, 'Ident')) };
  }

  private list(n: CstNode): Expr {
    return { k: 'list', items: this.nodes(n, 'expr').map((e) => this.expr(e)), span: this.span(n) };
  }

  private namePattern(n: CstNode): NamePattern {
    const pieces: NamePiece[] = this.nodes(n, 'namePiece').map((p) => {
      const e = this.nodes(p, 'expr')[0];
      if (e) return { k: 'expr', e: this.expr(e) };
      const t = this.tokens(p, 'Ident', 'Int', 'Dot')[0];
      return { k: 'text', v: t?.image ?? '' };
    });
    // Adjacent text pieces merge so `a.0` and `a` `.` `0` are one piece either way.
    const merged: NamePiece[] = [];
    for (const p of pieces) {
      const last = merged[merged.length - 1];
      if (p.k === 'text' && last?.k === 'text') merged[merged.length - 1] = { k: 'text', v: last.v + p.v };
      else merged.push(p);
    }
    return { pieces: merged, span: this.span(n) };
  }
}

export function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}
