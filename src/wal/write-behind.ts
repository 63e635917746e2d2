/**
 * The one batch record whose write may still be running after `appendBehind` resolved
 * (wal.ts). Catch-up writes one record per 4 MiB chunk, and copying it into the page cache
 * is the WAL's main cost on the build VM (44 % of the process's CPU samples in `perf` for a
 * 10M-line catch-up, 10 ms median per 5 MB pwritev under strace; fdatasync was 1.4 %): with
 * the write of chunk N running on the libuv pool while chunk N is indexed and chunk N+1
 * encoded, WAL-on catch-up took 7.2..10.3 s against 7.2..11.6 s for awaiting each write
 * (2026-12-02 14:40, load 5-8; see the README's catch-up section for the quiet figures).
 *
 * Until its write completes the record's bytes are served from memory (readBody), it is not
 * counted as written (no fsync claims it), and every later write, cut, flush and close waits
 * for it first. A failed write leaves the record owed: the partial bytes are truncated and
 * the record written again, at the same place, before anything else; until that succeeds
 * every append fails with the write's error, as a failed append does.
 */
import { ioError } from './errors.js';
import { type WalIo, writeFully } from './io.js';
import type { SegmentState } from './segment-list.js';

export class OwedRecord {
  /** The error of the last attempt while the record is still owed, else null. */
  failed: unknown = null;
  /** Settles (never rejects) when the current attempt ends; `failed` says how. */
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly seg: SegmentState,
    /** The descriptor and segment offset the record is written at. */
    readonly fd: number,
    readonly at: number,
    readonly parts: readonly Uint8Array[],
    readonly bytes: number,
    readonly entries: number,
  ) {}

  /** Logical position of the record's byte 0, and one past its last byte. */
  get start(): number {
    return this.seg.start + this.at;
  }

  get end(): number {
    return this.start + this.bytes;
  }

  /** Copies the record's bytes [off, off + n) (as the file will hold them) into out at o. */
  copyTo(off: number, n: number, out: Uint8Array, o: number): void {
    let skip = off;
    let left = n;
    for (const p of this.parts) {
      if (left === 0) return;
      if (skip >= p.length) {
        skip -= p.length;
        continue;
      }
      const k = Math.min(p.length - skip, left);
      out.set(p.subarray(skip, skip + k), o);
      o += k;
      left -= k;
      skip = 0;
    }
  }
}

/** Holds the owed record, writes it (again), and serves reads that reach into it. */
export class WriteBehind {
  owed: OwedRecord | null = null;

  constructor(
    private readonly io: WalIo,
    /** Called once a record's write completed: it now counts as written. */
    private readonly written: (entries: number) => void,
  ) {}

  /** Entries of the owed record (not yet written). */
  get entries(): number {
    return this.owed?.entries ?? 0;
  }

  /** Starts writing a record whose place is reserved; the caller settled the previous one. */
  start(owed: OwedRecord): void {
    this.owed = owed;
    this.attempt(owed);
  }

  /**
   * Waits for the owed record's write; if it failed, truncates the partial bytes and writes
   * the record again, throwing the error (the WAL stays usable) while that fails. Mutex held.
   */
  async settle(): Promise<void> {
    const owed = this.owed;
    if (owed === null) return;
    await owed.done;
    if (owed.failed === null) return;
    await this.io.ftruncate(owed.fd, owed.at).then(
      () => {
        this.attempt(owed);
        return owed.done;
      },
      (err: unknown) => {
        owed.failed = err;
      },
    );
    if (owed.failed !== null) throw ioError(owed.failed, 'appending a record', owed.seg.path, owed.at);
  }

  /**
   * A read that reaches into the owed record (the last bytes of its segment): file bytes up
   * to it, then memory. Undefined when the read does not touch it.
   */
  read(pos: number, len: number, maxBytes: number, fromFile: (pos: number, len: number) => Uint8Array | null): Uint8Array | null | undefined {
    const owed = this.owed;
    const n = Math.max(0, Math.min(len, maxBytes));
    if (owed === null || pos >= owed.end || pos + n <= owed.start) return undefined;
    const out = Buffer.allocUnsafe(Math.min(n, owed.end - pos));
    let got = 0;
    if (pos < owed.start) {
      const head = fromFile(pos, owed.start - pos);
      if (head === null) return null;
      out.set(head, 0);
      if (head.length < owed.start - pos) return out.subarray(0, head.length);
      got = head.length;
    }
    owed.copyTo(pos + got - owed.start, out.length - got, out, got);
    return out;
  }

  private attempt(owed: OwedRecord): void {
    owed.failed = null;
    owed.done = writeFully(this.io, owed.fd, owed.parts, owed.at).then(
      () => {
        if (this.owed === owed) this.owed = null;
        this.written(owed.entries);
      },
      (err: unknown) => {
        owed.failed = err;
      },
    );
  }
}
