// Gather-style copy serving pad, slice, concat and split: each output element reads one element
// of one source through per-dim affine maps (codegen/problems.ts IndexMapProblem). Only dims
// that can leave the source's range get border code. Inputs are capped at 7 (storage bindings).

import type { KernelTemplate, KnobSpace } from '../kernel.ts';
import type { IndexMapProblem, IndexMapSource } from '../problems.ts';
import { borderCoord, decodeCoords, inRange, rowMajorOffset } from '../wgsl/coords.ts';
import { perElementBody, perElementDefaults, perElementKnobs, perElementLaunch, perElementProblem, type PerElementKnobs } from '../wgsl/per-element.ts';
import { f32Lit, i32Lit, type HelperSink, ShaderBuilder } from '../wgsl/shader.ts';
import { numel } from '../../src/ir/shape.ts';

export type IndexMapKnobs = PerElementKnobs;

const KNOBS: KnobSpace<IndexMapKnobs> = perElementKnobs();

/** WebGPU's guaranteed maxStorageBuffersPerShaderStage (8) minus the output. */
export const MAX_INDEX_MAP_SOURCES = 7;

/** Whether dim d of source s can be read outside [0, shape[d]) for the outputs it serves. */
function mayLeave(p: IndexMapProblem, s: IndexMapSource, d: number, to: number): boolean {
  const lo = d === p.selectAxis ? s.from : 0;
  const hi = (d === p.selectAxis ? to : (p.outShape[d] as number)) - 1;
  const a = (s.start[d] as number) + (s.step[d] as number) * lo;
  const b = (s.start[d] as number) + (s.step[d] as number) * hi;
  return Math.min(a, b) < 0 || Math.max(a, b) >= (s.shape[d] as number);
}

/** WGSL statements setting `v` from source j (outputs with select coordinate below `to`). */
function readSource(p: IndexMapProblem, j: number, to: number, h: HelperSink): string[] {
  const s = p.sources[j] as IndexMapSource;
  const lines: string[] = [];
  const coords: string[] = [];
  const checks: string[] = [];
  s.shape.forEach((n, d) => {
    const start = s.start[d] as number;
    const step = s.step[d] as number;
    const raw = start === 0 && step === 1 ? `o${d}` : `${i32Lit(start)} + ${i32Lit(step)} * o${d}`;
    if (!mayLeave(p, s, d, to)) {
      coords.push(raw);
      return;
    }
    lines.push(`let c${d} = ${raw};`);
    if (p.border.mode === 'constant') checks.push(inRange(`c${d}`, n));
    coords.push(borderCoord(p.border.mode, `c${d}`, n, h));
  });
  const read = `v = in${j}[${rowMajorOffset(coords, s.shape)}];`;
  return [...lines, checks.length ? `if (${checks.join(' && ')}) { ${read} }` : read];
}

export const indexMapTemplate: KernelTemplate<IndexMapProblem, IndexMapKnobs> = {
  name: 'index-map',
  knobs: KNOBS,

  valid(p, k, dev) {
    const r = p.outShape.length;
    if (!p.sources.length || p.sources.length > MAX_INDEX_MAP_SOURCES) return `${p.sources.length} sources (1..${MAX_INDEX_MAP_SOURCES} fit the storage-binding limit)`;
    if (p.sources.some((s) => s.shape.length !== r || s.start.length !== r || s.step.length !== r)) return 'source ranks differ from the output rank';
    if (p.sources.length > 1 && (p.selectAxis < 0 || p.selectAxis >= r)) return `select axis ${p.selectAxis} out of range`;
    if (p.sources.some((s, j) => j > 0 && s.from <= (p.sources[j - 1] as IndexMapSource).from)) return 'sources must be ordered by `from`';
    const n = numel(p.outShape);
    if (n < 1 || p.sources.some((s) => numel(s.shape) < 1)) return 'empty tensor';
    if (p.sources.some((s) => numel(s.shape) > 0x7fffffff)) return 'tensor too large for 32-bit indexing';
    return perElementProblem(n, k, dev, 0x7fffffff) ?? true;
  },

  key(p) {
    const src = p.sources.map((s) => `[${s.shape.join(',')}]@${s.from}s${s.start.join(',')}x${s.step.join(',')}`);
    return `out[${p.outShape.join(',')}];axis${p.selectAxis};${src.join(';')};${p.border.mode}${p.border.mode === 'constant' ? p.border.value : ''}`;
  },

  source(p, k) {
    const b = new ShaderBuilder({ inputs: p.sources.map((_, j) => `in${j}`), outputs: ['out'] });
    const last = p.sources.length - 1;
    const axisEnd = p.outShape[p.selectAxis] ?? 0;
    const select: string[] = [];
    p.sources.forEach((_, j) => {
      const to = j < last ? (p.sources[j + 1] as IndexMapSource).from : axisEnd;
      const code = readSource(p, j, to, b).map((l) => `  ${l}`);
      const head = j === 0 ? (last === 0 ? '{' : `if (o${p.selectAxis} < ${i32Lit(to)}) {`) : j < last ? `} else if (o${p.selectAxis} < ${i32Lit(to)}) {` : '} else {';
      select.push(head, ...code);
    });
    select.push('}');
    const body = perElementBody(numel(p.outShape), k, [
      ...decodeCoords(p.outShape, 'i', 'o'),
      `var v = ${f32Lit(p.border.mode === 'constant' ? p.border.value : 0)};`,
      ...select,
      'out[i] = v;',
    ]);
    return b.build([k.workgroupSize, 1, 1], body);
  },

  launch(p, k) {
    return perElementLaunch(numel(p.outShape), k);
  },

  defaults(p) {
    return perElementDefaults(numel(p.outShape));
  },
};
