// The device pack's bundles (scripts/device-bundle.ts): they build, import nothing outside Node's
// built-ins and the packages the pack ships, and the suite bundle starts without node_modules.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_EXTERNALS, bundleForDevice } from '../../scripts/device-bundle.ts';

describe('device bundle', () => {
  it('builds, and needs only built-ins plus the shipped externals', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'anybit-device-bundle-'));
    const external = await bundleForDevice(path.join(dir, 'app'), path.join(dir, 'node_modules'));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect(external.filter((m) => !builtins.has(m))).toEqual([...DEVICE_EXTERNALS].filter((m) => external.includes(m)).sort());
    expect(external).toContain('webgpu');
    // Outside the checkout only the bundled onnx-proto is reachable: the suite must load and parse flags.
    const r = spawnSync(process.execPath, [path.join(dir, 'app', 'suite.mjs'), '--no-such-flag'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toMatch(/^bench: Unknown option '--no-such-flag'; usage: /);
    expect(r.status).toBe(2);
  });
});
