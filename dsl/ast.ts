// The .abit abstract syntax tree: what the parser's CST means, with source spans. Produced by
// cst-to-ast.ts, printed back by printer.ts, lowered by to-ir.ts. Spans are ignored when two
// trees are compared (see `stripSpans`); everything else round-trips through the printer.

import type { Span } from '../src/diag/diagnostic.ts';

export type BinOp = '+' | '-' | '*' | '/' | '//';

export type Expr =
  | { readonly k: 'int'; readonly v: number; readonly span: Span }
  | { readonly k: 'float'; readonly v: number; readonly text: string; readonly span: Span }
  | { readonly k: 'str'; readonly v: string; readonly span: Span }
  | { readonly k: 'bool'; readonly v: boolean; readonly span: Span }
  | { readonly k: 'list'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly k: 'name'; readonly name: string; readonly span: Span }
  | { readonly k: 'call'; readonly callee: string; readonly args: readonly Arg[]; readonly as: NamePattern | null; readonly span: Span }
  | { readonly k: 'bin'; readonly op: BinOp; readonly l: Expr; readonly r: Expr; readonly span: Span }
  | { readonly k: 'neg'; readonly e: Expr; readonly span: Span };

export interface Arg { readonly name: string | null; readonly value: Expr; readonly span: Span }

export type NamePiece = { readonly k: 'text'; readonly v: string } | { readonly k: 'expr'; readonly e: Expr };
export interface NamePattern { readonly pieces: readonly NamePiece[]; readonly span: Span }

export interface Annotation { readonly name: string; readonly args: readonly Arg[]; readonly span: Span }

export type Stmt =
  | { readonly k: 'let'; readonly name: string; readonly value: Expr; readonly annots: readonly Annotation[]; readonly span: Span }
  | { readonly k: 'assign'; readonly name: string; readonly value: Expr; readonly annots: readonly Annotation[]; readonly span: Span }
  | { readonly k: 'param'; readonly name: string; readonly dtype: string | null; readonly shape: Expr; readonly annots: readonly Annotation[]; readonly span: Span }
  | { readonly k: 'repeat'; readonly v: string; readonly from: Expr; readonly to: Expr; readonly body: readonly Stmt[]; readonly annots: readonly Annotation[]; readonly span: Span }
  | { readonly k: 'return'; readonly values: readonly Expr[]; readonly annots: readonly Annotation[]; readonly span: Span };

export interface TypeExpr { readonly dtype: string; readonly dims: Expr; readonly span: Span }

/** A parameter (`c = 16`, default optional) or an input (`x: f32[N, 3, H, W]`). */
export interface DeclItem { readonly name: string; readonly type: TypeExpr | null; readonly dflt: Expr | null; readonly span: Span }

export interface Callable {
  readonly k: 'model' | 'block';
  readonly name: string;
  /** The first parenthesised group when there are two, else null. */
  readonly params: readonly DeclItem[] | null;
  readonly inputs: readonly DeclItem[];
  readonly outputs: readonly string[] | null;
  readonly body: readonly Stmt[];
  readonly annots: readonly Annotation[];
  readonly span: Span;
}

export interface Import { readonly path: string; readonly span: Span }

export interface Program {
  readonly file: string;
  readonly imports: readonly Import[];
  readonly items: readonly Callable[];
}

/** A deep copy without spans (and float spellings), for structural comparison in tests. */
export function stripSpans(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(stripSpans);
  if (x && typeof x === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'span' && k !== 'text' && k !== 'file') o[k] = stripSpans(v);
    return o;
  }
  return x;
}
