// Structural graph comparison for tests: names, inputs, outputs, value types (incl. quant
// params bit-exact), nodes (attrs compared with Object.is, so NaN = NaN and -0 != 0, plus
// locations) and initializers (dtype, shape, host array class, bytes). Order of map entries
// is compared for initializers (it is the printed order) but not for `values`.

import { expect } from 'vitest';
import { isPacked, type DType } from '../../src/ir/dtype.ts';
import type { AttrValue, Graph, Node } from '../../src/ir/graph.ts';
import type { HostArray } from '../../src/ir/tensor.ts';
import { typeToString } from '../../src/ir/tensor.ts';

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function sameBytes(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.constructor !== b.constructor) return false;
  const x = bytes(a);
  const y = bytes(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function dtypeDiff(a: DType, b: DType): string | undefined {
  if (!isPacked(a) || !isPacked(b)) return a === b ? undefined : `${String(a)} vs ${String(b)}`;
  if (a.bits !== b.bits || a.signed !== b.signed) return 'packed width/sign differs';
  if (!a.quant || !b.quant) return a.quant === b.quant ? undefined : 'quant present on one side only';
  if (a.quant.axis !== b.quant.axis || a.quant.groupSize !== b.quant.groupSize) return 'quant axis/group differs';
  if (!sameBytes(a.quant.scales, b.quant.scales)) return 'quant scales differ';
  if (!sameBytes(a.quant.zeroPoints, b.quant.zeroPoints)) return 'quant zero points differ';
  return undefined;
}

function attrEq(a: AttrValue | undefined, b: AttrValue | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  return Object.is(a, b);
}

function nodeDiff(a: Node, b: Node): string[] {
  const d: string[] = [];
  const at = `node ${JSON.stringify(a.name)}`;
  if (a.name !== b.name) d.push(`${at}: name ${JSON.stringify(b.name)}`);
  if (a.op !== b.op) d.push(`${at}: op ${a.op} vs ${b.op}`);
  if (JSON.stringify(a.inputs) !== JSON.stringify(b.inputs)) d.push(`${at}: inputs ${JSON.stringify(a.inputs)} vs ${JSON.stringify(b.inputs)}`);
  if (JSON.stringify(a.outputs) !== JSON.stringify(b.outputs)) d.push(`${at}: outputs ${JSON.stringify(a.outputs)} vs ${JSON.stringify(b.outputs)}`);
  const keys = new Set([...Object.keys(a.attrs), ...Object.keys(b.attrs)]);
  for (const k of keys) if (!attrEq(a.attrs[k], b.attrs[k])) d.push(`${at}: attr ${k} ${String(a.attrs[k])} vs ${String(b.attrs[k])}`);
  if (JSON.stringify(a.loc) !== JSON.stringify(b.loc)) d.push(`${at}: loc ${JSON.stringify(a.loc)} vs ${JSON.stringify(b.loc)}`);
  return d;
}

/** Every structural difference between two graphs; [] when they are the same. */
export function graphDiff(a: Graph, b: Graph): string[] {
  const d: string[] = [];
  if (a.name !== b.name) d.push(`graph name ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`);
  if (JSON.stringify(a.inputs) !== JSON.stringify(b.inputs)) d.push(`inputs ${JSON.stringify(a.inputs)} vs ${JSON.stringify(b.inputs)}`);
  if (JSON.stringify(a.outputs) !== JSON.stringify(b.outputs)) d.push(`outputs ${JSON.stringify(a.outputs)} vs ${JSON.stringify(b.outputs)}`);
  const vk = new Set([...a.values.keys(), ...b.values.keys()]);
  for (const k of vk) {
    const x = a.values.get(k);
    const y = b.values.get(k);
    if (!x || !y) { d.push(`value ${JSON.stringify(k)} typed on one side only`); continue; }
    if (typeToString(x) !== typeToString(y)) d.push(`value ${JSON.stringify(k)}: ${typeToString(x)} vs ${typeToString(y)}`);
    else if (JSON.stringify(x.shape) !== JSON.stringify(y.shape)) d.push(`value ${JSON.stringify(k)}: shape ${JSON.stringify(x.shape)} vs ${JSON.stringify(y.shape)}`);
    const dd = dtypeDiff(x.dtype, y.dtype);
    if (dd) d.push(`value ${JSON.stringify(k)}: ${dd}`);
  }
  if (a.nodes.length !== b.nodes.length) d.push(`${a.nodes.length} vs ${b.nodes.length} nodes`);
  else a.nodes.forEach((n, i) => d.push(...nodeDiff(n, b.nodes[i] as Node)));
  const ia = [...a.initializers.keys()];
  const ib = [...b.initializers.keys()];
  if (JSON.stringify(ia) !== JSON.stringify(ib)) d.push(`initializers ${JSON.stringify(ia)} vs ${JSON.stringify(ib)}`);
  for (const [k, t] of a.initializers) {
    const u = b.initializers.get(k);
    if (!u) continue;
    const dd = dtypeDiff(t.dtype, u.dtype);
    if (dd) d.push(`initializer ${JSON.stringify(k)}: ${dd}`);
    if (JSON.stringify(t.shape) !== JSON.stringify(u.shape)) d.push(`initializer ${JSON.stringify(k)}: shape differs`);
    if (!sameBytes(t.data as HostArray, u.data as HostArray)) d.push(`initializer ${JSON.stringify(k)}: data differs (${t.data.constructor.name} vs ${u.data.constructor.name})`);
  }
  return d;
}

export function expectSameGraph(actual: Graph, expected: Graph): void {
  expect(graphDiff(actual, expected)).toEqual([]);
}
