// WGSL spelling of every elementwise op in src/ir/ops/elementwise.ts, matching its float64
// reference to f32 accuracy (erf: Abramowitz–Stegun 7.1.26, |err| <= 1.5e-7). Operands are
// WGSL f32 expressions used exactly once (multi-use ops go through helper functions).
// Domain errors (sqrt of negatives, 0 ** -1) give NaN/inf where the reference does.

import type { Attrs } from '../../src/ir/graph.ts';
import { numberAttr, stringAttr } from '../../src/ir/graph.ts';
import type { Epilogue } from '../problems.ts';
import { f32Lit, type HelperSink } from './shader.ts';

// exp overflows f32 past ~88.7; beyond these the functions are flat to f32 precision anyway.
const SIGMOID_CLAMP = 88;
const TANH_CLAMP = 15;

const H_SIGMOID = `fn ab_sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -${SIGMOID_CLAMP}.0, ${SIGMOID_CLAMP}.0)));
}`;
// Builtin tanh is (e^2x - 1)/(e^2x + 1) on many drivers: inf/inf = NaN for large |x|.
const H_TANH = `fn ab_tanh(x: f32) -> f32 {
  return tanh(clamp(x, -${TANH_CLAMP}.0, ${TANH_CLAMP}.0));
}`;
const H_ERF = `fn ab_erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - poly * exp(-a * a);
  return select(r, -r, x < 0.0);
}`;
// WGSL pow(x, y) is exp2(y * log2(x)): undefined for x < 0 and imprecise at 0. The reference
// is JS a ** b: negative bases with integer exponents keep their sign rule, others are NaN.
// inf/NaN come from bitcasts of runtime values: a constant inf/NaN is a shader-creation error.
const H_POW = `fn ab_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let bits = bitcast<u32>(a);
  let oddInt = fract(b) == 0.0 && fract(b * 0.5) != 0.0;
  if (a == 0.0) {
    let mag = select(bitcast<f32>(0x7f800000u | (bits & 0u)), 0.0, b > 0.0);
    return select(mag, -mag, oddInt && (bits & 0x80000000u) != 0u);
  }
  let m = pow(abs(a), b);
  if (a > 0.0) { return m; }
  if (fract(b) != 0.0) { return bitcast<f32>(0x7fc00000u | (bits & 0u)); }
  return select(m, -m, oddInt);
}`;

type UnarySpelling = (x: string, attrs: Attrs, h: HelperSink) => string;

const call = (h: HelperSink, name: string, code: string, args: string): string => `${h.helper(name, code)}(${args})`;

const UNARY_WGSL: Readonly<Record<string, UnarySpelling>> = {
  relu: (x) => `max(${x}, 0.0)`,
  leaky_relu: (x, a, h) => call(h, 'ab_leaky_relu', `fn ab_leaky_relu(x: f32, alpha: f32) -> f32 {
  return select(alpha * x, x, x >= 0.0);
}`, `${x}, ${f32Lit(numberAttr(a, 'alpha', 0.01))}`),
  sigmoid: (x, _a, h) => call(h, 'ab_sigmoid', H_SIGMOID, x),
  tanh: (x, _a, h) => call(h, 'ab_tanh', H_TANH, x),
  gelu: (x, a, h) => {
    if (stringAttr(a, 'approximate', 'none') === 'tanh') {
      h.helper('ab_tanh', H_TANH);
      return call(h, 'ab_gelu_tanh', `fn ab_gelu_tanh(x: f32) -> f32 {
  return 0.5 * x * (1.0 + ab_tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}`, x);
    }
    h.helper('ab_erf', H_ERF);
    return call(h, 'ab_gelu', `fn ab_gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + ab_erf(x * 0.7071067811865476));
}`, x);
  },
  silu: (x, _a, h) => {
    h.helper('ab_sigmoid', H_SIGMOID);
    return call(h, 'ab_silu', 'fn ab_silu(x: f32) -> f32 {\n  return x * ab_sigmoid(x);\n}', x);
  },
  hardsigmoid: (x, a) =>
    `min(max(${f32Lit(numberAttr(a, 'alpha', 0.2))} * ${x} + ${f32Lit(numberAttr(a, 'beta', 0.5))}, 0.0), 1.0)`,
  hardswish: (x, _a, h) => call(h, 'ab_hardswish', `fn ab_hardswish(x: f32) -> f32 {
  return x * min(max(x / 6.0 + 0.5, 0.0), 1.0);
}`, x),
  // min(max()) rather than clamp(): WGSL clamp may return the median when min > max.
  clip: (x, a) => `min(max(${x}, ${f32Lit(numberAttr(a, 'min', -Infinity))}), ${f32Lit(numberAttr(a, 'max', Infinity))})`,
  sqrt: (x) => `sqrt(${x})`,
  exp: (x) => `exp(${x})`,
  abs: (x) => `abs(${x})`,
  neg: (x) => `(-(${x}))`,
  erf: (x, _a, h) => call(h, 'ab_erf', H_ERF, x),
  affine: (x, a) => `(${x} * ${f32Lit(numberAttr(a, 'scale', 1))} + ${f32Lit(numberAttr(a, 'shift', 0))})`,
};

const BINARY_WGSL: Readonly<Record<string, (a: string, b: string, h: HelperSink) => string>> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b, h) => call(h, 'ab_pow', H_POW, `${a}, ${b}`),
};

export function isUnaryOp(op: string): boolean {
  return Object.hasOwn(UNARY_WGSL, op);
}

export function isBinaryOp(op: string): boolean {
  return Object.hasOwn(BINARY_WGSL, op);
}

/** Spellings splice operands next to operators, so anything but a plain name gets parentheses. */
function operand(x: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(x) ? x : `(${x})`;
}

export function unaryExpr(op: string, attrs: Attrs, x: string, h: HelperSink): string {
  const f = UNARY_WGSL[op];
  if (!f) throw new Error(`no WGSL spelling for unary op '${op}'`);
  return f(operand(x), attrs, h);
}

export function binaryExpr(op: string, a: string, b: string, h: HelperSink): string {
  const f = BINARY_WGSL[op];
  if (!f) throw new Error(`no WGSL spelling for binary op '${op}'`);
  return f(operand(a), operand(b), h);
}

/** The first epilogue op without a WGSL spelling, as a reason string (for `valid`). */
export function epilogueProblem(epi: Epilogue): string | undefined {
  const bad = epi.find((e) => !isUnaryOp(e.op));
  return bad ? `epilogue op '${bad.op}' has no WGSL spelling` : undefined;
}

/** `x` with the epilogue's unary ops applied in order. */
export function applyEpilogue(epi: Epilogue, x: string, h: HelperSink): string {
  return epi.reduce((acc, e) => unaryExpr(e.op, e.attrs, acc, h), x);
}

/** Canonical text of an epilogue for cache keys (attrs sorted so equal epilogues key equally). */
export function epilogueKey(epi: Epilogue): string {
  return epi.map((e) => {
    const attrs = Object.keys(e.attrs).sort().map((k) => `${k}=${JSON.stringify(e.attrs[k])}`);
    return attrs.length ? `${e.op}(${attrs.join(',')})` : e.op;
  }).join('>');
}
