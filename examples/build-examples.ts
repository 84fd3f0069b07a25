// Writes the example models as .abir files plus a seeded input for each:
//   npx tsx examples/build-examples.ts OUT_DIR
// -> OUT_DIR/{mlp,cnn}.abir and OUT_DIR/{mlp,cnn}-input.npy

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveGraph } from '../src/ir/serialize.ts';
import { writeNpy } from '../src/io/npy.ts';
import { mulberry32, uniformF32 } from '../src/util/random.ts';
import { buildCnn, buildMlp } from './models.ts';

const out = process.argv[2] ?? 'out/examples';
mkdirSync(out, { recursive: true });
const rand = mulberry32(7);
const inputs: Record<string, number[]> = { mlp: [4, 64], cnn: [1, 3, 32, 32] };
for (const [name, g] of [['mlp', buildMlp()], ['cnn', buildCnn()]] as const) {
  await saveGraph(path.join(out, `${name}.abir`), g);
  const shape = inputs[name] as number[];
  writeFileSync(path.join(out, `${name}-input.npy`), writeNpy(shape, uniformF32(shape.reduce((a, b) => a * b, 1), rand)));
  console.log(`wrote ${path.join(out, `${name}.abir`)} (${g.nodes.length} nodes) and ${name}-input.npy`);
}
