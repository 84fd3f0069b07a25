// Greedy CTC decoding (PaddleOCR's CTCLabelDecode): per time step take the arg-max class, collapse
// repeats, drop the blank (class 0). Classes 1..n map to the dictionary's lines in order; PP-OCR
// appends one more class for ' ' (use_space_char), which `ctcDictionary` adds. No beam search.

/** PP-OCR dictionary file text (one character per line) -> class characters; index 0 is the blank. */
export function ctcDictionary(text: string, spaceChar = true): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ...(spaceChar ? [' '] : [])];
}

/** Arg-max class per step of probs[T * C] (row-major), first maximum on ties. */
export function argmaxPerStep(probs: ArrayLike<number>, T: number, C: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let c = 1; c < C; c++) if ((probs[t * C + c] as number) > (probs[t * C + best] as number)) best = c;
    out.push(best);
  }
  return out;
}

/** Collapses repeated classes and drops blanks (class 0): the decoded class sequence. */
export function ctcCollapse(classes: readonly number[]): number[] {
  const out: number[] = [];
  let prev = -1;
  for (const c of classes) {
    if (c !== prev && c !== 0) out.push(c);
    prev = c;
  }
  return out;
}

/** Greedy-decoded text of probs[T * C] with class characters `dict`. */
export function ctcGreedyDecode(probs: ArrayLike<number>, T: number, C: number, dict: readonly string[]): string {
  if (dict.length !== C) throw new RangeError(`CTC dictionary has ${dict.length} classes, the model outputs ${C}`);
  return ctcCollapse(argmaxPerStep(probs, T, C)).map((c) => dict[c] as string).join('');
}
