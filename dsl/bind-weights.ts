// Binds `param` declarations to checkpoint tensors by hierarchical name. Problems are
// collected, not thrown: missing, mis-shaped and duplicate params at their declarations, and
// every unused checkpoint tensor in one summary, so a run shows all mismatches at once.
// Generated weights (`random:SEED`) are made for each declaration and have no unused tensors.

import { diag, type Diagnostic, type Span } from '../src/diag/diagnostic.ts';
import { numel } from '../src/ir/shape.ts';
import { tensor, type Tensor } from '../src/ir/tensor.ts';
import type { WeightSource } from '../src/weights/index.ts';

const LIST_CAP = 12;

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, LIST_CAP).join(', ');
  return names.length > LIST_CAP ? `${shown}, ... (${names.length - LIST_CAP} more)` : shown;
}

export class WeightBinder {
  private readonly declared = new Set<string>();
  private readonly problems: Diagnostic[] = [];
  private missing = 0;

  constructor(private readonly src: WeightSource | null) {}

  private get ckpt(): ReadonlyMap<string, Tensor> | null {
    return this.src && !('kind' in this.src) ? this.src : null;
  }

  /**
   * The tensor for `key` as f32. Without a checkpoint, and after a missing/mis-shaped report,
   * zeros of the declared shape stand in so elaboration goes on and finds every mismatch.
   */
  take(key: string, shape: readonly number[], span: Span): Tensor | null {
    const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
    if (this.declared.has(key)) {
      this.problems.push(diag('weights', `weight '${key}' is declared twice; give each block instance its own name with 'as'`, span));
      return null;
    }
    this.declared.add(key);
    if (this.src && 'kind' in this.src) return this.src.tensor(key, shape);
    const zeros = tensor('f32', shape, new Float32Array(numel(shape)));
    if (!this.ckpt) return zeros;
    const t = this.ckpt.get(key);
    if (!t) {
      this.missing++;
      this.problems.push(diag('weights', `weight '${key}' ${fmt(shape)} is declared by the model but missing from the checkpoint`, span));
      return zeros;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      this.problems.push(diag('weights', `weight '${key}': the model declares ${fmt(shape)}, the checkpoint has ${fmt(t.shape)}`, span));
      return zeros;
    }
    return t.dtype === 'f32' && t.data instanceof Float32Array ? t : tensor('f32', t.shape, Float32Array.from(t.data as ArrayLike<number>));
  }

  report(modelSpan: Span): Diagnostic[] {
    const out = [...this.problems];
    if (!this.ckpt) return out;
    const unexpected = [...this.ckpt.keys()].filter((k) => !this.declared.has(k));
    if (unexpected.length) {
      out.push(diag('weights', `the checkpoint has ${unexpected.length} tensor(s) the model does not declare: ${listNames(unexpected)}`, modelSpan,
        this.missing ? [`${this.missing} declared weight(s) are missing; check --set values and block names`] : []));
    }
    return out;
  }
}
