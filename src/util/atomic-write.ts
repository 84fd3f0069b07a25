// Atomic file and directory writes: data goes to a temporary sibling first and is renamed into
// place, so readers see the old content or the new one, never a half-written file.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

function tmpSibling(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tmpSibling(target);
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Builds a directory with `fill(tmpDir)` and swaps it in for `target`. If `fill` throws, the
 * temporary directory is removed and any existing `target` is left untouched.
 */
export async function writeDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = tmpSibling(path.resolve(target));
  await fs.mkdir(tmp);
  try {
    await fill(tmp);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = `${tmp}.old`;
  let moved = false;
  try {
    await fs.rename(target, old);
    moved = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      await fs.rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  await fs.rename(tmp, target);
  if (moved) await fs.rm(old, { recursive: true, force: true });
}
