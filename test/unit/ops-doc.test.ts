// docs/ops.md is generated from the op registries (scripts/gen-ops-doc.ts): this fails when the
// committed file drifts from OP_TABLE / ONNX_OPS, and checks the generator sees every op.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OP_TABLE } from '../../src/ir/op-table.ts';
import { ONNX_OPS } from '../../src/onnx/op-table.ts';
import { OPS_DOC_PATH, REGENERATE, onnxToIr, renderOpsDoc } from '../../scripts/gen-ops-doc.ts';

describe('docs/ops.md', () => {
  it(`matches the registries (regenerate with: ${REGENERATE})`, () => {
    const doc = readFileSync(OPS_DOC_PATH, 'utf8');
    expect(doc.split('\n')[0]).toContain(REGENERATE);
    expect(doc === renderOpsDoc(), `docs/ops.md is stale; run ${REGENERATE}`).toBe(true);
  });

  it('lists every IR op and every ONNX op, mapping ONNX ops only to known IR ops', () => {
    const doc = renderOpsDoc();
    for (const name of OP_TABLE.keys()) expect(doc).toContain(`| \`${name}\` |`);
    const matrix = onnxToIr();
    expect([...matrix.keys()].sort()).toEqual([...ONNX_OPS.keys()].sort());
    for (const ir of matrix.values()) for (const op of ir) expect(OP_TABLE.has(op), op).toBe(true);
    expect(matrix.get('Conv')).toEqual(['conv2d']);
    expect(matrix.get('MaxPool')).toEqual(['max_pool2d']);
    expect(matrix.get('Relu')).toEqual(['relu']);
  });
});
