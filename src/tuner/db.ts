// The tuning database: one JSON file per device fingerprint holding, for each (template,
// problem key, knob-space checksum), the winning knobs and every measurement. Saved
// atomically after each tuned kernel and merged with what is on disk, so a killed tuner or a
// concurrent one never leaves a corrupt or truncated file.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knobs } from '../../codegen/kernel.ts';
import type { DeviceFingerprint } from '../runtime/device.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

export const DB_FORMAT = 'anybit-tuning-db';
export const DB_VERSION = 1;

export interface Measurement {
  readonly knobs: Knobs;
  readonly medianMs?: number;
  readonly spreadMs?: number;
  /** Why the candidate was rejected (does not compile, wrong result). */
  readonly rejected?: string;
}

export interface TuningRecord {
  readonly template: string;
  readonly problemKey: string;
  readonly checksum: string;
  readonly knobs: Knobs;
  readonly medianMs: number;
  readonly measurements: readonly Measurement[];
  readonly updated: string;
}

interface DbFile {
  format: typeof DB_FORMAT;
  version: number;
  device: DeviceFingerprint;
  records: Record<string, TuningRecord>;
}

export function defaultDbPath(fp: DeviceFingerprint): string {
  const dir = process.env.ANYBIT_TUNING_DIR ?? path.join(os.homedir(), '.cache', 'anybit', 'tuning');
  return path.join(dir, `${fp.id}.json`);
}

export function recordKey(template: string, problemKey: string, checksum: string): string {
  return `${template}|${checksum}|${problemKey}`;
}

function readDb(file: string): DbFile | null {
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`tuning database ${file} is unreadable (${(e as Error).message}); move it away to start afresh`);
  }
  const db = parsed as Partial<DbFile>;
  if (db.format !== DB_FORMAT || db.version !== DB_VERSION || typeof db.records !== 'object') {
    throw new Error(`${file} is not an anybit tuning database of version ${DB_VERSION}`);
  }
  return db as DbFile;
}

export class TuningDb {
  private constructor(readonly file: string, private data: DbFile) {}

  static open(file: string, device: DeviceFingerprint): TuningDb {
    const existing = readDb(file);
    if (existing && existing.device.id !== device.id) {
      throw new Error(`tuning database ${file} belongs to device '${existing.device.id}', not '${device.id}'`);
    }
    return new TuningDb(file, existing ?? { format: DB_FORMAT, version: DB_VERSION, device, records: {} });
  }

  get(template: string, problemKey: string, checksum: string): TuningRecord | undefined {
    return this.data.records[recordKey(template, problemKey, checksum)];
  }

  get size(): number {
    return Object.keys(this.data.records).length;
  }

  put(rec: TuningRecord): void {
    this.data.records[recordKey(rec.template, rec.problemKey, rec.checksum)] = rec;
  }

  /** Merges with the file's current content (ours win) and replaces it atomically. */
  async save(): Promise<void> {
    const onDisk = readDb(this.file);
    if (onDisk) this.data.records = { ...onDisk.records, ...this.data.records };
    await writeFileAtomic(this.file, `${JSON.stringify(this.data, null, 1)}\n`);
  }
}
