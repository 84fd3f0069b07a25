// onnxruntime-node as an optional peer: loaded on demand, so the suite still runs (our rows
// only) where its native library is missing or does not load, e.g. a device pack without it.
// Does not decide what a missing peer means for a row; callers skip what needs the reference.

export type Ort = typeof import('onnxruntime-node');

/** The module, or the one-line reason it is unavailable. */
export async function loadOrt(): Promise<{ ort: Ort; error: null } | { ort: null; error: string }> {
  try {
    return { ort: (await import('onnxruntime-node')) as Ort, error: null };
  } catch (e) {
    return { ort: null, error: `onnxruntime-node unavailable: ${(e as Error).message.split('\n')[0]}` };
  }
}
