// kernel-runner: compile errors surface as thrown messages with positions; bindings follow the
// convention even when the shader ignores an input; uniforms reach the shader; odd sizes pad.

import { describe, expect, it } from 'vitest';
import { ShaderBuilder } from '../../codegen/wgsl/shader.ts';
import { runKernel } from '../../src/runtime/kernel-runner.ts';
import { gpuForTests } from '../helpers/kernel-check.ts';

const ctx = await gpuForTests();

describe.skipIf(!ctx)('kernel-runner', () => {
  const gpu = ctx as NonNullable<typeof ctx>;

  it('rejects WGSL that does not compile with the compiler message and position', async () => {
    const bad = '@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }';
    await expect(runKernel(gpu, bad, { dispatch: [1, 1, 1], uniforms: [] }, [], [1])).rejects.toThrow(/does not compile: .*:1:\d+ error: /s);
  });

  it('binds inputs, outputs and uniforms by the convention (unused input included)', async () => {
    const uniforms = [{ name: 'scale', type: 'f32', value: 2.5 }, { name: 'count', type: 'u32', value: 3 }] as const;
    const b = new ShaderBuilder({ inputs: ['unused', 'x'], outputs: ['y'], uniforms: [...uniforms] });
    const wgsl = b.build([4, 1, 1], 'let i = groupIdx * 4u + lidx;\nif (i < params.count) { y[i] = x[i] * params.scale; }');
    const [y] = await runKernel(gpu, wgsl, { dispatch: [1, 1, 1], uniforms: [...uniforms] }, [new Float32Array(0), new Float32Array([1, 2, 3])], [3]);
    expect([...(y as Float32Array)]).toEqual([2.5, 5, 7.5]);
  });
});
