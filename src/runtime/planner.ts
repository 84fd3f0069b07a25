// Liveness-based buffer planner: assigns each activation (a value with a lifetime over the
// dispatch steps) to a reusable slot. A value is live from the step that writes it through
// the last step that reads it; a slot is reused only by values defined strictly after the
// previous tenant's last use, so no dispatch ever binds one slot for reading and writing.

export interface Lifetime {
  readonly name: string;
  readonly bytes: number;
  /** Step that writes it (-1 for graph inputs). */
  readonly def: number;
  /** Last step that reads it (Infinity for graph outputs). */
  readonly lastUse: number;
}

export interface BufferPlan {
  readonly slotOf: ReadonlyMap<string, number>;
  readonly slotBytes: readonly number[];
}

export function planBuffers(values: readonly Lifetime[]): BufferPlan {
  const order = [...values].sort((a, b) => a.def - b.def || b.bytes - a.bytes);
  const slotBytes: number[] = [];
  const busyUntil: number[] = [];
  const slotOf = new Map<string, number>();
  for (const v of order) {
    let best = -1;
    for (let s = 0; s < slotBytes.length; s++) {
      if ((busyUntil[s] as number) >= v.def) continue;
      if (best < 0) { best = s; continue; }
      const fits = (slotBytes[s] as number) >= v.bytes;
      const bestFits = (slotBytes[best] as number) >= v.bytes;
      // Prefer the smallest slot that fits; otherwise the largest one (it grows least).
      if (fits && (!bestFits || (slotBytes[s] as number) < (slotBytes[best] as number))) best = s;
      else if (!fits && !bestFits && (slotBytes[s] as number) > (slotBytes[best] as number)) best = s;
    }
    if (best < 0) {
      best = slotBytes.length;
      slotBytes.push(0);
      busyUntil.push(-Infinity);
    }
    slotBytes[best] = Math.max(slotBytes[best] as number, v.bytes);
    busyUntil[best] = v.lastUse;
    slotOf.set(v.name, best);
  }
  return { slotOf, slotBytes };
}
