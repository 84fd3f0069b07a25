// Coordinate arithmetic for gather-style kernels, next to shader.ts's flat-offset helpers:
// decoding a flat index into per-dim i32 coordinates, border modes (constant/reflect/edge) for
// out-of-range source coordinates, and resize's exact rational source coordinates (integer math,
// so nearest ties agree with src/ir/ops/resize.ts bit for bit). Shapes are baked constants.

import type { AxisRational } from '../../src/ir/ops/resize.ts';
import type { HelperSink } from './shader.ts';
import { i32Lit, u32Lit } from './shader.ts';

/** WGSL lines defining `${prefix}0..` (i32) = row-major coordinates of u32 `flat` over `shape`. */
export function decodeCoords(shape: readonly number[], flat: string, prefix: string): string[] {
  const lines: string[] = [];
  let div = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] as number;
    const q = div === 1 ? flat : `(${flat} / ${u32Lit(div)})`;
    lines.unshift(`let ${prefix}${d} = i32(${d === 0 ? q : `${q} % ${u32Lit(n)}`});`);
    div *= n;
  }
  return lines;
}

export type BorderMode = 'constant' | 'reflect' | 'edge';

/**
 * An i32 expression mapping coordinate `c` into [0, n) under `mode` (reflect bounces with period
 * 2(n-1), as numpy). For 'constant' it returns `c` unchanged: test `inRange` instead.
 */
export function borderCoord(mode: BorderMode, c: string, n: number, h: HelperSink): string {
  if (mode === 'edge') return `clamp(${c}, 0i, ${i32Lit(n - 1)})`;
  if (mode === 'constant') return c;
  h.helper('reflectCoord', [
    'fn reflectCoord(c: i32, n: i32) -> i32 {',
    '  if (n == 1i) { return 0i; }',
    '  let period = 2i * (n - 1i);',
    '  let m = abs(c) % period;',
    '  return select(m, period - m, m >= n);',
    '}',
  ].join('\n'));
  return `reflectCoord(${c}, ${i32Lit(n)})`;
}

/** The WGSL test that i32 `c` lies in [0, n). */
export function inRange(c: string, n: number): string {
  return `(${c} >= 0i && ${c} < ${i32Lit(n)})`;
}

/** sum of coordinates (i32 expressions) times row-major strides of `shape`, as a u32 expression. */
export function rowMajorOffset(coords: readonly string[], shape: readonly number[]): string {
  const terms: string[] = [];
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if ((shape[d] as number) > 1) terms.unshift(stride === 1 ? `u32(${coords[d]})` : `u32(${coords[d]}) * ${u32Lit(stride)}`);
    stride *= shape[d] as number;
  }
  return terms.length ? terms.join(' + ') : '0u';
}

export type RoundMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

/** Largest |a*x + b| a resize axis computes; must stay below 2^31 for i32 math. */
export function rationalMagnitude(r: AxisRational, outSize: number): number {
  return Math.abs(r.a) * outSize + Math.abs(r.b) + r.den;
}

/**
 * `fn name(x: u32) -> Tap`: source taps of output index x along one resize axis; returns
 * {i0, i1, w} with value = (1 - w) * in[i0] + w * in[i1] (nearest: i0 = i1, w = 0).
 */
export function resizeAxisFn(name: string, r: AxisRational, inSize: number, linear: boolean, round: RoundMode, h: HelperSink): string {
  h.helper('Tap', 'struct Tap { i0: u32, i1: u32, w: f32 }');
  const den = i32Lit(r.den);
  const lines = [
    `fn ${name}(x: u32) -> Tap {`,
    `  let num = ${i32Lit(r.a)} * i32(x) + ${i32Lit(r.b)};`,
    // Floor division for negative numerators (half_pixel at the first output index).
    `  let fl = select(num / ${den}, (num - ${den} + 1i) / ${den}, num < 0i);`,
    `  let rem = num - fl * ${den};`,
  ];
  if (linear) {
    lines.push(
      '  if (num <= 0i) { return Tap(0u, 0u, 0.0); }',
      `  if (fl >= ${i32Lit(inSize - 1)}) { return Tap(${u32Lit(inSize - 1)}, ${u32Lit(inSize - 1)}, 0.0); }`,
      `  return Tap(u32(fl), u32(fl + 1i), f32(rem) / f32(${den}));`,
    );
  } else {
    const pick: Record<RoundMode, string> = {
      floor: 'fl',
      ceil: 'select(fl, fl + 1i, rem > 0i)',
      round_prefer_floor: `select(fl, fl + 1i, 2i * rem > ${den})`,
      round_prefer_ceil: `select(fl, fl + 1i, 2i * rem >= ${den})`,
    };
    lines.push(`  let i = u32(clamp(${pick[round]}, 0i, ${i32Lit(inSize - 1)}));`, '  return Tap(i, i, 0.0);');
  }
  lines.push('}');
  return lines.join('\n');
}
