// Diagnostics: user-facing problems as data with a source span. Front-ends collect them in
// arrays and keep going, so one run reports every error it can find. Lines and columns are
// 1-based; `length` is the number of source characters to underline (at least 1).

export type Severity = 'error' | 'warning' | 'note';

export interface Span {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly length: number;
}

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable machine-readable code, e.g. 'syntax', 'unknown-name', 'shape'. */
  readonly code: string;
  readonly message: string;
  readonly span: Span;
  readonly notes: readonly string[];
}

export function diag(code: string, message: string, span: Span, notes: readonly string[] = [], severity: Severity = 'error'): Diagnostic {
  return { severity, code, message, span, notes };
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Thrown only at the boundary (CLI, loaders) to carry already-formatted diagnostics. */
export class DiagnosticsError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[], formatted: string) {
    super(formatted);
    this.name = 'DiagnosticsError';
  }
}
