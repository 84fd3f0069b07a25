// Reading models and tensors for the CLI: model files by extension, `--input` specs
// (NAME=DIMxDIM for shapes, NAME=file.npy for data), and the graph stored inside a bundle.

import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Graph } from '../ir/graph.ts';
import { parseGraph } from '../ir/parse.ts';
import { importOnnx } from '../onnx/import.ts';
import { loadGraph } from '../ir/serialize.ts';
import { tensor } from '../ir/tensor.ts';
import { readNpy } from '../io/npy.ts';
import type { BundleData, IoSpec } from '../runtime/manifest.ts';
import { UserError } from './errors.ts';
import { loadAbitModel } from '../../dsl/program.ts';
import type { AnnotationRecord } from '../../dsl/to-ir.ts';
import { openWeights } from '../weights/index.ts';
import { decodePng } from '../io/png.ts';

/** Reads a model by extension; `inputShapes` lets ONNX Shape-driven subgraphs fold at import. */
export async function loadModel(file: string, inputShapes: Readonly<Record<string, readonly number[]>> = {}, abit: AbitOptions = {}): Promise<Graph> {
  if (!existsSync(file)) throw new UserError(`model file '${file}' does not exist`);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.abit') return loadAbit(file, inputShapes, abit);
  if (abit.weights !== undefined || abit.set?.length) throw new UserError(`--weights and --set apply to .abit models only, not '${file}'`);
  if (ext === '.abir') return loadGraph(file);
  if (ext === '.onnx') return importOnnx(new Uint8Array(await fs.readFile(file)), { file, inputShapes });
  throw new UserError(`'${file}': unsupported model format '${ext || '(none)'}' (this version reads .abir IR files and .onnx models)`);
}

/** DSL-only options: a checkpoint to bind `param`s from, and `--set NAME=VALUE` overrides. */
export interface AbitOptions { readonly weights?: string | undefined; readonly set?: readonly string[] | undefined }

function loadAbit(file: string, inputShapes: Readonly<Record<string, readonly number[]>>, o: AbitOptions): Graph {
  const set: Record<string, number> = {};
  for (const s of o.set ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)$/.exec(s);
    if (!m) throw new UserError(`--set '${s}': expected NAME=NUMBER (e.g. blocks=4)`);
    set[m[1] as string] = Number(m[2]);
  }
  const weights = o.weights !== undefined ? openWeights(o.weights) : undefined;
  const r = loadAbitModel(file, { set, inputShapes, ...(weights ? { weights } : {}) });
  if (r.annotations.size) ANNOTATIONS.set(r.graph, r.annotations);
  return r.graph;
}

// DSL annotations (`@quant`, `@keep`) of graphs loaded from .abit, for the quantization options.
const ANNOTATIONS = new WeakMap<Graph, ReadonlyMap<string, readonly AnnotationRecord[]>>();

/** The DSL annotation side table of a graph returned by loadModel (node name -> records). */
export function modelAnnotations(g: Graph): ReadonlyMap<string, readonly AnnotationRecord[]> | undefined {
  return ANNOTATIONS.get(g);
}

/** NAME=DIMxDIM... -> shapes. */
export function parseShapeSpecs(specs: readonly string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of specs) {
    const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(s);
    if (!m) throw new UserError(`--input '${s}': expected NAME=DIMxDIM... (e.g. x=1x3x32x32)`);
    out[m[1] as string] = (m[2] as string).split('x').map(Number);
  }
  return out;
}

/** NAME=file.npy -> f32 data checked against the bundle's input specs. */
export async function readInputFiles(specs: readonly string[], inputs: readonly IoSpec[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const s of specs) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--input '${s}': expected NAME=FILE.npy`);
    const name = s.slice(0, eq);
    const file = s.slice(eq + 1);
    const spec = inputs.find((i) => i.name === name);
    if (!spec) throw new UserError(`--input ${name}: the bundle has no input '${name}' (inputs: ${inputs.map((i) => i.name).join(', ')})`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(file));
    } catch (e) {
      throw new UserError(`--input ${name}: cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (file.toLowerCase().endsWith('.png')) {
      out.set(name, pngInput(bytes, name, file, spec));
      continue;
    }
    if (!file.toLowerCase().endsWith('.npy')) throw new UserError(`--input ${name}: '${file}' is not a .npy or .png file`);
    let arr: ReturnType<typeof readNpy>;
    try {
      arr = readNpy(bytes);
    } catch (e) {
      throw new UserError(`--input ${name}: '${file}': ${(e as Error).message}`);
    }
    if (arr.dtype !== '<f4') throw new UserError(`--input ${name}: '${file}' holds dtype ${arr.dtype}, the model expects float32 (<f4)`);
    if (arr.shape.length !== spec.shape.length || arr.shape.some((d, i) => d !== spec.shape[i])) {
      throw new UserError(`--input ${name}: '${file}' has shape [${arr.shape.join(',')}], the model expects [${spec.shape.join(',')}]`);
    }
    out.set(name, arr.data as Float32Array);
  }
  const missing = inputs.filter((i) => !out.has(i.name));
  if (missing.length) throw new UserError(`missing --input for ${missing.map((i) => `${i.name} (f32[${i.shape.join(',')}])`).join(', ')}`);
  return out;
}

/** The source graph a bundle was compiled from, with its weights restored from weights.bin. */
export async function graphOfBundle(dir: string, bundle: BundleData): Promise<Graph> {
  const file = path.join(dir, 'model.abir');
  if (!existsSync(file)) throw new UserError(`${dir}: bundle has no model.abir; recompile it to tune`);
  const g = parseGraph(await fs.readFile(file, 'utf8'), { file, elided: 'zeros' });
  const inits = new Map(g.initializers);
  for (const w of bundle.manifest.weights.tensors) {
    const t = inits.get(w.name);
    if (!t) continue;
    const raw = bundle.weights.buffer.slice(bundle.weights.byteOffset + w.offset, bundle.weights.byteOffset + w.offset + w.bytes);
    // Packed quantized words travel as raw u32; every other weight is stored as f32.
    inits.set(w.name, t.dtype === 'u32' ? tensor('u32', t.shape, new Uint32Array(raw)) : tensor('f32', t.shape, new Float32Array(raw)));
  }
  return { ...g, initializers: inits };
}

/** A PNG as NCHW f32 in [0, 1]; its size must match the shape the bundle was compiled for. */
function pngInput(bytes: Uint8Array, name: string, file: string, spec: IoSpec): Float32Array {
  const c = spec.shape[1];
  if (spec.shape.length !== 4 || spec.shape[0] !== 1 || (c !== 1 && c !== 3)) {
    throw new UserError(`--input ${name}: '${file}' is a PNG, but input '${name}' is f32[${spec.shape.join(',')}], not an image [1, 1 or 3, H, W]`);
  }
  let img: ReturnType<typeof decodePng>;
  try {
    img = decodePng(bytes, c);
  } catch (e) {
    throw new UserError(`--input ${name}: '${file}': ${(e as Error).message}`);
  }
  if (img.shape[2] !== spec.shape[2] || img.shape[3] !== spec.shape[3]) {
    throw new UserError(`--input ${name}: '${file}' is ${img.shape[3]}x${img.shape[2]} pixels, the bundle expects ${spec.shape[3]}x${spec.shape[2]}; recompile with --input ${name}=1x${c}x${img.shape[2]}x${img.shape[3]}`);
  }
  return img.data;
}

export function safeFileName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s || 'output';
}
