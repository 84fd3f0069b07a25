// The quantize pass on convs: interp(quantized graph) equals interp(the float graph with each
// quantized conv weight replaced by its dequantized values), exactly, over random conv chains
// (groups, stride, pads, dilation, bias, widths 1–8, quant groups, layouts); depthwise convs and
// the CNN ends stay float by default; a weight read by two convs is packed once.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { convOutSize } from '../../src/ir/ops/conv.ts';
import { tensor } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { quantLayers } from '../../src/cli/quant-cli.ts';
import { interpret } from '../../src/interp/interpreter.ts';
import { passContext } from '../../src/passes/pass.ts';
import { quantizePass, type QuantizeOptions } from '../../src/passes/quantize/quantize-pass.ts';
import { dequantize, type PackedLayout, type QuantizedWeight } from '../../src/quant/format.ts';
import { mulberry32, uniformF32 } from '../../src/util/random.ts';
import { fcParams, inputsFor } from './arbitraries.ts';

interface ConvLayer { readonly M: number; readonly k: readonly [number, number]; readonly stride: number; readonly pad: number; readonly dil: number; readonly grouped: boolean; readonly bias: boolean }

const layerArb: fc.Arbitrary<ConvLayer> = fc.record({
  M: fc.constantFrom(1, 2, 3, 4, 6), k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  stride: fc.integer({ min: 1, max: 2 }), pad: fc.nat(1), dil: fc.integer({ min: 1, max: 2 }), grouped: fc.boolean(), bias: fc.boolean(),
});

/** x[1, C, H, W] -> conv -> relu -> conv ... (groups = gcd-ish divisor of both channel counts when `grouped`). */
function convChain(C: number, H: number, W: number, layers: readonly ConvLayer[], seed: number): Graph {
  const rand = mulberry32(seed);
  const b = new GraphBuilder('convs');
  let x = b.input('x', 'f32', [1, C, H, W]);
  let [c, h, w] = [C, H, W];
  layers.forEach((l, i) => {
    const oh = convOutSize(h, l.k[0], l.stride, l.pad, l.pad, l.dil);
    const ow = convOutSize(w, l.k[1], l.stride, l.pad, l.pad, l.dil);
    if (oh < 1 || ow < 1) return;
    const group = l.grouped && c % 2 === 0 && l.M % 2 === 0 ? 2 : 1;
    const wt = b.initializer(`w${i}`, tensor('f32', [l.M, c / group, l.k[0], l.k[1]], uniformF32(l.M * (c / group) * l.k[0] * l.k[1], rand)));
    const args = [x, wt, ...(l.bias ? [b.initializer(`b${i}`, tensor('f32', [l.M], uniformF32(l.M, rand)))] : [])];
    const y = b.op('conv2d', args, { strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], dilations: [l.dil, l.dil], group }, { name: `conv${i}` });
    x = b.op('relu', [y]);
    [c, h, w] = [l.M, oh, ow];
  });
  b.output(x);
  return b.build();
}

/** The float graph with each conv2d_nbits weight replaced by its dequantized values (float64). */
function dequantizedTwin(src: Graph, q: Graph): Graph {
  const inits = new Map(src.initializers);
  for (const n of q.nodes) {
    if (n.op !== 'conv2d_nbits') continue;
    const wName = src.nodes.find((m) => m.name === n.name)?.inputs[1] as string;
    const get = (v: string | undefined) => q.initializers.get(v as string)?.data;
    const qw: QuantizedWeight = {
      N: n.attrs['N'] as number, K: n.attrs['K'] as number, bits: n.attrs['bits'] as number, group: n.attrs['group'] as number,
      layout: n.attrs['layout'] as PackedLayout, words: get(n.inputs[1]) as Uint32Array,
      scales: get(n.inputs[2]) as Float32Array, zeros: get(n.inputs[3]) as Float32Array,
    };
    // W[M, C/g, kH, kW] row-major is exactly the [N, K] matrix the pass quantized.
    inits.set(wName, tensor('f32', src.initializers.get(wName)?.shape as number[], dequantize(qw)));
  }
  return { ...src, initializers: inits };
}

const optionsArb: fc.Arbitrary<QuantizeOptions> = fc.record({
  bits: fc.integer({ min: 1, max: 8 }), group: fc.constantFrom(0, 5, 7, 32, 128), symmetric: fc.boolean(),
  method: fc.constantFrom<'rtn' | 'mse'>('rtn', 'mse'), layout: fc.constantFrom<PackedLayout>('dense', 'planes'), keepEnds: fc.constant(false),
});

describe('quantize pass on conv2d', () => {
  it('interp(quantized) equals interp(float graph with dequantized conv weights), exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 3, max: 9 }), fc.array(layerArb, { minLength: 1, maxLength: 3 }), optionsArb, fc.nat(),
      (C, H, W, layers, opts, seed) => {
        const g = convChain(C, H, W, layers, seed);
        const convs = g.nodes.filter((n) => n.op === 'conv2d');
        fc.pre(convs.length > 0);
        const r = quantizePass(opts).run(g, passContext(true));
        expect(verifyGraph(r.graph)).toEqual([]);
        // Convs with one input channel per group (depthwise) stay float.
        const depthwise = convs.filter((n) => n.attrs['group'] === 2 && g.initializers.get(n.inputs[1] as string)?.shape[1] === 1);
        expect(r.graph.nodes.filter((n) => n.op === 'conv2d_nbits')).toHaveLength(convs.length - depthwise.length);
        expect(r.graph.nodes.filter((n) => n.op === 'conv2d')).toHaveLength(depthwise.length);
        const inputs = inputsFor(g, seed);
        const out = g.outputs[0] as string;
        const got = interpret(r.graph, inputs).get(out)?.data as Float64Array;
        const want = interpret(dequantizedTwin(g, r.graph), inputs).get(out)?.data as Float64Array;
        expect(Array.from(got)).toEqual(Array.from(want));
      }), fcParams(60));
  });

  it('keeps the CNN ends and depthwise convs float by default; a shared weight is packed once', () => {
    const rand = mulberry32(5);
    const b = new GraphBuilder('cnn');
    const x = b.input('x', 'f32', [1, 4, 6, 6]);
    const w = (name: string, shape: number[]) => b.initializer(name, tensor('f32', shape, uniformF32(shape.reduce((s, d) => s * d, 1), rand)));
    const pads = [1, 1, 1, 1];
    const first = b.op('conv2d', [x, w('w0', [4, 4, 3, 3])], { pads }, { name: 'first' });
    const shared = w('ws', [4, 4, 3, 3]);
    const a = b.op('conv2d', [first, shared], { pads }, { name: 'a' });
    const c = b.op('conv2d', [a, shared], { pads }, { name: 'c' });
    const dw = b.op('conv2d', [c, w('wd', [4, 1, 3, 3])], { pads, group: 4 }, { name: 'dw' });
    b.output(b.op('conv2d', [dw, w('wl', [2, 4, 1, 1])], {}, { name: 'last' }));
    const g = b.build();
    const ctx = passContext(true);
    const r = quantizePass({ bits: 4 }).run(g, ctx);
    expect(r.graph.nodes.map((n) => `${n.name}:${n.op}`)).toEqual(['first:conv2d', 'a:conv2d_nbits', 'c:conv2d_nbits', 'dw:conv2d', 'last:conv2d']);
    expect(r.stats).toMatchObject({ quantized: 2, kept: 2, convFloat: 1, floatWeightBytes: 4 * 36 * 4 });
    const [na, nc] = r.graph.nodes.filter((n) => n.op === 'conv2d_nbits');
    expect(na?.inputs.slice(1, 4)).toEqual(nc?.inputs.slice(1, 4));
    // Plain `bits: 4` floors convs at 8 bits (DEFAULT_CONV_BITS_FLOOR); convBits asks for fewer.
    expect(na?.attrs).toMatchObject({ N: 4, K: 36, bits: 8, group: 36, groups: 1, kernel_shape: [3, 3], pads });
    expect(ctx.diag.some((d) => d.node === 'dw' && d.message.includes('depthwise'))).toBe(true);
    expect(r.graph.initializers.has('ws')).toBe(false);
    // `anybit inspect` lists quantized convs like matmuls.
    expect(quantLayers(r.graph).map((l) => `${l.node} W${l.bits} K${l.K}`)).toEqual(['a W8 K36', 'c W8 K36']);
    const low = quantizePass({ bits: 4, convBits: 3 }).run(g, passContext(true)).graph;
    expect(quantLayers(low).map((l) => `${l.node} W${l.bits}`)).toEqual(['a W3', 'c W3']);
  });
});
