// AST -> .abit source. Canonical layout (two-space indent, one statement per line, minimal
// parentheses from operator precedence), so parse(print(ast)) equals ast up to spans and
// print is a fixed point after one round. Comments are not part of the AST and are dropped.

import type { Annotation, Arg, Callable, DeclItem, Expr, NamePattern, Program, Stmt } from './ast.ts';

const PREC: Readonly<Record<string, number>> = { '+': 1, '-': 1, '*': 2, '/': 2, '//': 2 };

export function printExpr(e: Expr, minPrec = 0): string {
  switch (e.k) {
    case 'int': return String(e.v);
    case 'float': return printFloat(e.v);
    case 'str': return JSON.stringify(e.v);
    case 'bool': return e.v ? 'true' : 'false';
    case 'name': return e.name;
    case 'list': return `[${e.items.map((i) => printExpr(i)).join(', ')}]`;
    case 'neg': return `-${printExpr(e.e, 3)}`;
    case 'call': return `${e.callee}(${printArgs(e.args)})${e.as ? ` as ${printPattern(e.as)}` : ''}`;
    case 'bin': {
      const p = PREC[e.op] as number;
      // Left-associative: the right operand needs parentheses at equal precedence.
      // `//` is written glued to its right operand: `a //b` (a space after `//` starts a comment).
      const op = e.op === '//' ? ' //' : ` ${e.op} `;
      const s = `${printExpr(e.l, p)}${op}${printExpr(e.r, p + 1)}`;
      return p < minPrec ? `(${s})` : s;
    }
  }
}

/** Shortest decimal that reads back as the same double, always with a '.' or exponent. */
function printFloat(v: number): string {
  const s = String(v);
  if (/[.e]/.test(s)) return s.replace('e+', 'e');
  return `${s}.0`;
}

function printArgs(args: readonly Arg[]): string {
  return args.map((a) => (a.name ? `${a.name}=${printExpr(a.value)}` : printExpr(a.value))).join(', ');
}

function printPattern(p: NamePattern): string {
  return p.pieces.map((x) => (x.k === 'text' ? x.v : `{${printExpr(x.e)}}`)).join('');
}

function printAnnots(as: readonly Annotation[], indent: string): string {
  return as.map((a) => `${indent}@${a.name}${a.args.length ? `(${printArgs(a.args)})` : ''}\n`).join('');
}

function printDecl(d: DeclItem): string {
  const t = d.type ? `: ${d.type.dtype}${printExpr(d.type.dims)}` : '';
  return `${d.name}${t}${d.dflt ? ` = ${printExpr(d.dflt)}` : ''}`;
}

function printStmts(ss: readonly Stmt[], indent: string): string {
  return ss.map((s) => printStmt(s, indent)).join('');
}

function printStmt(s: Stmt, indent: string): string {
  const a = printAnnots(s.annots, indent);
  switch (s.k) {
    case 'let': return `${a}${indent}let ${s.name} = ${printExpr(s.value)}\n`;
    case 'assign': return `${a}${indent}${s.name} = ${printExpr(s.value)}\n`;
    case 'param': return `${a}${indent}param ${s.name}: ${s.dtype ? `${s.dtype} ` : ''}${printExpr(s.shape)}\n`;
    case 'return': return `${a}${indent}return ${s.values.map((v) => printExpr(v)).join(', ')}\n`;
    case 'repeat':
      return `${a}${indent}repeat ${s.v} in ${printExpr(s.from)}..${printExpr(s.to)} {\n${printStmts(s.body, `${indent}  `)}${indent}}\n`;
  }
}

function printCallable(c: Callable): string {
  const groups = `${c.params ? `(${c.params.map(printDecl).join(', ')})` : ''}(${c.inputs.map(printDecl).join(', ')})`;
  const outs = c.outputs ? ` -> (${c.outputs.join(', ')})` : '';
  return `${printAnnots(c.annots, '')}${c.k} ${c.name}${groups}${outs} {\n${printStmts(c.body, '  ')}}\n`;
}

export function printProgram(p: Program): string {
  const imports = p.imports.map((i) => `import ${JSON.stringify(i.path)}\n`).join('');
  const items = p.items.map(printCallable).join('\n');
  return imports && items ? `${imports}\n${items}` : imports + items;
}
