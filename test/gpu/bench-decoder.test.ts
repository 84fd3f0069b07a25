// A compressed benchmark row (bench/decoder.ts compressedRow) end to end at a tiny decoder shape:
// our W4A8 layer compiles, matches its fake-quantized float model on ort-cpu, and carries the
// float row's contenders as "(f32)" references with a note. Decode form only, to stay short.

import { describe, expect, it } from 'vitest';
import { compressedRow, decoderSource, type DecoderShape } from '../../bench/decoder.ts';
import type { ModelRow } from '../../bench/models.ts';
import { loadOrt } from '../../bench/ort.ts';
import { gpu, noGpu } from '../helpers/gpu.ts';

const S: DecoderShape = { d: 64, hidden: 160, heads: 2, kvHeads: 2, past: 8, prefill: 4 };

describe.skipIf(noGpu)('bench compressed row', () => {
  it('W4A8 decode step: checked against its float equivalent, f32 references attached', async () => {
    const { ort } = await loadOrt();
    if (!ort) throw new Error('onnxruntime-node is a dev dependency here');
    const float: ModelRow = { model: 'f', contenders: [{ name: 'ort-webgpu', firstMs: 1, medianMs: 2, spreadMs: 0, gpuMs: null, peakBytes: null, relErr: 0 }] };
    const row = await compressedRow({ ctx: await gpu(), db: null, ort, repeats: 1, done: [float] }, 'q', decoderSource(S, 'decode'), { bits: 4, group: 128, method: 'rtn', actBits: 8 }, 'f');
    expect(row.contenders.map((c) => c.name)).toEqual(['anybit', 'ort-webgpu (f32)']);
    const ours = row.contenders[0];
    expect(ours?.relErr).toBeLessThanOrEqual(1e-3);
    expect(ours?.peakBytes).toBeGreaterThan(0);
    expect(row.note).toMatch(/vs the float model \d\.\de[-+]\d+; weights \d+ B vs \d+ B f32; \(f32\) rows copied from 'f'/);
  });
});
