// Weight splitting for the binding limit: a storage binding may hold at most
// maxStorageBufferBindingSize bytes (128 MiB is all WebGPU guarantees), so a matmul, gemm or
// matmul_nbits whose constant weight is larger is cut along N into column blocks that each fit,
// and their results are joined with one concat on the last axis. Exact: every output element is
// the same dot product as before. Only constant weights (and constant gemm C) are split; the
// other operands are shared by the blocks. Batched (rank > 2) matmul weights are left alone.

import { storageBytes } from '../../ir/dtype.ts';
import type { Node } from '../../ir/graph.ts';
import { numberAttr } from '../../ir/graph.ts';
import { nbitsAttrs, packedWords } from '../../ir/ops/matmul-nbits.ts';
import { tensor, type HostArray, type Tensor } from '../../ir/tensor.ts';
import { groupsPerRow } from '../../quant/format.ts';
import type { Pass } from '../pass.ts';
import { GraphEdit, viewOf, type GraphView } from '../simplify/pattern-util.ts';

/** WebGPU's guaranteed maxStorageBufferBindingSize: a bundle within it binds on every adapter. */
export const PORTABLE_BINDING_BYTES = 128 * 1024 * 1024;

export interface SplitOptions {
  /** Largest weight binding allowed, in bytes. */
  readonly maxBindingBytes: number;
}

/** A splittable weight: its width N, the bytes of its largest operand for w columns, and the cut. */
interface Wide {
  readonly N: number;
  bytesFor(cols: number): number;
  /** The node computing output columns [n0, n1), with new constants added through `edit`. */
  part(edit: GraphEdit, n0: number, n1: number, out: string, name: string): Node;
}

function like(data: HostArray, length: number): HostArray {
  const Ctor = data.constructor as new (n: number) => HostArray;
  return new Ctor(length);
}

/** Rows [r0, r1) of a row-major [rows, cols] array, as one copy. */
function rowSlice(t: Tensor, cols: number, r0: number, r1: number, shape: readonly number[]): Tensor {
  return tensor(t.dtype, shape, t.data.slice(r0 * cols, r1 * cols));
}

/** Columns [c0, c1) of a row-major [rows, cols] array. */
function colSlice(t: Tensor, rows: number, cols: number, c0: number, c1: number): Tensor {
  const w = c1 - c0;
  const out = like(t.data, rows * w);
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * cols + c0, r * cols + c1), r * w);
  return tensor(t.dtype, [rows, w], out);
}

function nodeAt(n: Node, name: string, inputs: string[], out: string, attrs: Node['attrs'] = n.attrs): Node {
  return { name, op: n.op, inputs, outputs: [out], attrs, ...(n.loc ? { loc: n.loc } : {}) };
}

/** The C operand of a gemm cut to columns [n0, n1), or undefined when C cannot be cut. */
function gemmC(v: GraphView, c: string | undefined, N: number): ((e: GraphEdit, n0: number, n1: number) => string | undefined) | null {
  if (c === undefined) return () => undefined;
  const s = v.shape(c);
  if (!s) return null;
  const last = s.length ? (s[s.length - 1] as number) : 1;
  if (last === 1) return () => c;
  const t = v.g.initializers.get(c);
  if (!t || last !== N) return null;
  const rows = s.length === 2 ? (s[0] as number) : 1;
  return (e, n0, n1) => {
    const cut = colSlice(t, rows, N, n0, n1);
    return e.addConst(`${c}.cols${n0}`, s.length === 2 ? cut : tensor(t.dtype, [n1 - n0], cut.data));
  };
}

function wideOf(v: GraphView, n: Node): Wide | undefined {
  const g = v.g;
  if (n.op === 'matmul' || n.op === 'gemm') {
    const b = n.inputs[1] as string;
    const B = g.initializers.get(b);
    const s = v.shape(b);
    if (!B || !s || s.length !== 2) return undefined;
    const transB = n.op === 'gemm' && numberAttr(n.attrs, 'transB', 0) !== 0;
    const [K, N] = (transB ? [s[1], s[0]] : [s[0], s[1]]) as [number, number];
    const cutC = n.op === 'gemm' ? gemmC(v, n.inputs[2], N) : () => undefined;
    if (!cutC) return undefined;
    const cs = n.op === 'gemm' && n.inputs[2] !== undefined ? v.shape(n.inputs[2]) : undefined;
    const cRows = cs && cs.length === 2 && cs[1] === N ? (cs[0] as number) : cs && cs[cs.length - 1] === N ? 1 : 0;
    return {
      N,
      bytesFor: (cols) => storageBytes(B.dtype, Math.max(K, cRows) * cols),
      part(edit, n0, n1, out, name) {
        const w = transB ? rowSlice(B, K, n0, n1, [n1 - n0, K]) : colSlice(B, K, N, n0, n1);
        const ins = [n.inputs[0] as string, edit.addConst(`${b}.cols${n0}`, w)];
        const c = cutC(edit, n0, n1);
        if (c !== undefined) ins.push(c);
        return nodeAt(n, name, ins, out);
      },
    };
  }
  if (n.op === 'matmul_nbits') {
    const [a, wv, sv, zv, cv] = n.inputs as [string, string, string, string, string | undefined];
    const [W, S, Z] = [wv, sv, zv].map((x) => g.initializers.get(x));
    const C = cv === undefined ? undefined : g.initializers.get(cv);
    if (!W || !S || !Z || (cv !== undefined && !C)) return undefined;
    const q = nbitsAttrs(n.attrs);
    const G = groupsPerRow(q.K, q.group);
    const perRow = packedWords({ ...q, N: 1 });
    return {
      N: q.N,
      bytesFor: (cols) => 4 * Math.max(perRow * cols, G * cols),
      part(edit, n0, n1, out, name) {
        const rows = n1 - n0;
        let words: Uint32Array;
        if (q.layout === 'dense') {
          words = W.data.slice(n0 * perRow, n1 * perRow) as Uint32Array;
        } else {
          // Bit-plane major [bits][N][rw]: each plane contributes its rows n0..n1.
          const rw = perRow / q.bits;
          words = new Uint32Array(q.bits * rows * rw);
          for (let j = 0; j < q.bits; j++) words.set(W.data.subarray((j * q.N + n0) * rw, (j * q.N + n1) * rw) as Uint32Array, j * rows * rw);
        }
        const ins = [
          a,
          edit.addConst(`${wv}.rows${n0}`, tensor('u32', [words.length], words)),
          edit.addConst(`${sv}.rows${n0}`, rowSlice(S, G, n0, n1, [rows, G])),
          edit.addConst(`${zv}.rows${n0}`, rowSlice(Z, G, n0, n1, [rows, G])),
        ];
        if (C) ins.push(edit.addConst(`${cv}.rows${n0}`, rowSlice(C, 1, n0, n1, [rows])));
        return nodeAt(n, name, ins, out, { ...n.attrs, N: rows });
      },
    };
  }
  return undefined;
}

/** Cuts oversized constant weights into column blocks of at most `maxBindingBytes` each. */
export function splitWideWeights(opts: SplitOptions = { maxBindingBytes: PORTABLE_BINDING_BYTES }): Pass {
  return {
    name: 'split-wide-weights',
    run(g, ctx) {
      const v = viewOf(g);
      const edit = new GraphEdit(g);
      let parts = 0;
      for (const n of g.nodes) {
        const wide = wideOf(v, n);
        if (!wide || wide.bytesFor(wide.N) <= opts.maxBindingBytes) continue;
        let p = 2;
        while (p < wide.N && wide.bytesFor(Math.ceil(wide.N / p)) > opts.maxBindingBytes) p++;
        const step = Math.ceil(wide.N / p);
        if (wide.bytesFor(step) > opts.maxBindingBytes) {
          ctx.diag.push({ severity: 'warning', pass: 'split-wide-weights', node: n.name, message: `one output column of its weight is over the ${opts.maxBindingBytes}-byte binding limit; left whole` });
          continue;
        }
        const out = n.outputs[0] as string;
        const type = g.values.get(out);
        if (!type) continue;
        const rank = type.shape.length;
        const nodes: Node[] = [];
        const pieces: string[] = [];
        for (let n0 = 0; n0 < wide.N; n0 += step) {
          const n1 = Math.min(wide.N, n0 + step);
          const piece = edit.addValue(`${out}.cols${n0}`, { dtype: type.dtype, shape: [...type.shape.slice(0, -1), n1 - n0] });
          nodes.push(wide.part(edit, n0, n1, piece, edit.freshNode(`${n.name}.cols${n0}`)));
          pieces.push(piece);
        }
        nodes.push({ name: edit.freshNode(`${n.name}.join`), op: 'concat', inputs: pieces, outputs: [out], attrs: { axis: rank - 1 }, ...(n.loc ? { loc: n.loc } : {}) });
        edit.replace(n, [], nodes);
        parts += pieces.length;
        ctx.diag.push({ severity: 'note', pass: 'split-wide-weights', node: n.name, message: `weight of ${wide.bytesFor(wide.N)} bytes is over the ${opts.maxBindingBytes}-byte binding limit: computed as ${pieces.length} column blocks joined by concat` });
      }
      if (!edit.count) return { graph: g, changed: false };
      return { graph: edit.apply(), changed: true, stats: { split: edit.count, parts } };
    },
  };
}
