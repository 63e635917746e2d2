/**
 * The agent's upload state in its data dir (clickhouse-upload.json): the WAL position up to
 * which ClickHouse has acknowledged everything, and each source's seq base (SCHEMA.md). Saved
 * by write-to-temp and rename; a base is fsynced before any row uses it, the cursor is not
 * (a stale cursor only costs one presence check per source at the next start).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const UPLOAD_STATE_FILE = 'clickhouse-upload.json';
const VERSION = 1;

export interface UploadStateData {
  version: number;
  /** Which cluster and database the cursor refers to: another target starts over. */
  target: string;
  cursor: number;
  bases: Record<string, number>;
}

export class UploadState {
  private constructor(
    private readonly path: string,
    readonly data: UploadStateData,
  ) {}

  static load(dataDir: string, target: string): UploadState {
    const path = join(dataDir, UPLOAD_STATE_FILE);
    let data: UploadStateData = { version: VERSION, target, cursor: 0, bases: {} };
    try {
      const read = JSON.parse(readFileSync(path, 'utf8')) as UploadStateData;
      if (read.version > VERSION) throw new Error(`${path}: format ${read.version} is newer than this version understands (${VERSION}); upgrade log-triage-mcp`);
      if (read.target === target && typeof read.cursor === 'number') data = { ...read, bases: read.bases ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    return new UploadState(path, data);
  }

  save(sync: boolean): void {
    const tmp = this.path + '.tmp';
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.data));
      if (sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
