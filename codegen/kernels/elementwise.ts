// Fused elementwise DAG: one invocation computes `elemsPerThread` outputs (workgroup-strided so
// neighbouring invocations touch neighbouring elements), reading each input through its own
// broadcast offset function. Shapes are baked. Does not vectorise loads (no vec4 path yet).

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { ElementwiseProblem } from '../problems.ts';
import { binaryExpr, isBinaryOp, isUnaryOp, unaryExpr } from '../wgsl/expr.ts';
import { perElementBody, perElementDefaults, perElementKnobs, perElementLaunch, perElementProblem, type PerElementKnobs } from '../wgsl/per-element.ts';
import { coalesceDims, offsetFn, ShaderBuilder } from '../wgsl/shader.ts';
import { broadcastStrides, numel, stridesOf } from '../../src/ir/shape.ts';

export type ElementwiseKnobs = PerElementKnobs;

const KNOBS: KnobSpace<ElementwiseKnobs> = perElementKnobs(8);

function stepProblem(p: ElementwiseProblem): string | undefined {
  for (const [i, s] of p.steps.entries()) {
    const known = s.args.length === 1 ? isUnaryOp(s.op) : s.args.length === 2 && isBinaryOp(s.op);
    if (!known) return `step ${i}: no WGSL spelling for '${s.op}' with ${s.args.length} args`;
    for (const a of s.args) {
      if ('input' in a ? a.input >= p.inputShapes.length : a.step >= i) return `step ${i} reads a value not yet defined`;
    }
  }
  if (!p.steps.length && p.inputShapes.length !== 1) return 'an empty DAG copies exactly one input';
  return undefined;
}

/** The per-input offset expressions for flat output index `i` (shared functions for equal stride patterns). */
function inputOffsets(b: ShaderBuilder, p: ElementwiseProblem): string[] {
  const out = p.outShape;
  const all = [stridesOf(out), ...p.inputShapes.map((s) => broadcastStrides(s, out))];
  const c = coalesceDims(out, all);
  const own = c.strides[0] as number[];
  const fns = new Map<string, string>();
  return p.inputShapes.map((_, j) => {
    const st = c.strides[j + 1] as number[];
    if (st.every((s) => s === 0)) return '0u';
    if (st.every((s, d) => s === own[d])) return 'i';
    const sig = st.join(',');
    let name = fns.get(sig);
    if (!name) {
      name = `offset${fns.size}`;
      fns.set(sig, name);
      b.helper(name, offsetFn(name, c.shape, st));
    }
    return `${name}(i)`;
  });
}

export const elementwiseTemplate: KernelTemplate<ElementwiseProblem, ElementwiseKnobs> = {
  name: 'elementwise',
  knobs: KNOBS,

  valid(p, k, dev) {
    const bad = stepProblem(p);
    if (bad) return bad;
    return perElementProblem(numel(p.outShape), k, dev) ?? true;
  },

  key(p) {
    const steps = p.steps.map((s) => `${s.op}${JSON.stringify(s.attrs)}(${s.args.map((a) => ('input' in a ? `i${a.input}` : `s${a.step}`)).join(',')})`);
    return `out[${p.outShape.join(',')}];in${p.inputShapes.map((s) => `[${s.join(',')}]`).join('')};${steps.join(';')}`;
  },

  source(p, k) {
    const names = p.inputShapes.map((_, j) => `in${j}`);
    const b = new ShaderBuilder({ inputs: names, outputs: ['out'] });
    const offsets = inputOffsets(b, p);
    const used = new Set<number>();
    const arg = (a: ElementwiseProblem['steps'][number]['args'][number]): string => {
      if ('input' in a) {
        used.add(a.input);
        return `x${a.input}`;
      }
      return `s${a.step}`;
    };
    const stepLines = p.steps.map((s, i) => {
      const args = s.args.map(arg);
      const e = args.length === 1 ? unaryExpr(s.op, s.attrs, args[0] as string, b) : binaryExpr(s.op, args[0] as string, args[1] as string, b);
      return `let s${i} = ${e};`;
    });
    if (!p.steps.length) used.add(0);
    const loads = [...used].sort((x, y) => x - y).map((j) => `let x${j} = in${j}[${offsets[j]}];`);
    const result = p.steps.length ? `s${p.steps.length - 1}` : 'x0';
    const body = perElementBody(numel(p.outShape), k, [...loads, ...stepLines, `out[i] = ${result};`]);
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return perElementLaunch(numel(p.outShape), k);
  },

  defaults(p) {
    return perElementDefaults(numel(p.outShape));
  },
};
