// Writes docs/ops.md (`npx tsx scripts/gen-ops-doc.ts`) from OP_TABLE and ONNX_OPS; the drift
// check is test/unit/ops-doc.test.ts. An importer's IR ops are the op strings passed to emit() in
// its syntax tree and the same module's functions it calls (factory params bound at call sites),
// so branches taken only for some attributes are listed too; other modules are not followed.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { OP_TABLE } from '../src/ir/op-table.ts';
import type { AttrSpec } from '../src/ir/op-def.ts';
import { ONNX_OPS } from '../src/onnx/op-table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OPS_DOC_PATH = `${ROOT}docs/ops.md`;
const ONNX_TABLE_SRC = `${ROOT}src/onnx/op-table.ts`;
export const REGENERATE = 'npx tsx scripts/gen-ops-doc.ts';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function attrText(name: string, a: AttrSpec): string {
  const d = a.default;
  const shown = d === undefined ? '' : Array.isArray(d) ? ` = [${d.join(', ')}]` : typeof d === 'string' ? ` = '${d}'` : ` = ${String(d)}`;
  return `\`${name}\`: ${a.kind}${shown}`;
}

/** ONNX op -> IR ops its importer may emit, found in the importer's syntax tree. */
export function onnxToIr(source = readFileSync(ONNX_TABLE_SRC, 'utf8')): Map<string, string[]> {
  const sf = ts.createSourceFile('op-table.ts', source, ts.ScriptTarget.ES2022, true);
  const functions = new Map<string, ts.Node>();
  const records = new Map<string, Map<string, string>>();
  let table: ts.ArrayLiteralExpression | undefined;
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name) functions.set(st.name.text, st);
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || !d.initializer) continue;
      const init = d.initializer;
      if (ts.isObjectLiteralExpression(init)) {
        const m = new Map<string, string>();
        for (const p of init.properties) if (ts.isPropertyAssignment(p) && ts.isStringLiteral(p.initializer)) m.set(p.name.getText(sf), p.initializer.text);
        records.set(d.name.text, m);
      } else if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) functions.set(d.name.text, init);
      else if (d.name.text === 'ONNX_OPS' && ts.isNewExpression(init) && init.arguments?.[0] && ts.isArrayLiteralExpression(init.arguments[0])) table = init.arguments[0];
    }
  }
  if (!table) throw new Error(`gen-ops-doc: no 'ONNX_OPS = new Map([...])' in ${ONNX_TABLE_SRC}`);
  /** IR ops passed to emit/emitMulti under `root`; `env` binds names to op strings (factory params). */
  const irOpsIn = (root: ts.Node, env: ReadonlyMap<string, string>, depth = 0): Set<string> => {
    const out = new Set<string>();
    const opOf = (e: ts.Expression | undefined): string | undefined =>
      !e ? undefined : ts.isStringLiteralLike(e) ? e.text : ts.isIdentifier(e) ? env.get(e.text) : undefined;
    const walk = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) {
        const callee = n.expression;
        if (ts.isPropertyAccessExpression(callee) && (callee.name.text === 'emit' || callee.name.text === 'emitMulti')) {
          const op = opOf(n.arguments[0]);
          if (op && OP_TABLE.has(op)) out.add(op);
        }
        const fn = ts.isIdentifier(callee) ? functions.get(callee.text) : undefined;
        if (fn && depth < 8 && (ts.isFunctionDeclaration(fn) || ts.isArrowFunction(fn) || ts.isFunctionExpression(fn))) {
          // Bind the callee's parameters to the op strings passed here (pool('max_pool2d')).
          const inner = new Map(env);
          fn.parameters.forEach((p, i) => {
            const v = opOf(n.arguments[i]);
            if (ts.isIdentifier(p.name) && v !== undefined) inner.set(p.name.text, v);
          });
          irOpsIn(fn, inner, depth + 1).forEach((o) => out.add(o));
        }
      }
      if (ts.isIdentifier(n) && !ts.isCallExpression(n.parent) && functions.has(n.text) && !ts.isPropertyAccessExpression(n.parent) && depth < 8) {
        // An importer passed by name (['Conv', conv]).
        irOpsIn(functions.get(n.text) as ts.Node, env, depth + 1).forEach((o) => out.add(o));
      }
      ts.forEachChild(n, walk);
    };
    walk(root);
    return out;
  };
  const result = new Map<string, string[]>();
  for (const el of table.elements) {
    if (ts.isArrayLiteralExpression(el) && el.elements[0] && ts.isStringLiteral(el.elements[0]) && el.elements[1]) {
      result.set(el.elements[0].text, [...irOpsIn(el.elements[1], new Map())].sort());
    } else if (ts.isSpreadElement(el)) {
      // ...Object.entries(RECORD).map(([k, op]) => [k, importer(op)]): one row per record entry,
      // with the arrow's second parameter bound to the entry's op.
      const rec = [...records.keys()].find((r) => el.getText(sf).includes(`Object.entries(${r})`));
      let param: string | undefined;
      const findArrow = (n: ts.Node): void => {
        if (!param && ts.isArrowFunction(n) && n.parameters[0] && ts.isArrayBindingPattern(n.parameters[0].name)) {
          const b = n.parameters[0].name.elements[1];
          if (b && ts.isBindingElement(b) && ts.isIdentifier(b.name)) param = b.name.text;
        }
        ts.forEachChild(n, findArrow);
      };
      findArrow(el);
      for (const [k, op] of records.get(rec ?? '') ?? []) result.set(k, [...irOpsIn(el, new Map(param ? [[param, op]] : []))].sort());
    }
  }
  return result;
}

export function renderOpsDoc(): string {
  const lines: string[] = [
    `<!-- Generated by \`${REGENERATE}\` from src/ir/op-table.ts and src/onnx/op-table.ts; do not edit. -->`,
    '',
    '# Supported ops',
    '',
    `## IR ops (${OP_TABLE.size})`,
    '',
    'Every op the compiler knows, from `OP_TABLE` (src/ir/op-table.ts). Inputs give the accepted count.',
    '',
    '| op | category | inputs | attributes (kind = default) | semantics |',
    '|---|---|---|---|---|',
  ];
  const ops = [...OP_TABLE.values()].sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name));
  for (const d of ops) {
    const ins = d.inputs.min === d.inputs.max ? `${d.inputs.min}` : `${d.inputs.min}–${d.inputs.max}`;
    const attrs = Object.entries(d.attrs).map(([k, a]) => attrText(k, a)).join('; ') || '—';
    lines.push(`| \`${d.name}\` | ${d.category} | ${ins} | ${cell(attrs)} | ${cell(d.doc)} |`);
  }
  const matrix = onnxToIr();
  const missing = [...ONNX_OPS.keys()].filter((k) => !matrix.has(k));
  if (missing.length) throw new Error(`gen-ops-doc: could not find the importer entries of ${missing.join(', ')} in ${ONNX_TABLE_SRC}`);
  lines.push(
    '',
    `## ONNX import (${ONNX_OPS.size} ops, default domain)`,
    '',
    'From `ONNX_OPS` (src/onnx/op-table.ts). IR ops are those the importer may emit; "—" means the',
    'op becomes an alias or a constant (folded at import). Constant-only nodes of any op are folded first.',
    'The list is found statically, so it over-approximates: Pow with exponent 2 or 0.5 imports as',
    '`mul` or `sqrt`, and the other binary ops sharing its importer list those too.',
    '',
    '| ONNX op | IR op(s) |',
    '|---|---|',
  );
  for (const k of [...ONNX_OPS.keys()].sort()) {
    const ir = matrix.get(k) ?? [];
    lines.push(`| ${k} | ${ir.length ? ir.map((o) => `\`${o}\``).join(', ') : '—'} |`);
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OPS_DOC_PATH, renderOpsDoc());
  console.log(`wrote ${OPS_DOC_PATH}`);
}
