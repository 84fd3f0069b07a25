// Loading a .abit program with its imports, and the front-end's entry points. Imports resolve
// relative to the importing file, are read once (diamonds are fine), and cycles are errors.
// `compileAbit` returns diagnostics as data; `loadAbitModel` throws one DiagnosticsError whose
// message is the formatted report (for the CLI).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diag, DiagnosticsError, type Diagnostic } from '../src/diag/diagnostic.ts';
import { formatDiagnostics } from '../src/diag/format.ts';
import type { Callable, Program } from './ast.ts';
import { parseAbit } from './parse.ts';
import { Elaborator, type Elaborated, type ElaborateOptions } from './to-ir.ts';

export type ReadFile = (file: string) => string;

export interface LoadedProgram {
  readonly items: readonly Callable[];
  /** The entry file's own items (models are only taken from it). */
  readonly entry: Program | null;
  readonly sources: Map<string, string>;
  readonly diagnostics: Diagnostic[];
}

const defaultRead: ReadFile = (f) => readFileSync(f, 'utf8');

export function loadProgram(file: string, text: string, read: ReadFile = defaultRead): LoadedProgram {
  const sources = new Map<string, string>([[file, text]]);
  const diagnostics: Diagnostic[] = [];
  const items: Callable[] = [];
  const seen = new Set<string>();
  const owner = new Map<string, string>();
  const visit = (f: string, src: string, stack: string[]): Program | null => {
    seen.add(f);
    const r = parseAbit(src, f);
    diagnostics.push(...r.diagnostics);
    if (!r.program) return null;
    for (const imp of r.program.imports) {
      const target = path.join(path.dirname(f), imp.path);
      if (stack.includes(target)) { diagnostics.push(diag('import', `import cycle: ${[...stack, target].map((s) => path.basename(s)).join(' -> ')}`, imp.span)); continue; }
      if (seen.has(target)) continue;
      let t: string;
      try {
        t = read(target);
      } catch (e) {
        diagnostics.push(diag('import', `cannot read imported file '${imp.path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, imp.span));
        continue;
      }
      sources.set(target, t);
      visit(target, t, [...stack, target]);
    }
    for (const it of r.program.items) {
      const prev = owner.get(it.name);
      if (prev !== undefined) diagnostics.push(diag('decl', `'${it.name}' is already defined in ${prev}`, it.span));
      else { owner.set(it.name, `${it.span.file}:${it.span.line}`); items.push(it); }
    }
    return r.program;
  };
  const entry = visit(file, text, [file]);
  return { items, entry, sources, diagnostics };
}

export interface CompiledAbit extends Elaborated {
  readonly sources: ReadonlyMap<string, string>;
}

export function compileAbit(file: string, text: string, opts: ElaborateOptions & { read?: ReadFile } = {}): CompiledAbit {
  const p = loadProgram(file, text, opts.read);
  const none = { graph: null, annotations: new Map(), sources: p.sources };
  if (p.diagnostics.length || !p.entry) return { ...none, diagnostics: p.diagnostics };
  const models = p.entry.items.filter((i) => i.k === 'model');
  const model = opts.model !== undefined ? models.find((m) => m.name === opts.model) : models.length === 1 ? models[0] : undefined;
  if (!model) {
    const what = opts.model !== undefined ? `no model named '${opts.model}'` : models.length ? `${models.length} models; choose one` : 'no model';
    return { ...none, diagnostics: [diag('decl', `${file} defines ${what} (models: ${models.map((m) => m.name).join(', ') || 'none'})`, { file, line: 1, col: 1, length: 1 })] };
  }
  const r = new Elaborator(p.items, model, opts).run();
  return { ...r, sources: p.sources };
}

export function formatCompiled(c: CompiledAbit): string {
  return formatDiagnostics(c.diagnostics, c.sources);
}

/** For the CLI: the graph, or a DiagnosticsError carrying every formatted diagnostic. */
export function loadAbitModel(file: string, opts: ElaborateOptions = {}): Elaborated & { graph: NonNullable<Elaborated['graph']> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DiagnosticsError([], `cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const c = compileAbit(file, text, opts);
  if (!c.graph) {
    const n = c.diagnostics.length;
    throw new DiagnosticsError(c.diagnostics, `${formatCompiled(c)}\n${n} error${n === 1 ? '' : 's'} in ${file}`);
  }
  return { ...c, graph: c.graph };
}
