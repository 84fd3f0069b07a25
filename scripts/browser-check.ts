// Runs a compiled bundle in headless Chromium through the browser path of the runtime
// (navigator.gpu, loadBundleFromUrl) and compares the result with the Node run:
//   npx tsx scripts/browser-check.ts BUNDLE_DIR INPUT.npy [CHROMIUM]
// Prints max |Δ| between the browser's and Node's outputs and the adapter Chromium used.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { readNpy } from '../src/io/npy.ts';
import { acquireDevice, Executor, loadBundle, releaseDevice } from '../src/runtime/index.ts';

const [bundleDir, inputFile, chromium = '/usr/bin/chromium'] = process.argv.slice(2) as [string, string, string?];
const input = readNpy(new Uint8Array(readFileSync(inputFile))).data as Float32Array;

const runtimeJs = (await build({
  entryPoints: [path.resolve('src/runtime/index.ts')], bundle: true, format: 'esm', platform: 'browser', write: false,
  external: ['webgpu', 'node:*'],
})).outputFiles[0]?.text ?? '';

const page = `<!doctype html><script type="module">
import { acquireDevice, loadBundleFromUrl, Executor } from '/runtime.js';
try {
  const ctx = await acquireDevice();
  const bundle = await loadBundleFromUrl('/bundle/');
  const x = new Float32Array(await (await fetch('/input.bin')).arrayBuffer());
  const ex = await Executor.create(ctx, bundle);
  const r = await ex.run({ [bundle.manifest.inputs[0].name]: x });
  const out = r.outputs.get(bundle.manifest.outputs[0].name);
  await fetch('/result', { method: 'POST', body: JSON.stringify({ adapter: ctx.fingerprint.id, out: Array.from(out) }) });
} catch (e) {
  await fetch('/result', { method: 'POST', body: JSON.stringify({ error: String(e && e.stack || e) }) });
}
</script>`;

const result = new Promise<string>((resolve) => {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/result') {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => { res.end('ok'); server.close(); resolve(body); });
      return;
    }
    const send = (type: string, data: string | Uint8Array): void => { res.writeHead(200, { 'content-type': type }); res.end(data); };
    if (url === '/') return send('text/html', page);
    if (url === '/runtime.js') return send('text/javascript', runtimeJs);
    if (url === '/input.bin') return send('application/octet-stream', new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
    if (url.startsWith('/bundle/')) {
      try {
        return send('application/octet-stream', readFileSync(path.join(bundleDir, url.slice('/bundle/'.length))));
      } catch {
        res.writeHead(404);
        res.end();
        return undefined;
      }
    }
    res.writeHead(404);
    res.end();
    return undefined;
  });
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    const profile = mkdtempSync(path.join(os.tmpdir(), 'anybit-chromium-'));
    const child = spawn(chromium, [
      '--headless', '--no-sandbox', '--disable-gpu-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan',
      '--use-webgpu-adapter=swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`,
    ], { stdio: 'ignore' });
    const timer = setTimeout(() => { child.kill(); resolve(JSON.stringify({ error: 'timed out after 120 s' })); }, 120_000);
    void result.then(() => { clearTimeout(timer); child.kill(); });
  });
});

const r = JSON.parse(await result) as { adapter?: string; out?: number[]; error?: string };
if (r.error) {
  console.error(`browser run failed: ${r.error}`);
  process.exit(1);
}
const ctx = await acquireDevice();
const ex = await Executor.create(ctx, await loadBundle(bundleDir));
const b = await loadBundle(bundleDir);
const node = (await ex.run({ [b.manifest.inputs[0]?.name ?? 'x']: input })).outputs.get(b.manifest.outputs[0]?.name ?? 'y') as Float32Array;
ex.destroy();
await releaseDevice();
let maxDiff = 0;
let maxRef = 0;
node.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - (r.out?.[i] ?? NaN))); maxRef = Math.max(maxRef, Math.abs(v)); });
console.log(`browser adapter ${r.adapter}: ${r.out?.length} outputs, max |Δ| vs Node ${maxDiff.toExponential(2)} (max |y| ${maxRef.toFixed(3)})`);
process.exit(maxDiff <= 1e-4 * Math.max(1, maxRef) ? 0 : 1);
