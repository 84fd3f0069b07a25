// ONNX model -> IR graph. Initializers and Constant nodes become host constants; all-constant
// nodes fold (fold.ts), so Shape-driven subgraphs vanish; the rest go through the support matrix
// (op-table.ts). Unsupported ops are collected over the whole model into ONE OnnxImportError.
// Not handled: subgraphs (If/Loop), non-default domains; unbound dynamic dims stay symbolic.

import path from 'node:path';
import type { DType } from '../ir/dtype.ts';
import { GraphBuilder, IrError } from '../ir/builder.ts';
import type { Graph } from '../ir/graph.ts';
import type { Dim } from '../ir/shape.ts';
import { constFromProto, OnnxImportError } from './const-tensor.ts';
import { MissingIrOp, NodeCtx, type Entry, type ImportState } from './context.ts';
import { FOLDERS } from './fold.ts';
import { ONNX_OPS } from './op-table.ts';
import { decodeModel, DT, toNum, type ModelProto, type ValueInfoProto } from './proto.ts';

export { OnnxImportError } from './const-tensor.ts';

export interface OnnxImportOptions {
  /** Path of the model file: names the graph and resolves external data. */
  readonly file?: string;
  /** Concrete shapes for graph inputs (binds their dynamic dims at import time). */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);
/** Ops evaluated from their input's shape alone, so they fold even on run-time values. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);

function dimName(s: string): string {
  const n = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(n) ? n : `d_${n}`;
}

function inputType(vi: ValueInfoProto, given: readonly number[] | undefined): { dtype: DType; shape: Dim[] } {
  const name = vi.name ?? '';
  const tt = vi.type?.tensorType;
  if (!tt) throw new OnnxImportError(`graph input '${name}' is not a tensor`);
  const elem = tt.elemType ?? DT.FLOAT;
  const dtype: DType | undefined = elem === DT.FLOAT || elem === DT.FLOAT16 || elem === DT.DOUBLE ? 'f32'
    : elem === DT.BOOL ? 'bool' : [DT.INT8, DT.UINT8, DT.INT16, DT.UINT16, DT.INT32, DT.INT64].includes(elem as 2) ? 'i32' : undefined;
  if (!dtype) throw new OnnxImportError(`graph input '${name}' has element type ${elem}, which is not supported`);
  const dims: Dim[] = (tt.shape?.dim ?? []).map((d, i) => {
    if (d.dimValue !== null && d.dimValue !== undefined && toNum(d.dimValue) > 0) return toNum(d.dimValue);
    return d.dimParam ? dimName(d.dimParam) : `${dimName(name)}_d${i}`;
  });
  if (!given) return { dtype, shape: dims };
  if (given.length !== dims.length) throw new OnnxImportError(`input '${name}' has rank ${dims.length} [${dims.join(',')}], inputShapes gives [${given.join(',')}]`);
  dims.forEach((d, i) => {
    if (typeof d === 'number' && d !== given[i]) throw new OnnxImportError(`input '${name}' dim ${i} is fixed at ${d}, inputShapes gives ${given[i]}`);
  });
  return { dtype, shape: [...given] };
}

interface Unsupported { op: string; domain: string; opset: number; nodes: string[]; why?: string }

function unsupportedMessage(list: readonly Unsupported[]): string {
  const parts = list.map((u) => {
    const shown = u.nodes.slice(0, 4).map((n) => `'${n}'`).join(', ');
    const more = u.nodes.length > 4 ? ` and ${u.nodes.length - 4} more` : '';
    return `${u.op} (${u.domain || 'ai.onnx'}, opset ${u.opset}${u.why ? `, ${u.why}` : ''}) at node${u.nodes.length > 1 ? 's' : ''} ${shown}${more}`;
  });
  return `unsupported ONNX ops (${list.length}): ${parts.join('; ')}`;
}

export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): Graph {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new OnnxImportError(`${opts.file ?? 'model'}: not a valid ONNX model (${(e as Error).message})`);
  }
  const g = model.graph;
  if (!g) throw new OnnxImportError(`${opts.file ?? 'model'}: the ONNX model has no graph`);
  const opsets = new Map((model.opsetImport ?? []).map((o) => [o.domain ?? '', toNum(o.version)]));
  const defaultOpset = opsets.get('') ?? opsets.get('ai.onnx') ?? 1;
  const name = g.name || (opts.file ? path.basename(opts.file, path.extname(opts.file)) : 'onnx_model');
  const st: ImportState = { b: new GraphBuilder(dimName(name)), entries: new Map<string, Entry>(), materialized: new Map(), modelFile: opts.file };

  for (const t of g.initializer ?? []) st.entries.set(t.name ?? '', { kind: 'const', c: constFromProto(t, opts.file) });
  const shapes = opts.inputShapes ?? {};
  for (const k of Object.keys(shapes)) {
    if (!(g.input ?? []).some((vi) => vi.name === k)) throw new OnnxImportError(`inputShapes names '${k}', which is not an input of the model`);
  }
  for (const vi of g.input ?? []) {
    const n = vi.name ?? '';
    if (st.entries.has(n)) continue; // IR < 4 lists initializers as inputs too
    const t = inputType(vi, shapes[n]);
    st.entries.set(n, { kind: 'value', v: st.b.input(n, t.dtype, t.shape) });
  }

  const unsupported = new Map<string, Unsupported>();
  const poisoned = new Set<string>();
  const report = (op: string, domain: string, opset: number, node: string, why?: string): void => {
    const key = `${domain}\u0000${op}\u0000${why ?? ''}`;
    const u = unsupported.get(key);
    if (u) u.nodes.push(node);
    else unsupported.set(key, why ? { op, domain, opset, nodes: [node], why } : { op, domain, opset, nodes: [node] });
  };

  (g.node ?? []).forEach((node, idx) => {
    const op = node.opType ?? '';
    const domain = node.domain ?? '';
    const opset = opsets.get(domain) ?? defaultOpset;
    const nodeName = node.name || `${op}_${idx}`;
    const outs = (node.output ?? []).filter((o) => o);
    const known = DEFAULT_DOMAINS.has(domain) && (ONNX_OPS.has(op) || FOLDERS.has(op));
    if (!known) {
      report(op, domain, opset, nodeName);
      outs.forEach((o) => poisoned.add(o));
      return;
    }
    if ((node.input ?? []).some((i) => poisoned.has(i))) {
      outs.forEach((o) => poisoned.add(o));
      return;
    }
    const c = new NodeCtx(st, node, opset, nodeName);
    try {
      const ins = (node.input ?? []).map((_, i) => (c.has(i) ? c.entry(i) : undefined));
      const present = ins.filter((e): e is Entry => e !== undefined);
      const folder = FOLDERS.get(op);
      const allConst = present.length > 0 && present.every((e) => e.kind === 'const');
      const folded = folder && allConst && !SHAPE_ONLY.has(op) ? folder(c, present.map((e) => (e.kind === 'const' ? e.c : (undefined as never)))) : undefined;
      if (folded) {
        folded.forEach((t, k) => c.setOutput(k, t));
        return;
      }
      const importer = ONNX_OPS.get(op);
      if (!importer) {
        report(op, domain, opset, nodeName, 'only with constant inputs');
        outs.forEach((o) => poisoned.add(o));
        return;
      }
      importer(c);
    } catch (e) {
      if (e instanceof MissingIrOp) {
        report(op, domain, opset, nodeName, `needs IR op '${e.op}'`);
        outs.forEach((o) => poisoned.add(o));
        return;
      }
      if (e instanceof IrError) throw new OnnxImportError(`node '${nodeName}' (${op}): ${e.message}`);
      throw e;
    }
  });

  if (unsupported.size) throw new OnnxImportError(unsupportedMessage([...unsupported.values()]));
  for (const vi of g.output ?? []) {
    const n = vi.name ?? '';
    const e = st.entries.get(n);
    if (!e) throw new OnnxImportError(`graph output '${n}' is never computed`);
    if (e.kind === 'const') throw new OnnxImportError(`graph output '${n}' is a constant; anybit compiles computed outputs only`);
    st.b.output(e.v);
  }
  return st.b.build();
}
