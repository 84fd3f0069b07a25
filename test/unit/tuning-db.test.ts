import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TuningDb } from '../../src/tuner/db.ts';
import type { DeviceFingerprint } from '../../src/runtime/device.ts';

const fp: DeviceFingerprint = { vendor: 'test', architecture: 'unit', device: '', description: '', features: [], limits: {}, id: 'test-unit-00000000' };

function rec(i: number) {
  return { template: 't', problemKey: `p${i}`, checksum: 'c', knobs: { wg: i }, medianMs: i, measurements: [{ knobs: { wg: i }, medianMs: i }], updated: 'now' };
}

describe('TuningDb', () => {
  it('round-trips records and merges with what another writer saved', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-db-'));
    const file = path.join(dir, 'db.json');
    const a = TuningDb.open(file, fp);
    const b = TuningDb.open(file, fp);
    a.put(rec(1));
    await a.save();
    b.put(rec(2));
    await b.save();
    const c = TuningDb.open(file, fp);
    expect(c.get('t', 'p1', 'c')?.knobs).toEqual({ wg: 1 });
    expect(c.get('t', 'p2', 'c')?.knobs).toEqual({ wg: 2 });
    expect(readdirSync(dir)).toEqual(['db.json']);
  });

  it('refuses a database of another device and a corrupt file, with clear messages', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-db-'));
    const file = path.join(dir, 'db.json');
    writeFileSync(file, JSON.stringify({ format: 'anybit-tuning-db', version: 1, device: { ...fp, id: 'other' }, records: {} }));
    expect(() => TuningDb.open(file, fp)).toThrow(/belongs to device 'other'/);
    writeFileSync(file, '{"format": "anybit-tun');
    expect(() => TuningDb.open(file, fp)).toThrow(/unreadable/);
  });

  it('survives a writer killed at random moments: the file always parses', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'anybit-db-'));
    const file = path.join(dir, 'db.json');
    const script = path.join(dir, 'writer.mts');
    writeFileSync(script, `
      import { TuningDb } from ${JSON.stringify(path.resolve('src/tuner/db.ts'))};
      const fp = ${JSON.stringify(fp)};
      const db = TuningDb.open(${JSON.stringify(file)}, fp);
      for (let i = 0; ; i++) {
        db.put({ template: 't', problemKey: 'p' + i, checksum: 'c', knobs: { i }, medianMs: i,
          measurements: Array.from({ length: 200 }, (_, j) => ({ knobs: { j }, medianMs: j })), updated: 'x' });
        await db.save();
        if (i === 0) console.log('saved');
      }`);
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 50 + round * 70));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { records: Record<string, unknown> };
      expect(Object.keys(parsed.records).length).toBeGreaterThan(0);
      expect(() => TuningDb.open(file, fp)).not.toThrow();
    }
  });
});
