/**
 * Where rotation puts a source's old files: next to its path, under names that extend it
 * (`app.log.1`, `app.log.2.gz`, `app.log-20240115`, `app.log-20240115.gz`), in which order
 * they were written, and what each holds (its first bytes, the bytes before a position).
 */
import { crc32c } from '../wal/index.js';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileIdentity } from './batch.js';
import { type ByteSource, type FileHead, HEAD_BYTES, notRegular, openSource } from './file-bytes.js';

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
  /** A descriptor the watch opened (the file may be gone from the directory since). */
  src?: ByteSource;
}

/** Whether a directory entry named `file` may be a rotated copy of the source `name`. */
export function isSiblingName(name: string, file: string): boolean {
  if (file === name || !file.startsWith(name)) return false;
  const rest = file.slice(name.length);
  return SUFFIX.test(rest) && !OTHER_COMPRESSION.test(rest);
}

/**
 * The source's path (stat follows a symlink), or null when nothing is there. Anything but a
 * regular file there (a FIFO, device, socket, directory) is an error for the source.
 */
export async function statPath(path: string): Promise<Candidate | null> {
  let st;
  try {
    st = await stat(path);
  } catch {
    return null;
  }
  if (!st.isFile()) throw notRegular(path);
  return { path, name: '', identity: { dev: st.dev, ino: st.ino }, size: st.size, mtimeMs: st.mtimeMs, gzip: false };
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

/**
 * Opens a candidate, through the watch's descriptor when there is one. By name, the file must
 * still be the one the look saw: rotation may have put another file under that name since,
 * and reading it as the first one indexed the wrong bytes under the wrong identity (found by
 * the crash test rotating every second). Throws when it is not.
 */
export async function openCandidate(c: Candidate): Promise<ByteSource> {
  if (c.src !== undefined && c.src.gzip === c.gzip && sameIdentity(c.src.identity, c.identity)) return c.src;
  const src = await openSource(c.path, c.gzip);
  if (!sameIdentity(src.identity, c.identity)) {
    await src.close();
    throw new Error(`${c.path} is another file now (rotated since it was listed)`);
  }
  return src;
}

/** The first bytes of candidates (decompressed for gzip), read once per look. */
export class Heads {
  private readonly cache = new Map<Candidate, Buffer | null>();

  /** Up to HEAD_BYTES bytes; null when the file cannot be read. */
  async of(c: Candidate): Promise<Buffer | null> {
    if (this.cache.has(c)) return this.cache.get(c)!;
    let head: Buffer | null = null;
    let src: ByteSource | null = null;
    try {
      src = await openCandidate(c);
      const buf = Buffer.alloc(HEAD_BYTES);
      let got = 0;
      while (got < HEAD_BYTES) {
        const n = await src.read(buf, got, HEAD_BYTES - got, got);
        if (n === 0) break;
        got += n;
      }
      head = buf.subarray(0, got);
    } catch {
      head = null;
    } finally {
      if (src !== null && src !== c.src) await src.close();
    }
    this.cache.set(c, head);
    return head;
  }

  /** Whether c starts with the bytes `head` fingerprints. */
  async match(c: Candidate, head: FileHead): Promise<boolean> {
    const got = await this.of(c);
    return got !== null && got.length >= head.len && crc32c(got.subarray(0, head.len)) === head.crc;
  }
}

/** Whether the plain file c holds `tail` right before `position`; null when it cannot be read now. */
export async function holdsTail(c: Candidate, tail: Buffer, position: number): Promise<boolean | null> {
  if (c.gzip || tail.length > position) return false;
  let src: ByteSource | null = null;
  try {
    src = await openCandidate(c);
    const got = Buffer.alloc(tail.length);
    const n = await src.read(got, 0, got.length, position - tail.length);
    return n === tail.length && got.equals(tail);
  } catch {
    return null;
  } finally {
    if (src !== null && src !== c.src) await src.close();
  }
}

/**
 * Whether no file with this identity is at the path or next to it, in two listings in a row
 * that agree. (One listing can miss a file renamed between the listing and the stat of its
 * name, while logrotate shifts app.log.1 .. app.log.N.)
 */
export async function absentTwice(path: string, id: FileIdentity): Promise<boolean> {
  const look = async (): Promise<string> => {
    const at = await statPath(path);
    return [...(at === null ? [] : [at]), ...(await listSiblings(path))].map((c) => `${c.name}=${c.identity.dev}:${c.identity.ino}`).sort().join(',');
  };
  const first = await look();
  if (first !== (await look())) return false;
  return !first.split(',').some((e) => e.endsWith(`=${id.dev}:${id.ino}`));
}
