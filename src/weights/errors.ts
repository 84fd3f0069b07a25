// The one error type of checkpoint loading: a corrupted or unsupported file gives a single
// clear line (USER_ERRORS in src/cli/errors.ts lists it), never a stack trace.

export class WeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsError';
  }
}
