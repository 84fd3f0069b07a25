// The benchmark suite's options: one shape for `npx tsx bench/suite.ts`, the device bundle and
// `anybit bench`, parsed from argv with node:util (unknown flags are errors, not ignored).
// Bad values throw the CLI's UserError (one line, exit code 1 under `anybit bench`).

import { parseArgs } from 'node:util';
import { UserError } from '../src/cli/errors.ts';
import { DEFAULT_MODEL_PATHS } from './models.ts';

export interface SuiteOptions {
  /** Fewer shapes and models, fewer repeats. */
  readonly quick: boolean;
  /** Only the matmul row with this name, or the models whose name contains it. */
  readonly only: string | null;
  readonly models: boolean;
  /** false: our rows only (model rows need onnxruntime-node as their reference and are skipped). */
  readonly ort: boolean;
  /** No new row starts after this many seconds (a row in progress finishes); null = no limit. */
  readonly budgetS: number | null;
  /** Where <device>.md and .json go (rewritten after every row, so a killed run leaves a report). */
  readonly outDir: string;
  readonly ocrDir: string;
  readonly rlfnWeights: string;
  /** Print the adapter's fingerprint and stop. */
  readonly probe: boolean;
}

export const SUITE_USAGE = 'bench/suite.ts [--quick] [--only NAME] [--no-models] [--no-ort] [--budget-s SECONDS] [--out DIR] [--ocr-dir DIR] [--rlfn-weights FILE] [--probe]';

export interface RawSuiteOptions {
  quick?: boolean | undefined;
  only?: string | undefined;
  models?: boolean | undefined;
  ort?: boolean | undefined;
  budgetS?: string | undefined;
  out?: string | undefined;
  ocrDir?: string | undefined;
  rlfnWeights?: string | undefined;
  probe?: boolean | undefined;
}

/** Defaults filled in and values checked. */
export function suiteOptions(raw: RawSuiteOptions): SuiteOptions {
  let budgetS: number | null = null;
  if (raw.budgetS !== undefined) {
    budgetS = Number(raw.budgetS);
    if (!(budgetS > 0)) throw new UserError(`--budget-s '${raw.budgetS}': expected a positive number of seconds`);
  }
  return {
    quick: raw.quick ?? false,
    only: raw.only ?? null,
    models: raw.models ?? true,
    ort: raw.ort ?? true,
    budgetS,
    outDir: raw.out ?? 'bench/results',
    ocrDir: raw.ocrDir ?? DEFAULT_MODEL_PATHS.ocrDir,
    rlfnWeights: raw.rlfnWeights ?? DEFAULT_MODEL_PATHS.rlfnWeights,
    probe: raw.probe ?? false,
  };
}

export function parseSuiteArgs(argv: readonly string[]): SuiteOptions {
  let v: ReturnType<typeof parse>['values'];
  try {
    v = parse(argv).values;
  } catch (e) {
    throw new UserError(`${(e as Error).message.split('\n')[0]}; usage: ${SUITE_USAGE}`);
  }
  return suiteOptions({
    quick: v.quick, only: v.only, models: v['no-models'] ? false : undefined, ort: v['no-ort'] ? false : undefined,
    budgetS: v['budget-s'], out: v.out, ocrDir: v['ocr-dir'], rlfnWeights: v['rlfn-weights'], probe: v.probe,
  });
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' }, only: { type: 'string' }, 'no-models': { type: 'boolean' }, 'no-ort': { type: 'boolean' },
      'budget-s': { type: 'string' }, out: { type: 'string' }, 'ocr-dir': { type: 'string' }, 'rlfn-weights': { type: 'string' },
      probe: { type: 'boolean' },
    },
  });
}
