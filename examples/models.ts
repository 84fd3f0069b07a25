// Two example models built with the builder API: a small MLP (symbolic batch) and a small CNN.
// Weights are seeded random values scaled like a default initialisation.

import { GraphBuilder } from '../src/ir/builder.ts';
import type { Graph } from '../src/ir/graph.ts';
import { tensor } from '../src/ir/tensor.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';

function weights(b: GraphBuilder, rand: () => number, name: string, shape: number[], fanIn: number): string {
  const n = shape.reduce((a, d) => a * d, 1);
  return b.initializer(name, tensor('f32', shape, uniformF32(n, rand, 1 / Math.sqrt(fanIn))));
}

/** x[batch, 64] -> 128 (gelu) -> 96 (silu) -> 10. PyTorch-style [out, in] weights. */
export function buildMlp(seed = 1): Graph {
  const rand = mulberry32(seed);
  const b = new GraphBuilder('mlp');
  let h = b.input('x', 'f32', ['batch', 64]);
  const sizes = [64, 128, 96, 10];
  const acts = ['gelu', 'silu', ''];
  for (let i = 0; i < 3; i++) {
    const w = weights(b, rand, `fc${i + 1}.weight`, [sizes[i + 1] as number, sizes[i] as number], sizes[i] as number);
    const bias = weights(b, rand, `fc${i + 1}.bias`, [sizes[i + 1] as number], sizes[i] as number);
    h = b.op('gemm', [h, w, bias], { transB: 1 }, { name: `fc${i + 1}`, ...(i === 2 ? { output: 'y' } : {}) });
    if (acts[i]) h = b.op(acts[i] as string, [h], {}, { name: `act${i + 1}` });
  }
  b.output(h);
  return b.build();
}

/** x[1, 3, 32, 32] -> conv/relu -> strided conv/hardswish -> depthwise conv + residual -> NHWC -> gemm -> y[1, 10]. */
export function buildCnn(seed = 2): Graph {
  const rand = mulberry32(seed);
  const b = new GraphBuilder('cnn');
  const x = b.input('x', 'f32', [1, 3, 32, 32]);
  const c1 = b.op('conv2d', [x, weights(b, rand, 'conv1.weight', [8, 3, 3, 3], 27), weights(b, rand, 'conv1.bias', [8], 27)], { pads: [1, 1, 1, 1] }, { name: 'conv1' });
  const a1 = b.op('relu', [c1], {}, { name: 'relu1' });
  const c2 = b.op('conv2d', [a1, weights(b, rand, 'conv2.weight', [16, 8, 3, 3], 72), weights(b, rand, 'conv2.bias', [16], 72)], { pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'conv2' });
  const a2 = b.op('hardswish', [c2], {}, { name: 'hswish2' });
  const dw = b.op('conv2d', [a2, weights(b, rand, 'dw.weight', [16, 1, 3, 3], 9)], { pads: [1, 1, 1, 1], group: 16 }, { name: 'dw' });
  const gate = b.op('sigmoid', [dw], {}, { name: 'gate' });
  const mixed = b.op('mul', [a2, gate], {}, { name: 'mix' });
  const res = b.op('add', [mixed, a2], {}, { name: 'residual' });
  const nhwc = b.op('transpose', [res], { perm: [0, 2, 3, 1] }, { name: 'to_nhwc' });
  const flat = b.op('reshape', [nhwc], { shape: [1, -1] }, { name: 'flatten' });
  const y = b.op('gemm', [flat, weights(b, rand, 'fc.weight', [10, 4096], 4096), weights(b, rand, 'fc.bias', [10], 4096)], { transB: 1 }, { name: 'fc', output: 'y' });
  b.output(y);
  return b.build();
}
