/**
 * The bodies of ephemeral mode, read back from the source files (what lnav does) instead of
 * kept in memory: a batch whose bytes are a verbatim copy of a plain file's range is recorded
 * as (logical base, length, descriptor, file offset); anything else (a gzip file, a chunk whose
 * over-long line was cut, a file that could not be opened as itself) keeps its bytes in memory
 * (appendBytes: tests build indexes over that alone). Logical positions only grow, so the index
 * is the same either way.
 *
 * On the 10M-line file (1 GB), keeping every chunk cost 1.35 GB of RSS; reading bodies back (and
 * recycling the chunk buffers, src/ingest/chunk-pool.ts) `ingest --ephemeral` peaks at 369 MB,
 * system CPU 0.82 -> 0.34 s, wall 4.44 -> 3.98 s (medians of 5 alternated pairs, load 9-11). A
 * body read costs a pread and an fstat (120 bytes: 2.8 us against 0.17 us from memory).
 *
 * A file rewritten in place (copytruncate, or `> app.log`) keeps its inode but not its bytes,
 * so a body must never be read from it once that happened. Every read is checked after it is
 * made, in this order: the read returned all it asked for; then the file's size, mtime and
 * ctime are the ones last vouched for, or else its first bytes (up to HEAD_BYTES, taken from
 * the first batch, which began at offset 0) are still the same and its size still covers every
 * range recorded in it, which vouches for the new stat. A rewrite changes the first bytes (new
 * lines, new timestamps): the same rule the follower uses to tell a copytruncate
 * (src/ingest/rotation.ts). A file that fails has its descriptor closed and read() answers
 * null for its bodies, as for bodies dropped by retention. The follower's own detection (a file
 * of its list now read from before the recorded end: rewritten(), from EphemeralSink.files)
 * does the same without waiting for a read.
 *
 * When the follower goes on reading a copytruncated file from its copy (same file key, the
 * copy's identity), the ranges already recorded are read from the copy instead: it is a byte
 * copy of the old file, which only grew until then, so once it has the same first bytes and
 * is at least as long as every recorded range it holds them all (attach). The follower knows
 * the copy already: it is in the same list, open (its descriptor found through /proc/self/fd),
 * or its descriptor comes with the next batch of the file key (takeOver). That costs an open
 * and a stat once per rotation; without a copy (or one too short) the old bodies read null.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { BodyStore } from '../index/index.js';
import type { FileIdentity } from '../model/index.js';

/** First bytes of a file compared to tell it was rewritten (as many as the follower's head). */
const HEAD_BYTES = 256;

/** One plain file the store reads bodies from, through its own descriptor. */
interface BackingFile {
  fd: number;
  id: FileIdentity;
  /** The file's first bytes as the first batch held them. */
  head: Buffer;
  /** End of the furthest range recorded in it (the file must stay at least this long). */
  end: number;
  /** size:mtimeMs:ctimeMs last vouched for by the checks above. */
  vouched: string;
  gone: boolean;
}

/** A run of logical positions: bytes in memory, or a range of a file. */
interface Run {
  base: number;
  len: number;
  bytes: Uint8Array | null;
  file: BackingFile | null;
  /** File offset of base. */
  off: number;
}

export class FileBodyStore implements BodyStore {
  private readonly runs: Run[] = [];
  private readonly bases: number[] = [];
  /** Files by identity (a dropped one stays listed until rewritten() or a new file of its inode). */
  private readonly byId = new Map<string, BackingFile>();
  /** By the follower's file (source and key): the file its ranges are read from. */
  private readonly bySlot = new Map<string, BackingFile>();
  private next = 0;
  readonly firstPos = 0;
  /** Bytes held in memory (bodies read back from files are not counted). */
  bytes = 0;
  /** Bytes recorded as ranges of files. */
  fileBytes = 0;

  /** Keeps a chunk's bytes (no copy) and returns the logical position of its first byte. */
  appendBytes(chunk: Uint8Array): number {
    const base = this.next;
    this.push({ base, len: chunk.length, bytes: chunk, file: null, off: 0 });
    this.bytes += chunk.length;
    return base;
  }

  /**
   * Records chunk, a verbatim copy of [offset, offset + chunk.length) of the plain file `id`,
   * as a range of that file when the store has (or can open, through `open`) a descriptor
   * known to be that file; null otherwise (the caller keeps the bytes). `slot` names the
   * follower's file across a copy takeover (source and file key).
   */
  appendFileRange(slot: string, id: FileIdentity, offset: number, chunk: Uint8Array, open: () => number | null): number | null {
    const file = this.backing(slot, id, offset, chunk, open);
    if (file === null) return null;
    const base = this.next;
    const last = this.runs[this.runs.length - 1];
    // Consecutive chunks of one file make one run: a range read across them stays one read.
    if (last !== undefined && last.file === file && last.off + last.len === offset && last.base + last.len === base) {
      last.len += chunk.length;
      this.next += chunk.length;
    } else {
      this.push({ base, len: chunk.length, bytes: null, file, off: offset });
    }
    file.end = Math.max(file.end, offset + chunk.length);
    this.fileBytes += chunk.length;
    return base;
  }

  /**
   * The follower saw file id rewritten in place (it shrank or its first bytes changed): its
   * ranges are read from the first of `copies` that holds them (attach), else never again.
   * The inode is free for a new file of the follower's (backing()).
   */
  rewritten(id: FileIdentity, copies: readonly FileIdentity[], open: (copy: FileIdentity) => number | null): void {
    const file = this.byId.get(key(id));
    if (file === undefined) return;
    this.drop(file);
    this.byId.delete(key(id));
    for (const c of copies) if (!this.byId.has(key(c)) && this.attach(file, c, file.end, () => open(c))) return;
  }

  /** The end of the ranges recorded in file id, or null when it is not one of the store's. */
  recordedEnd(id: FileIdentity): number | null {
    return this.byId.get(key(id))?.end ?? null;
  }

  /** The descriptors the store holds open (tests tell them from the follower's). */
  descriptors(): number[] {
    return [...this.byId.values()].filter((f) => !f.gone).map((f) => f.fd);
  }

  read(pos: number, len: number, maxBytes: number): Uint8Array | null {
    if (pos < this.firstPos) return null;
    let lo = 0;
    let hi = this.bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.bases[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    const run = this.runs[lo];
    if (run === undefined) return null;
    const start = pos - run.base;
    const n = Math.max(0, Math.min(len, maxBytes, run.len - start));
    if (run.bytes !== null) return run.bytes.subarray(start, start + n);
    const file = run.file!;
    if (file.gone) return null;
    const out = Buffer.allocUnsafe(n);
    let got: number;
    try {
      got = n === 0 ? 0 : readSync(file.fd, out, 0, n, run.off + start);
    } catch {
      got = -1;
    }
    // Checked after the read: a rewrite before it changed the stat (and the first bytes).
    if (got !== n || !this.unchanged(file)) return null;
    return out;
  }

  close(): void {
    for (const f of this.byId.values()) this.drop(f);
    for (const f of this.bySlot.values()) this.drop(f);
  }

  private push(run: Run): void {
    this.runs.push(run);
    this.bases.push(run.base);
    this.next += run.len;
  }

  /** The store's file for a batch of `slot`, opened at its first batch (which must start at 0). */
  private backing(slot: string, id: FileIdentity, offset: number, chunk: Uint8Array, open: () => number | null): BackingFile | null {
    const known = this.bySlot.get(slot);
    if (known !== undefined && sameId(known.id, id)) return known.gone ? null : known;
    if (known !== undefined) return this.takeOver(known, id, open) ? known : null;
    // Seen first past its start: the first bytes that vouch for the file later are not known,
    // so its bytes stay in memory.
    if (offset !== 0 || chunk.length === 0) return null;
    // Its inode under a new slot: the follower started the file over (rewritten in place).
    const stale = this.byId.get(key(id));
    if (stale !== undefined) {
      this.drop(stale);
      this.byId.delete(key(id));
    }
    const file: BackingFile = { fd: -1, id: { ...id }, head: Buffer.from(chunk.subarray(0, Math.min(HEAD_BYTES, chunk.length))), end: 0, vouched: '', gone: true };
    if (!this.attach(file, id, chunk.length, open)) return null;
    this.bySlot.set(slot, file);
    return file;
  }

  /**
   * The follower's file went on in a copy (copytruncate: rotation.ts reads the rest from the
   * copy, under the copy's identity, same offsets). The copy is a byte copy of the old file as
   * it was, and the old file only grew until then: a copy with the same first bytes that is at
   * least as long as every range recorded holds those ranges, so they are read from it.
   */
  private takeOver(file: BackingFile, id: FileIdentity, open: () => number | null): boolean {
    this.drop(file);
    if (this.byId.get(key(file.id)) === file) this.byId.delete(key(file.id));
    return this.attach(file, id, file.end, open);
  }

  /** Opens file id for `file`; it must hold file.head and be at least minSize long. */
  private attach(file: BackingFile, id: FileIdentity, minSize: number, open: () => number | null): boolean {
    const fd = open();
    if (fd === null) return false;
    file.fd = fd;
    const st = statOf(fd);
    if (st === null || st.dev !== id.dev || st.ino !== id.ino || st.size < minSize || !sameHead(file)) {
      closeQuietly(fd);
      file.fd = -1;
      return false;
    }
    file.id = { ...id };
    file.vouched = st.sig;
    file.gone = false;
    this.byId.set(key(id), file);
    return true;
  }

  /** The file was not rewritten since it was last vouched for (see the header). */
  private unchanged(file: BackingFile): boolean {
    const st = statOf(file.fd);
    if (st !== null && st.sig === file.vouched) return true;
    if (st === null || st.size < file.end || !sameHead(file)) {
      this.drop(file);
      return false;
    }
    file.vouched = st.sig;
    return true;
  }

  /** Its ranges read null (until a copy takes them over); it stays listed for rewritten(). */
  private drop(file: BackingFile): void {
    if (file.gone) return;
    file.gone = true;
    closeQuietly(file.fd);
    file.fd = -1;
  }
}

function key(id: FileIdentity): string {
  return `${id.dev}:${id.ino}`;
}

function sameId(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function statOf(fd: number): { dev: number; ino: number; size: number; sig: string } | null {
  try {
    // Not bigint: its mtimeMs/ctimeMs keep a quarter of a microsecond at today's epoch.
    const st = fstatSync(fd);
    return { dev: st.dev, ino: st.ino, size: st.size, sig: `${st.size}:${st.mtimeMs}:${st.ctimeMs}` };
  } catch {
    return null;
  }
}

function sameHead(file: BackingFile): boolean {
  const buf = Buffer.allocUnsafe(file.head.length);
  try {
    return readSync(file.fd, buf, 0, buf.length, 0) === buf.length && buf.equals(file.head);
  } catch {
    return false;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * Opens path read-only; null when it cannot be. Non-blocking: a FIFO put there must not hold
 * the process (no effect on a regular file, and anything else fails the identity check).
 */
export function openQuietly(path: string): number | null {
  try {
    return openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return null;
  }
}
