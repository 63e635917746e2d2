/**
 * Where rotation puts a source's old files: next to its path, under names that extend it
 * (`app.log.1`, `app.log.2.gz`, `app.log-20240115`, `app.log-20240115.gz`), and in which order
 * they were written.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileIdentity } from './batch.js';

/**
 * The name, a separator, then a suffix starting with a digit (a rotation number or a date),
 * optionally `.gz`. Other compressions (.bz2, .xz, .zst) cannot be read and are left out; so
 * are names like `app.log.swap` or `app.log.lock` that rotation does not make.
 */
const SUFFIX = /^[.\-_](\d[\w.:+-]*?)(\.gz)?$/;
const OTHER_COMPRESSION = /\.(bz2|xz|zst|lz4|lzma|z|Z|zip)$/;

/** A file on disk that may be one of the source's files. */
export interface Candidate {
  path: string;
  /** Name relative to the directory ('' for the source's path itself). */
  name: string;
  identity: FileIdentity;
  size: number;
  mtimeMs: number;
  gzip: boolean;
}

/** Whether a directory entry named `file` may be a rotated copy of the source `name`. */
export function isSiblingName(name: string, file: string): boolean {
  if (file === name || !file.startsWith(name)) return false;
  const rest = file.slice(name.length);
  return SUFFIX.test(rest) && !OTHER_COMPRESSION.test(rest);
}

/** The source's path (stat follows a symlink), or null when nothing is there. */
export async function statPath(path: string): Promise<Candidate | null> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return null;
    return { path, name: '', identity: { dev: st.dev, ino: st.ino }, size: st.size, mtimeMs: st.mtimeMs, gzip: false };
  } catch {
    return null;
  }
}

/** The rotated files next to `path`; empty when the directory cannot be read. */
export async function listSiblings(path: string): Promise<Candidate[]> {
  const dir = dirname(path);
  const name = basename(path);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => isSiblingName(name, f));
  } catch {
    return [];
  }
  const out: Candidate[] = [];
  for (const f of names) {
    const full = join(dir, f);
    try {
      const st = await stat(full);
      if (!st.isFile()) continue;
      out.push({ path: full, name: f, identity: { dev: st.dev, ino: st.ino }, size: st.size, mtimeMs: st.mtimeMs, gzip: f.endsWith('.gz') });
    } catch {
      // Gone between the listing and the stat: rotation moved on; the next look sees where.
    }
  }
  return out;
}

/** The rotation number in `app.log.3` or `app.log.3.gz` (higher is older), or -1. */
function rotationNumber(name: string, file: string): number {
  const m = /^\.(\d+)(\.gz)?$/.exec(file.slice(name.length));
  return m === null ? -1 : Number(m[1]);
}

/**
 * Oldest first: by last modification (gzip keeps the original's), then by rotation number
 * (app.log.3 before app.log.2), then by name (dated suffixes sort by date).
 */
export function oldestFirst(name: string, files: Candidate[]): Candidate[] {
  return [...files].sort((a, b) =>
    a.mtimeMs - b.mtimeMs || rotationNumber(name, b.name) - rotationNumber(name, a.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
