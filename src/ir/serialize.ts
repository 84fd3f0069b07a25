// `.abir` files: a graph in full-mode IR text (print.ts with data and locations), so a saved
// model is readable, diffable and complete. Writes go through the project's one atomic writer
// (temp sibling + rename), so readers never see half a model. The extension is not enforced.

import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { Graph } from './graph.ts';
import { parseGraph } from './parse.ts';
import { printGraph } from './print.ts';

export const ABIR_EXTENSION = '.abir';

/** Writes `g` in full mode; creates missing parent directories. */
export async function saveGraph(path: string, g: Graph): Promise<void> {
  await writeFileAtomic(path, printGraph(g, { data: true }));
}

/** Reads and parses an .abir file; parse errors throw GraphTextError naming `path:line:col`. */
export async function loadGraph(path: string): Promise<Graph> {
  return parseGraph(await readFile(path, 'utf8'), { file: path });
}
