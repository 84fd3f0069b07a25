// Correctly rounded divisions for quantize_act, whose scale, zero and codes must equal the
// float64 reference bit for bit: WGSL's `/` is only accurate to 2.5 ulp. The scale is an exact
// integer long division; round-half-even quotients are decided by exact f32 comparisons (products
// of 12-bit halves are exact). Not handled: subnormal operands on devices that flush them.

import type { HelperSink } from './shader.ts';

/**
 * `ab_act_scale(d, top) -> f32`: d / top correctly rounded (d >= 0, top integer 3..255), or 1 when
 * that is below 2^-126 or d is zero, subnormal, infinite or NaN (src/quant/act.ts's rule).
 */
export function exactScaleFn(h: HelperSink): string {
  return h.helper('ab_act_scale', [
    'fn ab_act_scale(d: f32, top: u32) -> f32 {',
    '  let bits = bitcast<u32>(d);',
    '  let e = (bits >> 23u) & 0xffu;',
    '  if (e == 0u || e == 255u || (bits >> 31u) != 0u) { return 1.0; }',
    // d = m * 2^(e - 150); m / top = (q1 * 2^24 + fr + r2 / top) / 2^24, q1 of L = 16..23 bits.
    '  let m = (bits & 0x7fffffu) | 0x800000u;',
    '  let q1 = m / top;',
    '  let r1 = m % top;',
    '  let fr = (r1 << 24u) / top;',
    '  let sticky = ((r1 << 24u) % top) != 0u;',
    '  let L = firstLeadingBit(q1) + 1u;',
    '  var mant = (q1 << (24u - L)) | (fr >> L);',
    '  let rem = fr & ((1u << L) - 1u);',
    '  let half = 1u << (L - 1u);',
    '  if (rem > half || (rem == half && (sticky || (mant & 1u) == 1u))) { mant += 1u; }',
    '  var E = i32(e) + i32(L) - 24i;',
    '  if (mant == 0x1000000u) { mant = 0x800000u; E += 1i; }',
    '  if (E < 1i) { return 1.0; }',
    '  return bitcast<f32>((u32(E) << 23u) | (mant & 0x7fffffu));',
    '}',
  ].join('\n'));
}

/**
 * `ab_round_div(u, s) -> u32`: roundEven(u / s) exactly for u >= 0 and a normal s > 0, saturating
 * at 1024 (callers clamp codes to at most 255, so larger quotients never matter).
 */
export function exactRoundDivFn(h: HelperSink): string {
  // sign(u2 - k * s) exactly for integers |k| < 4096: s = sh + sl with 12-bit halves, so k * sh and
  // k * sl are exact; u2 - k * sh is exact when the two are within 2x (Sterbenz), and otherwise
  // far enough apart that the k * sl term cannot change the sign.
  h.helper('ab_cmp_mul', [
    'fn ab_cmp_mul(u2: f32, s: f32, k: f32) -> i32 {',
    '  let sh = bitcast<f32>(bitcast<u32>(s) & 0xfffff000u);',
    '  let sl = s - sh;',
    '  let t = u2 - k * sh;',
    '  let q = k * sl;',
    '  return select(select(0i, -1i, t < q), 1i, t > q);',
    '}',
  ].join('\n'));
  return h.helper('ab_round_div', [
    'fn ab_round_div(u: f32, s: f32) -> u32 {',
    '  let f = u / s;',
    // The approximate quotient is within a few ulp: the true rounding is n - 1, n or n + 1.
    '  if (!(f < 1023.0)) { return 1024u; }',
    '  let n = round(f);',
    '  let nu = u32(n);',
    '  let u2 = 2.0 * u;',
    '  let below = ab_cmp_mul(u2, s, 2.0 * n - 1.0);',
    '  if (below < 0i) { return nu - 1u; }',
    '  if (below == 0i) { return select(nu - 1u, nu, (nu & 1u) == 0u); }',
    '  let above = ab_cmp_mul(u2, s, 2.0 * n + 1.0);',
    '  if (above > 0i) { return nu + 1u; }',
    '  if (above == 0i) { return select(nu + 1u, nu, (nu & 1u) == 0u); }',
    '  return nu;',
    '}',
  ].join('\n'));
}
