// Spatial attributes of ONNX Conv / ConvTranspose / pooling nodes resolved to the IR's explicit
// form: auto_pad (SAME_UPPER, SAME_LOWER, VALID) becomes pads [top, left, bottom, right], and
// ConvTranspose output_shape becomes pads. Only 2-D (NCHW) windows are handled.

import type { NodeCtx } from './context.ts';

export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pads: [number, number, number, number];
}

const pair = (v: readonly number[] | undefined, d: number): [number, number] => [v?.[0] ?? d, v?.[1] ?? d];

/** Pads of a Conv or pooling window over input spatial size `inHW` (auto_pad resolved). */
export function window2d(c: NodeCtx, kernel: readonly [number, number], inHW: readonly (number | string)[]): Window2d {
  const strides = pair(c.ints('strides'), 1);
  const dilations = pair(c.ints('dilations'), 1);
  const autoPad = c.str('auto_pad', 'NOTSET');
  let pads: [number, number, number, number] = [0, 0, 0, 0];
  if (autoPad === 'NOTSET') {
    const p = c.ints('pads') ?? [0, 0, 0, 0];
    if (p.length !== 4) c.fail(`expected 4 pads for a 2-D window, got [${p.join(',')}]`);
    pads = [p[0] as number, p[1] as number, p[2] as number, p[3] as number];
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let a = 0; a < 2; a++) {
      const size = inHW[a];
      if (typeof size !== 'number') c.fail(`auto_pad ${autoPad} needs a known input size, dim ${a + 2} is '${size}'; bind the input's dims`);
      const s = strides[a] as number;
      const out = Math.ceil(size / s);
      const total = Math.max(0, (out - 1) * s + ((kernel[a] as number) - 1) * (dilations[a] as number) + 1 - size);
      const small = Math.floor(total / 2);
      pads[a] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[a + 2] = total - (pads[a] as number);
    }
  } else if (autoPad !== 'VALID') {
    c.fail(`unknown auto_pad '${autoPad}'`);
  }
  return { kernel, strides, dilations, pads };
}

/** ConvTranspose: pads and output_padding, with output_shape / auto_pad turned into pads. */
export function transposeWindow(c: NodeCtx, kernel: readonly [number, number], inHW: readonly (number | string)[]): Window2d & { outputPadding: [number, number] } {
  const strides = pair(c.ints('strides'), 1);
  const dilations = pair(c.ints('dilations'), 1);
  const outputPadding = pair(c.ints('output_padding'), 0);
  const autoPad = c.str('auto_pad', 'NOTSET');
  const p = c.ints('pads') ?? [0, 0, 0, 0];
  let pads: [number, number, number, number] = [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0];
  const outShape = c.ints('output_shape');
  if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = [0, 0, 0, 0];
    for (let a = 0; a < 2; a++) {
      const size = inHW[a];
      if (typeof size !== 'number') c.fail(`output_shape/auto_pad needs a known input size, dim ${a + 2} is '${size}'`);
      const s = strides[a] as number;
      const want = outShape ? (outShape[outShape.length - 2 + a] as number) : size * s;
      const total = s * (size - 1) + (outputPadding[a] as number) + ((kernel[a] as number) - 1) * (dilations[a] as number) + 1 - want;
      if (total < 0) c.fail(`output_shape ${want} is larger than the transposed convolution can produce`);
      const half = Math.floor(total / 2);
      pads[a] = autoPad === 'SAME_UPPER' ? half : total - half;
      pads[a + 2] = total - (pads[a] as number);
    }
  }
  return { kernel, strides, dilations, pads, outputPadding };
}
