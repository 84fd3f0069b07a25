// Loads a bundle directory (Node) or URL prefix (browser, via fetch) into memory. Needs
// nothing from the compiler: a bundle plus this runtime is enough to run a model.

import { checkManifest, type BundleData } from './manifest.ts';

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

async function assemble(read: (rel: string) => Promise<Uint8Array>, where: string): Promise<BundleData> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await read('manifest.json')));
  } catch (e) {
    throw new BundleError(`${where} is not a bundle: cannot read manifest.json (${(e as Error).message})`);
  }
  try {
    checkManifest(manifest);
  } catch (e) {
    throw new BundleError(`${where}: ${(e as Error).message}`);
  }
  const kernels = new Map<string, string>();
  for (const k of manifest.kernels) kernels.set(k.id, new TextDecoder().decode(await read(k.file)));
  const weights = await read(manifest.weights.file);
  if (weights.byteLength !== manifest.weights.bytes) {
    throw new BundleError(`${where}: weights.bin has ${weights.byteLength} bytes, the manifest expects ${manifest.weights.bytes}`);
  }
  return { manifest, kernels, weights };
}

export async function loadBundle(dir: string): Promise<BundleData> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  return assemble(async (rel) => {
    try {
      return new Uint8Array(await fs.readFile(path.join(dir, rel)));
    } catch (e) {
      throw new BundleError(`${dir}: cannot read ${rel} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }, dir);
}

export async function loadBundleFromUrl(base: string): Promise<BundleData> {
  const root = base.endsWith('/') ? base : `${base}/`;
  return assemble(async (rel) => {
    const r = await fetch(root + rel);
    if (!r.ok) throw new BundleError(`${root}${rel}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }, root);
}
