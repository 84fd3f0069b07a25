// Shapes with symbolic dimensions. A dim is a non-negative integer or a name bound at compile
// time (`bindShape`). Broadcasting follows NumPy/ONNX rules. Symbolic arithmetic is not
// supported: an expression of dims must be bound before it is computed.

export type Dim = number | string;
export type Shape = readonly Dim[];
export type DimEnv = ReadonlyMap<string, number>;

export function isConcrete(s: Shape): s is readonly number[] {
  return s.every((d) => typeof d === 'number');
}

export function numel(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

export function shapeToString(s: Shape): string {
  return `[${s.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Replaces bound names by their sizes; unbound names stay symbolic. */
export function bindShape(s: Shape, env: DimEnv): Shape {
  return s.map((d) => (typeof d === 'string' && env.has(d) ? (env.get(d) as number) : d));
}

/** Broadcast result of two shapes, or an error message. Symbolic dims must match by name. */
export function broadcastShapes(a: Shape, b: Shape): Shape | string {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : (a[i - (rank - a.length)] as Dim);
    const db = i < rank - b.length ? 1 : (b[i - (rank - b.length)] as Dim);
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return `shapes ${shapeToString(a)} and ${shapeToString(b)} do not broadcast (dim ${i}: ${da} vs ${db})`;
  }
  return out;
}

/** Row-major strides for a concrete shape. */
export function stridesOf(s: readonly number[]): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i] as number;
  }
  return st;
}

/** Strides of `s` read as if broadcast to `to` (0 on broadcast dims). */
export function broadcastStrides(s: readonly number[], to: readonly number[]): number[] {
  const own = stridesOf(s);
  const off = to.length - s.length;
  return to.map((_, i) => {
    const j = i - off;
    return j < 0 || s[j] === 1 ? 0 : (own[j] as number);
  });
}
