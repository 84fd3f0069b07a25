// Per-dispatch profiles of a bundle's run: each dispatch in its own compute pass with
// timestamp-query (GPU time), or, without timestamps, its own submission timed on the wall
// clock; plus the aggregation and text tables the CLI and scripts print (pure). Times include
// what the driver does at a dispatch: lavapipe compiles a kernel's LLVM code at its first
// dispatch, so a first profiled run shows compile time (scripts/first-run-breakdown.ts uses that).

export interface ProfiledStep {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

export interface DispatchProfile {
  /** Position in the bundle's dispatch list. */
  readonly index: number;
  readonly kernel: string;
  readonly template: string;
  readonly nodes: readonly string[];
  readonly workgroups: readonly [number, number, number];
  readonly ms: number;
}

export interface ProfileResult {
  readonly outputs: Map<string, Float32Array>;
  readonly dispatches: readonly DispatchProfile[];
  /** 'timestamp': GPU time of each dispatch's pass; 'wall': each dispatch submitted and awaited alone. */
  readonly timing: 'timestamp' | 'wall';
  readonly wallMs: number;
}

/** WebGPU caps a query set at 4096 queries: 2048 dispatches (begin, end) per set. */
const QUERIES_PER_SET = 4096;

function encodePass(enc: GPUCommandEncoder, s: ProfiledStep, timestampWrites?: GPUComputePassTimestampWrites): void {
  const pass = enc.beginComputePass(timestampWrites ? { timestampWrites } : {});
  pass.setPipeline(s.pipeline);
  pass.setBindGroup(0, s.bindGroup);
  pass.dispatchWorkgroups(s.workgroups[0], s.workgroups[1], s.workgroups[2]);
  pass.end();
}

/**
 * Records every step in its own timestamped pass and the resolves; returns a function that,
 * after the submission, reads the per-step GPU times (ms). The query sets are freed after reading.
 */
export function encodeTimedPasses(device: GPUDevice, enc: GPUCommandEncoder, steps: readonly ProfiledStep[]): () => Promise<number[]> {
  const sets: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer; count: number }[] = [];
  for (let first = 0; first < steps.length * 2; first += QUERIES_PER_SET) {
    const count = Math.min(QUERIES_PER_SET, steps.length * 2 - first);
    sets.push({
      set: device.createQuerySet({ type: 'timestamp', count }),
      resolve: device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      read: device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      count,
    });
  }
  steps.forEach((s, i) => {
    const q = sets[Math.floor((2 * i) / QUERIES_PER_SET)] as (typeof sets)[number];
    const at = (2 * i) % QUERIES_PER_SET;
    encodePass(enc, s, { querySet: q.set, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 });
  });
  for (const q of sets) {
    enc.resolveQuerySet(q.set, 0, q.count, q.resolve, 0);
    enc.copyBufferToBuffer(q.resolve, 0, q.read, 0, q.count * 8);
  }
  return async () => {
    const ms: number[] = [];
    try {
      for (const q of sets) {
        await q.read.mapAsync(GPUMapMode.READ);
        const t = new BigUint64Array(q.read.getMappedRange().slice(0));
        q.read.unmap();
        // An end before its begin (a counter reset) reads as 0, never negative.
        for (let j = 0; j + 1 < q.count; j += 2) ms.push(Math.max(0, Number((t[j + 1] as bigint) - (t[j] as bigint)) / 1e6));
      }
      return ms;
    } finally {
      for (const q of sets) {
        q.set.destroy();
        q.resolve.destroy();
        q.read.destroy();
      }
    }
  };
}

/** Submits each step alone and waits for it: wall time per dispatch, for devices without timestamps. */
export async function wallTimedSteps(device: GPUDevice, steps: readonly ProfiledStep[]): Promise<number[]> {
  const ms: number[] = [];
  for (const s of steps) {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    encodePass(enc, s);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    ms.push(performance.now() - t0);
  }
  return ms;
}

export interface ProfileGroup {
  readonly key: string;
  readonly count: number;
  readonly ms: number;
}

/** Sums dispatch times by a key (template, op, kernel), largest total first. */
export function aggregateProfile(dispatches: readonly DispatchProfile[], keyOf: (d: DispatchProfile) => string): ProfileGroup[] {
  const groups = new Map<string, { count: number; ms: number }>();
  for (const d of dispatches) {
    const k = keyOf(d);
    const g = groups.get(k) ?? { count: 0, ms: 0 };
    g.count++;
    g.ms += d.ms;
    groups.set(k, g);
  }
  return [...groups].map(([key, g]) => ({ key, ...g })).sort((a, b) => b.ms - a.ms);
}

const pct = (ms: number, total: number): string => `${total > 0 ? ((100 * ms) / total).toFixed(1) : '0.0'}%`;

/** The `top` slowest dispatches as an aligned text table (with the total over all of them). */
export function formatDispatchTable(dispatches: readonly DispatchProfile[], top: number): string[] {
  const total = dispatches.reduce((s, d) => s + d.ms, 0);
  const rows = [...dispatches].sort((a, b) => b.ms - a.ms).slice(0, top);
  const lines = [`${'#'.padStart(4)}  ${'ms'.padStart(9)}  ${'share'.padStart(6)}  ${'workgroups'.padEnd(14)}  ${'kernel'.padEnd(36)}  nodes`];
  for (const d of rows) {
    const nodes = d.nodes.length > 3 ? `${d.nodes.slice(0, 3).join(',')},+${d.nodes.length - 3}` : d.nodes.join(',');
    lines.push(`${String(d.index).padStart(4)}  ${d.ms.toFixed(3).padStart(9)}  ${pct(d.ms, total).padStart(6)}  ${d.workgroups.join('x').padEnd(14)}  ${d.kernel.padEnd(36)}  ${nodes}`);
  }
  lines.push(`total ${total.toFixed(3)} ms over ${dispatches.length} dispatches${rows.length < dispatches.length ? ` (top ${rows.length} shown)` : ''}`);
  return lines;
}

/** Aggregated groups as an aligned text table headed by `what` (template, op, ...). */
export function formatGroupTable(groups: readonly ProfileGroup[], what: string): string[] {
  const total = groups.reduce((s, g) => s + g.ms, 0);
  const width = Math.max(what.length, ...groups.map((g) => g.key.length));
  const lines = [`${what.padEnd(width)}  ${'count'.padStart(5)}  ${'ms'.padStart(9)}  ${'share'.padStart(6)}`];
  for (const g of groups) lines.push(`${g.key.padEnd(width)}  ${String(g.count).padStart(5)}  ${g.ms.toFixed(3).padStart(9)}  ${pct(g.ms, total).padStart(6)}`);
  return lines;
}
