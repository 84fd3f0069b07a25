// Writes a bundle directory atomically: manifest.json, kernels/<id>.wgsl, weights.bin, and the
// source graph (model.abir, structure only; its weights live in weights.bin) so `anybit tune`
// can rebuild the bundle. A failure part-way leaves any previous bundle untouched.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BundleData } from '../runtime/manifest.ts';
import { writeDirAtomic } from '../util/atomic-write.ts';

export async function writeBundle(dir: string, bundle: BundleData, extraFiles: Readonly<Record<string, string | Uint8Array>> = {}): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await fs.mkdir(path.join(tmp, 'kernels'));
    for (const k of bundle.manifest.kernels) {
      const src = bundle.kernels.get(k.id);
      if (src === undefined) throw new Error(`bundle is missing WGSL for kernel '${k.id}'`);
      await fs.writeFile(path.join(tmp, k.file), src);
    }
    await fs.writeFile(path.join(tmp, 'weights.bin'), bundle.weights);
    for (const [name, data] of Object.entries(extraFiles)) await fs.writeFile(path.join(tmp, name), data);
    // The manifest goes last: a directory without one is never mistaken for a bundle.
    await fs.writeFile(path.join(tmp, 'manifest.json'), `${JSON.stringify(bundle.manifest, null, 1)}\n`);
  });
}
