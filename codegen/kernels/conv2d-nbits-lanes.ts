// Quantized conv2d (weights packed b-bit along K = C/group*kH*kW, conv2d_nbits) on conv2d-lanes'
// register GEMM: the weights are the GEMM's A, whose rows are uniform per workgroup, so each code is
// decoded and dequantized once per K step as a workgroup-uniform value and reused by every lane's
// pixels. Same geometry, bias and epilogue support and the same size limits as conv2d-lanes.
// A tuner alternative: on lavapipe the decode per K step (8 rows) costs as much as the 64 FMAs it
// feeds, so conv2d-nbits-direct (weights dequantized once per workgroup) stays the default.

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { Conv2dNBitsProblem } from '../problems.ts';
import { defaultLaneTiling, LANE_GEMM_SPACE, laneGemmGroups, laneTilingProblem, type LaneGemmTiling } from '../wgsl/lane-gemm.ts';
import { packedProblem, packedWeightFn } from '../wgsl/packed.ts';
import { foldDispatch, ShaderBuilder, u32Lit } from '../wgsl/shader.ts';
import { convShapeProblem } from './conv2d-direct.ts';
import { convGemmDims, convLanesBody, convLanesProblem, convVec4Ok } from './conv2d-lanes.ts';
import { conv2dNBitsInputs, conv2dNBitsTemplate, packedOf } from './conv2d-nbits.ts';

export type Conv2dNBitsLanesKnobs = LaneGemmTiling;

const KNOBS: KnobSpace<Conv2dNBitsLanesKnobs> = LANE_GEMM_SPACE;

export const conv2dNBitsLanesTemplate: KernelTemplate<Conv2dNBitsProblem, Conv2dNBitsLanesKnobs> = {
  name: 'conv2d-nbits-lanes',
  knobs: KNOBS,

  valid(p, k, dev) {
    return convLanesProblem(p) ?? convShapeProblem({ ...p, kind: 'conv2d' }) ?? packedProblem(packedOf(p))
      ?? laneTilingProblem({ ...k, ...convGemmDims(p) }, convVec4Ok(p), dev) ?? true;
  },

  // Same WGSL inputs as the other conv2d_nbits templates: the problem fixes everything baked in.
  key: (p) => conv2dNBitsTemplate.key(p),

  source(p, k) {
    const v4 = k.vec === 4;
    const inputs = conv2dNBitsInputs(p);
    const b = new ShaderBuilder({
      inputs, inputTypes: inputs.map((n) => (n === 'words' ? 'u32' : n === 'x' && v4 ? 'vec4<f32>' : 'f32')),
      outputs: ['out'], outputTypes: [v4 ? 'vec4<f32>' : 'f32'],
    });
    const weight = packedWeightFn(b, packedOf(p));
    return b.build([k.lanes, 1, 1], convLanesBody(b, p, k, {
      load: (m, kk, d) => `${weight}(g * ${u32Lit(d.M)} + ${m}, ${kk})`,
      // words holds >= K bits per row, so 32 * its length >= K.
      kBound: 'arrayLength(&words) * 32u',
    }));
  },

  launch(p, k) {
    return { dispatch: foldDispatch(laneGemmGroups({ ...k, ...convGemmDims(p) })), uniforms: [] };
  },

  defaults(p) {
    return defaultLaneTiling(p.M / p.group, convVec4Ok(p));
  },
};
