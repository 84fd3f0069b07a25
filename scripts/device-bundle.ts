// The device pack's JavaScript: bench/suite.ts and bench/quant.ts as self-contained ESM bundles,
// plus onnx-proto bundled as a CommonJS package (`npx tsx scripts/device-bundle.ts APPDIR NMDIR`,
// called by scripts/device-pack.sh). The native packages (webgpu, onnxruntime-node) stay outside;
// device-pack.sh copies them into .device/node_modules and compresses everything.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** Loaded at run time from node_modules: native addons, and onnx-proto (via createRequire). */
export const DEVICE_EXTERNALS = ['webgpu', 'onnxruntime-node', 'onnx-proto'] as const;

export const DEVICE_ENTRIES = { suite: 'bench/suite.ts', quant: 'bench/quant.ts' } as const;

/**
 * Writes APPDIR/suite.mjs and quant.mjs, and NMDIR/onnx-proto (its protobufjs inlined); returns
 * the bare module names the app bundles import.
 */
export async function bundleForDevice(outdir: string, nodeModules: string): Promise<string[]> {
  // src/onnx/proto.ts loads onnx-proto through createRequire, which esbuild cannot follow.
  const proto = path.join(nodeModules, 'onnx-proto');
  await build({ entryPoints: ['node_modules/onnx-proto/dist/onnx.js'], outfile: path.join(proto, 'index.js'), bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  mkdirSync(proto, { recursive: true });
  writeFileSync(path.join(proto, 'package.json'), '{ "name": "onnx-proto", "main": "index.js" }\n');
  const r = await build({
    entryPoints: DEVICE_ENTRIES,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...DEVICE_EXTERNALS],
    // CommonJS dependencies (pngjs, protobufjs) call require() for Node built-ins.
    banner: { js: "import { createRequire as __anybitRequire } from 'node:module'; const require = __anybitRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  const external = new Set<string>();
  for (const out of Object.values(r.metafile.outputs)) for (const i of out.imports) if (i.external) external.add(i.path);
  return [...external].sort();
}

const [app, nm] = process.argv.slice(2);
if (app !== undefined && nm !== undefined && process.argv[1]?.endsWith('device-bundle.ts')) {
  const external = await bundleForDevice(app, nm);
  console.log(`device-bundle: ${Object.keys(DEVICE_ENTRIES).join(', ')} -> ${app}, onnx-proto -> ${nm}; external: ${external.join(' ')}`);
}
