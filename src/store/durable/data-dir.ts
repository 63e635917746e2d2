/**
 * The data directory: where the WAL segments and index checkpoints live, and the lock that
 * keeps two processes from writing them at once.
 *
 *   <data-dir>/LOCK            pid of the process that owns the directory
 *   <data-dir>/wal/            segments (src/wal/FORMAT.md)
 *   <data-dir>/checkpoints/    index-<16 hex of the WAL position>.ckpt, newest two kept
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';

/** Checkpoint file names: this prefix, then 16 hex digits of the WAL position they cover. */
export const CHECKPOINT_PREFIX = 'index-';

/** The checkpoint file name for an index that covers the WAL up to walPos. */
export function checkpointName(walPos: number): string {
  return CHECKPOINT_PREFIX + walPos.toString(16).padStart(16, '0');
}

export interface DataDirPaths {
  root: string;
  wal: string;
  checkpoints: string;
  lock: string;
}

export function dataDirPaths(root: string): DataDirPaths {
  return { root, wal: join(root, 'wal'), checkpoints: join(root, 'checkpoints'), lock: join(root, 'LOCK') };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the directory's lock or fails with a one-line error naming the owner. A lock left by
 * a process that no longer exists (kill -9) is taken over.
 */
export function lockDataDir(paths: DataDirPaths): () => void {
  try {
    mkdirSync(paths.wal, { recursive: true });
    mkdirSync(paths.checkpoints, { recursive: true });
  } catch (err) {
    throw new ConfigError(`--data-dir ${paths.root}: cannot create it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(paths.lock, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(paths.lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConfigError(`--data-dir ${paths.root}: cannot write its lock (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      const owner = Number(readFileSync(paths.lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new ConfigError(`--data-dir ${paths.root} is in use by process ${owner}; stop it, or use another --data-dir`);
      }
      rmSync(paths.lock, { force: true });
    }
  }
  throw new ConfigError(`--data-dir ${paths.root}: could not take its lock`);
}
