// Weight pages: weights.bin is one blob, but a GPU buffer may hold at most maxBufferSize bytes
// (256 MiB is all WebGPU guarantees), so the runtime uploads it as consecutive pages, each a
// byte range of the blob no larger than the limit, cut only between tensors so every tensor a
// dispatch binds lies inside one page. Page starts are tensor offsets (256-byte aligned), so an
// offset inside a page stays a valid binding offset.

export interface WeightRange {
  readonly offset: number;
  readonly bytes: number;
}

export interface WeightPage {
  readonly start: number;
  readonly end: number;
}

/** Pages covering every range (one page when the whole blob fits); throws for a tensor over the limit. */
export function weightPages(ranges: readonly WeightRange[], totalBytes: number, maxBytes: number): WeightPage[] {
  if (totalBytes <= maxBytes) return [{ start: 0, end: totalBytes }];
  const sorted = [...ranges].sort((a, b) => a.offset - b.offset);
  const pages: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const end = r.offset + r.bytes;
    if (r.bytes > maxBytes) throw new RangeError(`a weight tensor of ${r.bytes} bytes is larger than this device's maxBufferSize (${maxBytes})`);
    const last = pages[pages.length - 1];
    if (last && end <= last.end) continue;
    if (last && end - last.start <= maxBytes) last.end = end;
    else pages.push({ start: r.offset, end });
  }
  return pages;
}

/** The page holding [offset, offset + bytes): the last page starting at or before it (pages are sorted by start). */
export function pageOf(pages: readonly WeightPage[], offset: number, bytes: number): number {
  let lo = 0;
  let hi = pages.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((pages[mid] as WeightPage).start <= offset) lo = mid;
    else hi = mid - 1;
  }
  const p = pages[lo];
  if (!p || offset < p.start || offset + bytes > p.end) throw new Error(`weights [${offset}, ${offset + bytes}) lie in no page`);
  return lo;
}
