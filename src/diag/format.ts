// Formats diagnostics the way compilers do: `file:line:col: error: message`, the source line
// with a gutter, and a caret under the span (`^~~~` for longer spans). Pure: the caller
// supplies the source text per file; a missing source prints the header line only.

import type { Diagnostic } from './diagnostic.ts';

export function formatDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>): string {
  const { file, line, col, length } = d.span;
  const head = `${file}:${line}:${col}: ${d.severity}: ${d.message}`;
  const text = sources.get(file);
  const out = [head];
  const srcLine = text?.split(/\r?\n/)[line - 1];
  if (srcLine !== undefined) {
    const gutter = String(line).padStart(5);
    const pad = ' '.repeat(gutter.length);
    // Tabs keep their width in the caret line so the caret stays under the right character.
    const lead = srcLine.slice(0, Math.max(0, col - 1)).replace(/[^\t]/g, ' ');
    const width = Math.max(1, Math.min(length, Math.max(1, srcLine.length - col + 1)));
    out.push(`${gutter} | ${srcLine}`);
    out.push(`${pad} | ${lead}^${'~'.repeat(width - 1)}`);
  }
  for (const n of d.notes) out.push(`  note: ${n}`);
  return out.join('\n');
}

export function formatDiagnostics(ds: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  return ds.map((d) => formatDiagnostic(d, sources)).join('\n');
}
