// Random steps for the CNN op batch in arbGraph (test/prop/arbitraries.ts): pooling, resize,
// pad, slice, concat, split, depth_to_space, batch_norm, conv_transpose2d. Each step turns a
// value into a valid node for it (reshaping to 4-D where needed); variances stay positive.

import type { Attrs } from '../../src/ir/graph.ts';
import { numel } from '../../src/ir/shape.ts';

export const CNN_OP_KINDS = ['pool', 'resize', 'pad', 'slice', 'concat', 'split', 'depth_to_space', 'batch_norm', 'conv_transpose2d'] as const;
export type CnnOpKind = (typeof CNN_OP_KINDS)[number];

export interface CnnVal { readonly name: string; readonly shape: readonly number[] }

export interface CnnStepHost {
  op(o: string, args: readonly string[], attrs?: Attrs): CnnVal;
  /** Several outputs (split); the host pools all but the first, which the step returns. */
  opMulti(o: string, args: readonly string[], attrs: Attrs): CnnVal[];
  weight(shape: readonly number[]): string;
  readonly cap: number;
}

const pick = <T>(p: number, xs: readonly T[]): T => xs[p % xs.length] as T;

/** x as [1, C, H, W] (C a divisor of numel up to 8). */
function as4d(h: CnnStepHost, x: CnnVal, p: number): CnnVal {
  if (x.shape.length === 4) return x;
  const n = numel(x.shape);
  const cs = [1, 2, 3, 4, 5, 6, 7, 8].filter((d) => n % d === 0);
  const C = pick(p, cs);
  const hs = [1, 2, 3, 4, 5, 7].filter((d) => (n / C) % d === 0);
  const H = pick(p >> 3, hs);
  return h.op('reshape', [x.name], { shape: [1, C, H, n / C / H] });
}

export function cnnStep(h: CnnStepHost, kind: CnnOpKind, x: CnnVal, p: (i: number) => number, dims: readonly number[]): CnnVal {
  switch (kind) {
    case 'pool': {
      const X = as4d(h, x, p(1));
      const [, , H, W] = X.shape as [number, number, number, number];
      const k = [1 + (p(2) % Math.min(3, H)), 1 + (p(3) % Math.min(3, W))];
      const pads = [p(4) % (k[0] as number), p(5) % (k[1] as number), p(6) % (k[0] as number), p(7) % (k[1] as number)];
      const attrs: Attrs = { kernel_shape: k, strides: [1 + (p(8) % 2), 1 + (p(9) % 2)], pads, ceil_mode: p(10) % 2, count_include_pad: p(11) % 2 };
      const op = pick(p(12), ['max_pool2d', 'avg_pool2d', 'global_avg_pool']);
      return h.op(op, [X.name], op === 'global_avg_pool' ? {} : op === 'max_pool2d' ? { ...attrs, count_include_pad: 0 } : attrs);
    }
    case 'resize': {
      const r = x.shape.length;
      const X = r >= 2 ? x : h.op('reshape', [x.name], { shape: [1, -1] });
      const s = [...X.shape];
      s[s.length - 2] = dims[0] as number;
      s[s.length - 1] = dims[1] as number;
      if (numel(s) > h.cap) s.fill(1, s.length - 2);
      return h.op('resize', [X.name], {
        mode: pick(p(1), ['nearest', 'linear']), sizes: s,
        coordinate_transformation_mode: pick(p(2), ['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel', 'tf_half_pixel_for_nearest']),
        nearest_mode: pick(p(3), ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']),
      });
    }
    case 'pad': {
      const r = x.shape.length;
      const mode = pick(p(1), ['constant', 'reflect', 'edge']);
      let pads = Array.from({ length: 2 * r }, (_, i) => (p(2 + (i % 12)) % 3) - (mode === 'constant' && (x.shape[i % r] as number) > 2 ? 1 : 0));
      if (numel(x.shape.map((d, i) => d + (pads[i] as number) + (pads[i + r] as number))) > h.cap) pads = pads.map(() => 0);
      return h.op('pad', [x.name], { pads, mode, value: pick(p(14), [0, 0.5, -2]) });
    }
    case 'slice': {
      const r = x.shape.length;
      const axis = p(1) % r;
      const n = x.shape[axis] as number;
      const step = pick(p(2), [1, 2, -1, -3]);
      const start = step > 0 ? p(3) % n : n - 1 - (p(3) % n);
      return h.op('slice', [x.name], { starts: [start - (p(4) % 2 ? n : 0)], ends: [step > 0 ? 2147483647 : -2147483648], axes: [p(5) % 2 ? axis - r : axis], steps: [step] });
    }
    case 'concat': {
      const axis = p(1) % x.shape.length;
      const other = x.shape.map((d, i) => (i === axis ? dims[0] as number : d));
      if (numel(x.shape) + numel(other) > h.cap) return h.op('concat', [x.name, x.name], { axis });
      return h.op('concat', p(2) % 2 ? [h.weight(other), x.name] : [x.name, h.weight(other), x.name], { axis });
    }
    case 'split': {
      const axis = x.shape.findIndex((d) => d >= 2);
      if (axis < 0) return h.op('split', [x.name], { axis: 0, split: [x.shape[0] as number] });
      const n = x.shape[axis] as number;
      const first = 1 + (p(1) % (n - 1));
      const outs = h.opMulti('split', [x.name], { axis, split: [first, n - first] });
      return outs[0] as CnnVal;
    }
    case 'depth_to_space': {
      const b = 1 + (p(1) % 2);
      const n = numel(x.shape);
      const X = n % (b * b) === 0 ? h.op('reshape', [x.name], { shape: [1, b * b * pick(p(2), [1, n / (b * b)].filter((c) => n % (c * b * b) === 0)), 1, -1] }) : as4d(h, x, p(2));
      const bb = n % (b * b) === 0 ? b : 1;
      return h.op('depth_to_space', [X.name], { blocksize: bb, mode: pick(p(3), ['DCR', 'CRD']) });
    }
    case 'batch_norm': {
      const X = x.shape.length >= 2 ? x : h.op('reshape', [x.name], { shape: [1, -1] });
      const C = X.shape[1] as number;
      const variance = h.op('abs', [h.weight([C])]).name;
      return h.op('batch_norm', [X.name, h.weight([C]), h.weight([C]), h.weight([C]), variance], { epsilon: pick(p(1), [1e-3, 0.1]) });
    }
    case 'conv_transpose2d': {
      const X = as4d(h, x, p(1));
      const [, C, H, W] = X.shape as [number, number, number, number];
      const group = pick(p(2), [1, ...[2, 3].filter((g) => C % g === 0)]);
      const k = [1 + (p(3) % 3), 1 + (p(4) % 3)];
      const s = [1 + (p(5) % 2), 1 + (p(6) % 2)];
      const M = group * (1 + (p(7) % 2));
      const out = (a: 0 | 1, n: number): number => (s[a] as number) * (n - 1) + (k[a] as number);
      if (M * out(0, H) * out(1, W) > 4 * h.cap) return h.op('conv_transpose2d', [X.name, h.weight([C, 1, 1, 1])], {});
      const pads = [p(8) % (k[0] as number), p(9) % (k[1] as number), 0, 0];
      const args = [X.name, h.weight([C, M / group, (k[0] as number), (k[1] as number)]), ...(p(10) % 2 ? [h.weight([M])] : [])];
      return h.op('conv_transpose2d', args, { strides: s, pads, group, output_padding: [p(11) % (s[0] as number), 0] });
    }
  }
}
