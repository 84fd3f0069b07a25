// Lowering of the CNN op batch: pooling -> pool2d, global_avg_pool -> a row-mean reduce,
// resize, pad/slice/concat/split -> index-map (split: one kernel per output), depth_to_space ->
// a transpose of a 6-D view, batch_norm and conv_transpose2d (both absorb a unary epilogue).
// concat of more than 7 inputs is refused (one kernel's storage-binding limit).

import type { Epilogue, IndexMapProblem, IndexMapSource, Problem } from '../../codegen/problems.ts';
import { MAX_INDEX_MAP_SOURCES } from '../../codegen/kernels/index-map.ts';
import { numberAttr, stringAttr, intsAttr, type Node } from '../ir/graph.ts';
import { splitSizes } from '../ir/ops/concat-split.ts';
import { convTransposeParams } from '../ir/ops/conv-transpose.ts';
import { padMaps, sliceMaps, type DimMap, type PadMode } from '../ir/ops/pad-slice.ts';
import { poolParams } from '../ir/ops/pool.ts';
import { resizeParams } from '../ir/ops/resize.ts';
import { numel } from '../ir/shape.ts';
import type { LowerContext, LoweredNode } from './lowering.ts';


function single(node: Node, problem: Problem, inputs?: readonly string[]): LoweredNode {
  return { kernels: [{ problem, nodes: [node], inputs: inputs ?? node.inputs.filter((v) => v !== ''), output: node.outputs[0] as string }] };
}

function axisOf(node: Node, rank: number): number {
  const a = numberAttr(node.attrs, 'axis', 0);
  return a < 0 ? a + rank : a;
}

function mapsSource(shape: readonly number[], maps: readonly DimMap[]): IndexMapSource {
  return { shape, start: maps.map((m) => m.start), step: maps.map((m) => m.step), from: 0 };
}

/** Same data moved along `axis` by `offset`: output coordinate o reads source o + offset. */
function shifted(shape: readonly number[], axis: number, offset: number, from: number): IndexMapSource {
  return { shape, start: shape.map((_, d) => (d === axis ? offset : 0)), step: shape.map(() => 1), from };
}

const NO_BORDER: IndexMapProblem['border'] = { mode: 'constant', value: 0 };

/** The kernels for `node` when it is a CNN-batch op, else undefined. */
export function lowerCnnNode(node: Node, ctx: LowerContext): LoweredNode | undefined {
  const x = node.inputs[0] as string;
  const out0 = node.outputs[0] as string;
  switch (node.op) {
    case 'max_pool2d':
    case 'avg_pool2d': {
      const [N, C, H, W] = ctx.shapeOf(x) as [number, number, number, number];
      const [, , OH, OW] = ctx.shapeOf(out0) as [number, number, number, number];
      const p = poolParams(node.attrs);
      return single(node, {
        kind: 'pool2d', mode: node.op === 'max_pool2d' ? 'max' : 'avg', planes: N * C, H, W, OH, OW,
        kH: p.kernel[0], kW: p.kernel[1], strides: p.strides, pads: p.pads, dilations: p.dilations, countIncludePad: p.countIncludePad,
      });
    }
    case 'global_avg_pool': {
      const s = ctx.shapeOf(x);
      const S = numel(s.slice(2));
      // A row mean per (n, c): the reduce template splits each row over a workgroup, which a
      // whole-plane pooling window (one invocation per output) cannot.
      return single(node, { kind: 'reduce', op: 'mean', keptShape: [numel(s.slice(0, 2))], keptStrides: [S], reducedShape: [S], reducedStrides: [1] });
    }
    case 'resize': {
      const s = ctx.shapeOf(x);
      const o = ctx.shapeOf(out0);
      const r = s.length;
      const p = resizeParams(node.attrs);
      return single(node, {
        kind: 'resize', planes: numel(s.slice(0, r - 2)), H: s[r - 2] as number, W: s[r - 1] as number,
        OH: o[r - 2] as number, OW: o[r - 1] as number, mode: p.mode, coord: p.coord, nearest: p.nearest,
      });
    }
    case 'depth_to_space': {
      // [N, C, H, W] viewed as 6-D and transposed to [N, C', H, b, W, b] (= [N, C', H*b, W*b]).
      const [N, C, H, W] = ctx.shapeOf(x) as [number, number, number, number];
      const b = numberAttr(node.attrs, 'blocksize', 1);
      const Co = C / (b * b);
      const crd = stringAttr(node.attrs, 'mode', 'DCR') === 'CRD';
      const inShape = crd ? [N, Co, b, b, H, W] : [N, b, b, Co, H, W];
      const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
      return single(node, { kind: 'transpose', inShape, perm });
    }
    case 'pad': {
      const s = ctx.shapeOf(x);
      const maps = padMaps(s, intsAttr(node.attrs, 'pads', []));
      const mode = stringAttr(node.attrs, 'mode', 'constant') as PadMode;
      return single(node, {
        kind: 'index-map', outShape: ctx.shapeOf(out0), sources: [mapsSource(s, maps)], selectAxis: 0,
        border: { mode, value: numberAttr(node.attrs, 'value', 0) },
      });
    }
    case 'slice': {
      const s = ctx.shapeOf(x);
      const maps = sliceMaps(s, node.attrs);
      if (typeof maps === 'string') throw new Error(`lower: slice node '${node.name}': ${maps}`);
      return single(node, { kind: 'index-map', outShape: ctx.shapeOf(out0), sources: [mapsSource(s, maps)], selectAxis: 0, border: NO_BORDER });
    }
    case 'concat': {
      if (node.inputs.length > MAX_INDEX_MAP_SOURCES) {
        throw new Error(`lower: concat node '${node.name}' has ${node.inputs.length} inputs; one kernel reads at most ${MAX_INDEX_MAP_SOURCES}`);
      }
      const outShape = ctx.shapeOf(out0);
      const axis = axisOf(node, outShape.length);
      let from = 0;
      const sources = node.inputs.map((v) => {
        const s = ctx.shapeOf(v);
        const src = shifted(s, axis, -from, from);
        from += s[axis] as number;
        return src;
      });
      return single(node, { kind: 'index-map', outShape, sources, selectAxis: axis, border: NO_BORDER });
    }
    case 'split': {
      const s = ctx.shapeOf(x);
      const axis = axisOf(node, s.length);
      const sizes = splitSizes(s[axis] as number, node.attrs);
      if (typeof sizes === 'string') throw new Error(`lower: split node '${node.name}': ${sizes}`);
      let off = 0;
      return {
        kernels: node.outputs.map((o) => {
          const problem: IndexMapProblem = { kind: 'index-map', outShape: ctx.shapeOf(o), sources: [shifted(s, axis, off, 0)], selectAxis: axis, border: NO_BORDER };
          off += ctx.shapeOf(o)[axis] as number;
          return { problem, nodes: [node], inputs: [x], output: o };
        }),
      };
    }
    case 'batch_norm': {
      const s = ctx.shapeOf(x);
      const ep = ctx.epilogueFrom(out0);
      return { kernels: [{
        problem: {
          kind: 'batch-norm', outer: s[0] as number, C: s[1] as number, inner: numel(s.slice(2)),
          epsilon: numberAttr(node.attrs, 'epsilon', 1e-5), epilogue: ep.epilogue,
        },
        nodes: [node, ...ep.nodes], inputs: [...node.inputs], output: ep.out,
      }] };
    }
    case 'conv_transpose2d': {
      const [xv, w, b] = node.inputs;
      const [N, C, H, W] = ctx.shapeOf(xv as string) as [number, number, number, number];
      const [, , kH, kW] = ctx.shapeOf(w as string) as [number, number, number, number];
      const [, M, OH, OW] = ctx.shapeOf(out0) as [number, number, number, number];
      const p = convTransposeParams(node.attrs);
      const ep = ctx.epilogueFrom(out0);
      const inputs = [xv as string, w as string, ...(b ? [b] : [])];
      return { kernels: [{
        problem: {
          kind: 'conv-transpose2d', N, C, H, W, M, kH, kW, OH, OW, strides: p.strides, pads: [p.pads[0], p.pads[1]],
          dilations: p.dilations, group: p.group, bias: !!b, epilogue: ep.epilogue,
        },
        nodes: [node, ...ep.nodes], inputs, output: ep.out,
      }] };
    }
    default:
      return undefined;
  }
}
