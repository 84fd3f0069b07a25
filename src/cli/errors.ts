// Exit codes and the mapping from errors to them. A user mistake prints one clear line; only
// an internal error (a bug) shows a stack trace, and only with ANYBIT_DEBUG=1.

export const EXIT = {
  ok: 0,
  /** Bad input: model, shapes, files, bundle. */
  userError: 1,
  /** Bad command line. */
  usage: 2,
  /** No WebGPU adapter. */
  noGpu: 3,
  /** A bug in anybit. */
  internal: 70,
} as const;

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

const USER_ERRORS = new Set(['UserError', 'IrError', 'BindError', 'CompileError', 'NpyError', 'BundleError', 'InputError', 'GraphTextError', 'LoweringError', 'OnnxImportError', 'OnnxExportError', 'DiagnosticsError', 'WeightsError', 'PngError']);

export function exitCodeFor(e: unknown): number {
  const name = (e as Error | undefined)?.name ?? '';
  if (name === 'NoAdapterError') return EXIT.noGpu;
  if (name === 'CommanderError') return EXIT.usage;
  return USER_ERRORS.has(name) ? EXIT.userError : EXIT.internal;
}

export function formatError(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = exitCodeFor(err);
  // Source diagnostics are already formatted (file:line:col: error: ... with a caret line).
  if (err.name === 'DiagnosticsError') return err.message;
  if (code === EXIT.internal) {
    const detail = process.env.ANYBIT_DEBUG === '1' ? `\n${err.stack ?? ''}` : ' (set ANYBIT_DEBUG=1 for a stack trace)';
    return `anybit: internal error: ${err.message}${detail}`;
  }
  return `anybit: error: ${err.message}`;
}
