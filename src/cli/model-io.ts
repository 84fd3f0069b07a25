// Reading models and tensors for the CLI: model files by extension, `--input` specs
// (NAME=DIMxDIM for shapes, NAME=file.npy for data), and the graph stored inside a bundle.

import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Graph } from '../ir/graph.ts';
import { parseGraph } from '../ir/parse.ts';
import { loadGraph } from '../ir/serialize.ts';
import { tensor } from '../ir/tensor.ts';
import { readNpy } from '../io/npy.ts';
import type { BundleData, IoSpec } from '../runtime/manifest.ts';
import { UserError } from './errors.ts';

export async function loadModel(file: string): Promise<Graph> {
  if (!existsSync(file)) throw new UserError(`model file '${file}' does not exist`);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.abir') return loadGraph(file);
  throw new UserError(`'${file}': unsupported model format '${ext || '(none)'}' (this version reads .abir IR files; see examples/)`);
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
    if (!file.toLowerCase().endsWith('.npy')) throw new UserError(`--input ${name}: '${file}' is not a .npy file`);
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
    const data = new Float32Array(bundle.weights.buffer.slice(bundle.weights.byteOffset + w.offset, bundle.weights.byteOffset + w.offset + w.bytes));
    inits.set(w.name, tensor('f32', t.shape, data));
  }
  return { ...g, initializers: inits };
}

export function safeFileName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s || 'output';
}
