// Compares a bundle's output with the float64 reference interpreter:
//   npx tsx examples/check-output.ts MODEL.abir INPUT.npy OUTPUT.npy
// Exits non-zero when max |Δ| exceeds 1e-4 of max |reference|.

import { readFileSync } from 'node:fs';
import { interpret } from '../src/interp/interpreter.ts';
import { bindGraph } from '../src/ir/bind.ts';
import { loadGraph } from '../src/ir/serialize.ts';
import { ndarray } from '../src/ir/tensor.ts';
import { readNpy } from '../src/io/npy.ts';
import { compareOutputs } from '../src/tuner/verify.ts';

const [modelFile, inputFile, outputFile] = process.argv.slice(2) as [string, string, string];
const x = readNpy(new Uint8Array(readFileSync(inputFile)));
const y = readNpy(new Uint8Array(readFileSync(outputFile)));
const source = await loadGraph(modelFile);
const g = bindGraph(source, { [source.inputs[0] as string]: x.shape });
const ref = interpret(g, { [g.inputs[0] as string]: ndarray(x.shape, x.data as Float32Array) }).get(g.outputs[0] as string);
if (!ref) throw new Error('no reference output');
let maxRef = 0;
let maxDiff = 0;
for (let i = 0; i < ref.data.length; i++) {
  maxRef = Math.max(maxRef, Math.abs(ref.data[i] as number));
  maxDiff = Math.max(maxDiff, Math.abs((ref.data[i] as number) - ((y.data as Float32Array)[i] as number)));
}
const bad = compareOutputs(y.data as Float32Array, ref.data);
console.log(`${modelFile}: max |Δ| vs float64 interpreter = ${maxDiff.toExponential(2)} (max |ref| ${maxRef.toFixed(3)}): ${bad ? `FAIL ${bad}` : 'ok'}`);
process.exitCode = bad ? 1 : 0;
