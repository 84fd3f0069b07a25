// GEMV weight layout: a matmul or gemm with at most GEMV_ROWS rows of A and a constant f32 weight
// B[K, N] gets B stored transposed, as gemm(A, Bᵀ, transB = 1). A matrix-vector product streams
// the weight once; with Bᵀ[N, K] each lane reads its own columns contiguously (4-6x faster on
// lavapipe than lanes striding over rows of B[K, N]). Exact: the same products summed in the same
// order. A of rank > 2 is viewed as [rows, K] (reshapes are aliases in lowering). Weights read by
// other nodes too are left alone (a second, transposed copy would double their bytes).

import type { Node } from '../../ir/graph.ts';
import { numberAttr } from '../../ir/graph.ts';
import { numel } from '../../ir/shape.ts';
import { tensor, type Tensor } from '../../ir/tensor.ts';
import type { Pass } from '../pass.ts';
import { GraphEdit, viewOf } from '../simplify/pattern-util.ts';

/** Rows of A up to which a product is a GEMV (the codegen GEMV kernels serve 1..8 rows). */
export const GEMV_ROWS = 8;

function transposed(t: Tensor, K: number, N: number): Tensor {
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) out[n * K + k] = t.data[k * N + n] as number;
  return tensor('f32', [N, K], out);
}

export const gemvWeightLayout: Pass = {
  name: 'gemv-weight-layout',
  run(g) {
    const v = viewOf(g);
    const edit = new GraphEdit(g);
    for (const n of g.nodes) {
      if (n.op !== 'matmul' && n.op !== 'gemm') continue;
      if (n.op === 'gemm' && numberAttr(n.attrs, 'transB', 0) !== 0) continue;
      const [a, b] = n.inputs as [string, string];
      const B = v.f32Const(b);
      const sa = v.shape(a);
      const so = v.shape(n.outputs[0] as string);
      if (!B || B.shape.length !== 2 || !sa || !so || v.readers(b).length !== 1 || g.outputs.includes(b)) continue;
      const [K, N] = B.shape as [number, number];
      const rows = n.op === 'gemm' ? (so[0] as number) : numel(sa) / K;
      if (rows > GEMV_ROWS || g.values.get(a)?.dtype !== 'f32') continue;
      const bt = edit.addConst(`${b}.t`, transposed(B, K, N));
      const loc = n.loc ? { loc: n.loc } : {};
      if (n.op === 'gemm') {
        edit.replace(n, [], [{ ...n, inputs: [a, bt, ...n.inputs.slice(2)], attrs: { ...n.attrs, transB: 1 } }]);
        continue;
      }
      const gemm = (x: string, y: string): Node => ({ name: n.name, op: 'gemm', inputs: [x, bt], outputs: [y], attrs: { transB: 1 }, ...loc });
      if (sa.length === 2) {
        edit.replace(n, [], [gemm(a, n.outputs[0] as string)]);
        continue;
      }
      // Batch dims of A fold into the rows: reshape -> gemm -> reshape back.
      const a2 = edit.addValue(`${n.name}.a2d`, { dtype: 'f32', shape: [rows, K] });
      const y2 = edit.addValue(`${n.name}.y2d`, { dtype: 'f32', shape: [rows, N] });
      edit.replace(n, [], [
        { name: edit.freshNode(`${n.name}.a2d`), op: 'reshape', inputs: [a], outputs: [a2], attrs: { shape: [rows, K] } },
        gemm(a2, y2),
        { name: edit.freshNode(`${n.name}.unflatten`), op: 'reshape', inputs: [y2], outputs: n.outputs, attrs: { shape: [...so] } },
      ]);
    }
    if (!edit.count) return { graph: g, changed: false };
    return { graph: edit.apply(), changed: true, stats: { transposed: edit.count } };
  },
};
