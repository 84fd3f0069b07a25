// Lowering: IR graph (concrete shapes) -> kernel instances, one per dispatch. Matmul/gemm and
// conv2d absorb the chain of unary ops that follows them (epilogue); consecutive elementwise
// nodes fuse into one kernel when the intermediate has one reader and is not a graph output;
// reshape becomes an alias (no kernel). Each instance keeps the IR nodes it computes so the
// tuner can verify candidates against the interpreter.

import type { Epilogue, ElementwiseArg, ElementwiseStep, Problem } from '../../codegen/problems.ts';
import { consumers, intsAttr, numberAttr, type Graph, type Node } from '../ir/graph.ts';
import { getOp } from '../ir/op-table.ts';
import { convParams } from '../ir/ops/conv.ts';
import { transposePerm } from '../ir/ops/layout.ts';
import { lowerReduceFamily } from './lower-reduce.ts';
import { lowerCnnNode } from './lower-cnn.ts';
import { lowerQuantNode } from './lower-quant.ts';
import { lowerConvNBitsNode } from './lower-conv-nbits.ts';
import type { LowerContext, LoweredNode, NodeLowering } from './lowering.ts';
import { broadcastShapes, broadcastStrides, isConcrete, numel } from '../ir/shape.ts';

export interface KernelInstance {
  readonly problem: Problem;
  readonly nodes: readonly Node[];
  readonly inputs: readonly string[];
  readonly output: string;
}

export interface Lowered {
  readonly kernels: readonly KernelInstance[];
  /** Value -> the value whose storage it shares (reshape outputs). */
  readonly aliases: ReadonlyMap<string, string>;
}

/** Lowerings of the op families beyond the core ops below; the first that claims a node wins. */
const FAMILY_LOWERINGS: readonly NodeLowering[] = [lowerReduceFamily, lowerCnnNode, lowerQuantNode, lowerConvNBitsNode];

function shapeOf(g: Graph, v: string): number[] {
  const t = g.values.get(v);
  if (!t || !isConcrete(t.shape)) throw new Error(`lower: value '${v}' has no concrete shape; bind its dims first`);
  return [...t.shape];
}

export function lowerGraph(g: Graph): Lowered {
  const readers = consumers(g);
  const outputs = new Set(g.outputs);
  const fusible = (v: string): Node | undefined => {
    const rs = readers.get(v);
    return rs && rs.length === 1 && !outputs.has(v) ? rs[0] : undefined;
  };
  const aliases = new Map<string, string>();
  const kernels: KernelInstance[] = [];
  const emit = (k: KernelInstance): void => {
    kernels.push(k);
    available.add(k.output);
  };
  const done = new Set<Node>();
  // Values already computed when the next kernel runs: a fused reader must not need a later one.
  const available = new Set<string>([...g.inputs, ...g.initializers.keys()]);

  const epilogueFrom = (start: string): { epilogue: Epilogue; nodes: Node[]; out: string } => {
    const epilogue: { op: string; attrs: Node['attrs'] }[] = [];
    const nodes: Node[] = [];
    let out = start;
    for (let n = fusible(out); n && getOp(n.op)?.category === 'unary'; n = fusible(out)) {
      epilogue.push({ op: n.op, attrs: n.attrs });
      nodes.push(n);
      done.add(n);
      out = n.outputs[0] as string;
    }
    return { epilogue, nodes, out };
  };

  const cx: LowerContext = { graph: g, shapeOf: (v) => shapeOf(g, v), epilogueFrom };
  const lowerFamily = (node: Node): LoweredNode | undefined => {
    for (const lower of FAMILY_LOWERINGS) {
      const r = lower(node, cx);
      if (r) return r;
    }
    return undefined;
  };

  for (const node of g.nodes) {
    if (done.has(node)) continue;
    done.add(node);
    const cat = getOp(node.op)?.category;
    const out0 = node.outputs[0] as string;
    const family = lowerFamily(node);
    if (family && 'alias' in family) {
      aliases.set(out0, aliases.get(family.alias) ?? family.alias);
      available.add(out0);
      continue;
    }
    if (family) {
      family.kernels.forEach(emit);
      continue;
    }
    if (node.op === 'reshape') {
      const src = node.inputs[0] as string;
      aliases.set(out0, aliases.get(src) ?? src);
      available.add(out0);
      continue;
    }
    if (node.op === 'matmul' || node.op === 'gemm') {
      const [a, b, c] = node.inputs;
      const sa = shapeOf(g, a as string);
      const sb = shapeOf(g, b as string);
      const ep = epilogueFrom(out0);
      const inputs = [a as string, b as string];
      let problem: Problem;
      if (node.op === 'matmul') {
        const batchA = sa.slice(0, -2);
        const batchB = sb.slice(0, -2);
        const batch = broadcastShapes(batchA, batchB) as number[];
        const M = sa[sa.length - 2] as number;
        const K = sa[sa.length - 1] as number;
        const N = sb[sb.length - 1] as number;
        problem = {
          kind: 'matmul', batchShape: batch,
          aBatchStrides: broadcastStrides(batchA, batch).map((s) => s * M * K),
          bBatchStrides: broadcastStrides(batchB, batch).map((s) => s * K * N),
          M, N, K, transA: false, transB: false, alpha: 1, beta: 0, bias: null, epilogue: ep.epilogue,
        };
      } else {
        const transA = numberAttr(node.attrs, 'transA', 0) !== 0;
        const transB = numberAttr(node.attrs, 'transB', 0) !== 0;
        const M = sa[transA ? 1 : 0] as number;
        const K = sa[transA ? 0 : 1] as number;
        const N = sb[transB ? 0 : 1] as number;
        let bias: { strideM: number; strideN: number } | null = null;
        if (c) {
          const st = broadcastStrides(shapeOf(g, c), [M, N]);
          bias = { strideM: st[0] as number, strideN: st[1] as number };
          inputs.push(c);
        }
        problem = {
          kind: 'matmul', batchShape: [], aBatchStrides: [], bBatchStrides: [], M, N, K, transA, transB,
          alpha: numberAttr(node.attrs, 'alpha', 1), beta: numberAttr(node.attrs, 'beta', 1), bias, epilogue: ep.epilogue,
        };
      }
      emit({ problem, nodes: [node, ...ep.nodes], inputs, output: ep.out });
      continue;
    }
    if (node.op === 'conv2d') {
      const [x, w, b] = node.inputs;
      const [N, C, H, W] = shapeOf(g, x as string) as [number, number, number, number];
      const [M, , kH, kW] = shapeOf(g, w as string) as [number, number, number, number];
      const [, , OH, OW] = shapeOf(g, out0) as [number, number, number, number];
      const p = convParams(node.attrs);
      const ep = epilogueFrom(out0);
      const inputs = [x as string, w as string];
      if (b) inputs.push(b);
      emit({
        problem: {
          kind: 'conv2d', N, C, H, W, M, kH, kW, OH, OW, strides: p.strides, pads: [p.pads[0], p.pads[1]],
          dilations: p.dilations, group: p.group, bias: !!b, epilogue: ep.epilogue,
        },
        nodes: [node, ...ep.nodes], inputs, output: ep.out,
      });
      continue;
    }
    if (node.op === 'transpose') {
      const inShape = shapeOf(g, node.inputs[0] as string);
      emit({
        problem: { kind: 'transpose', inShape, perm: transposePerm(inShape.length, intsAttr(node.attrs, 'perm', [])) },
        nodes: [node], inputs: [node.inputs[0] as string], output: out0,
      });
      continue;
    }
    if (cat === 'unary' || cat === 'binary') {
      const inputs: string[] = [];
      const steps: ElementwiseStep[] = [];
      const nodes: Node[] = [];
      const argOf = (v: string, prev: string | undefined): ElementwiseArg => {
        if (v === prev) return { step: steps.length - 1 };
        let i = inputs.indexOf(v);
        if (i < 0) i = inputs.push(v) - 1;
        return { input: i };
      };
      let cur: Node | undefined = node;
      let prev: string | undefined;
      while (cur) {
        const c: Node = cur;
        steps.push({ op: c.op, attrs: c.attrs, args: c.inputs.map((v) => argOf(v, prev)) });
        nodes.push(c);
        done.add(c);
        prev = c.outputs[0] as string;
        const next = fusible(prev);
        const nc = next && getOp(next.op)?.category;
        // A reader that also takes `prev` twice, or is not elementwise, ends the chain.
        const ready = next && next.inputs.every((v) => v === prev || v === '' || available.has(v));
        cur = next && ready && (nc === 'unary' || nc === 'binary') && next.inputs.filter((v) => v === prev).length === 1 ? next : undefined;
      }
      const out = prev as string;
      emit({
        problem: { kind: 'elementwise', outShape: shapeOf(g, out), inputShapes: inputs.map((v) => shapeOf(g, v)), steps },
        nodes, inputs, output: out,
      });
      continue;
    }
    throw new Error(`lower: no kernel lowering for op '${node.op}' (node '${node.name}')`);
  }
  for (const k of kernels) if (numel(shapeOf(g, k.output)) === 0) throw new Error(`lower: node '${k.nodes[0]?.name}' produces an empty tensor`);
  return { kernels, aliases };
}
