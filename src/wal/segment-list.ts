/**
 * The segments in memory: their positions and statistics, position -> segment lookup, and
 * the cache of read descriptors behind readBody. Reads are synchronous preads, so a body
 * read can never interleave with the async steps that delete or seal a segment: those
 * remove a segment from this list (synchronously) before closing its descriptor.
 */
import { isNotFound, ioError } from './errors.js';
import type { WalIo } from './io.js';
import { WAL_FORMAT_VERSION } from './segment-file.js';

/** A segment as retention and status see it. */
export interface SegmentInfo {
  name: string;
  path: string;
  /** Logical position of the file's byte 0. */
  start: number;
  /** One past the last byte: start + bytes. */
  end: number;
  bytes: number;
  sealed: boolean;
  /** Batch records and entries held. */
  records: number;
  entries: number;
  /** Smallest and largest entry timestamp (epoch microseconds), null without entries. */
  minTs: number | null;
  maxTs: number | null;
}

export class SegmentState {
  records = 0;
  entries = 0;
  minTs = Number.POSITIVE_INFINITY;
  maxTs = Number.NEGATIVE_INFINITY;
  /** Corrupt records found in this segment (recovery, replay). */
  corrupt = 0;
  sealed = false;
  /** Format version in the header (segments this process creates have the current one). */
  version = WAL_FORMAT_VERSION;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly start: number,
    /** Bytes of valid data: the file size, or the write offset of the active segment. */
    public size: number,
  ) {}

  get end(): number {
    return this.start + this.size;
  }

  addBatch(count: number, ts: Float64Array): void {
    this.records++;
    this.entries += count;
    let lo = this.minTs;
    let hi = this.maxTs;
    for (let i = 0; i < count; i++) {
      const t = ts[i]!;
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    this.minTs = lo;
    this.maxTs = hi;
  }

  info(): SegmentInfo {
    const has = this.entries > 0 && this.maxTs >= this.minTs;
    return {
      name: this.name, path: this.path, start: this.start, end: this.end, bytes: this.size, sealed: this.sealed,
      records: this.records, entries: this.entries, minTs: has ? this.minTs : null, maxTs: has ? this.maxTs : null,
    };
  }
}

export class SegmentList {
  readonly items: SegmentState[] = [];
  /** Read descriptors by segment start, in least-recently-used order (Map keeps insertion order). */
  private readonly readers = new Map<number, number>();

  constructor(
    private readonly io: WalIo,
    private readonly maxReaders: number,
  ) {}

  get active(): SegmentState {
    return this.items[this.items.length - 1]!;
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.items) n += s.size;
    return n;
  }

  /** The segment holding logical position pos, or undefined (deleted, or a gap). */
  find(pos: number): SegmentState | undefined {
    const items = this.items;
    let lo = 0;
    let hi = items.length - 1;
    if (hi < 0 || pos < items[0]!.start) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (items[mid]!.start <= pos) lo = mid;
      else hi = mid - 1;
    }
    const s = items[lo]!;
    return pos < s.end ? s : undefined;
  }

  /**
   * Reads min(len, maxBytes) bytes at logical position pos (fewer if the segment ends first);
   * null when the position is no longer held.
   */
  read(pos: number, len: number, maxBytes: number): Uint8Array | null {
    const seg = this.find(pos);
    if (seg === undefined) return null;
    const off = pos - seg.start;
    const n = Math.max(0, Math.min(len, maxBytes, seg.size - off));
    const fd = this.readerFor(seg);
    if (fd === null) return null;
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    try {
      while (got < n) {
        const k = this.io.readSync(fd, out, got, n - got, off + got);
        if (k === 0) break;
        got += k;
      }
    } catch (err) {
      throw ioError(err, 'reading a body', seg.path, off + got);
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Removes a segment from the list and closes its read descriptor. */
  remove(seg: SegmentState): void {
    const i = this.items.indexOf(seg);
    if (i >= 0) this.items.splice(i, 1);
    this.dropReader(seg.start);
  }

  dropReader(start: number): void {
    const fd = this.readers.get(start);
    if (fd === undefined) return;
    this.readers.delete(start);
    try {
      this.io.closeSync(fd);
    } catch {
      // Closing a read-only descriptor cannot lose data; nothing to do.
    }
  }

  closeReaders(): void {
    for (const start of [...this.readers.keys()]) this.dropReader(start);
  }

  private readerFor(seg: SegmentState): number | null {
    const cached = this.readers.get(seg.start);
    if (cached !== undefined) {
      // Move to the most recently used end.
      this.readers.delete(seg.start);
      this.readers.set(seg.start, cached);
      return cached;
    }
    let fd: number;
    try {
      fd = this.io.openSync(seg.path, 'r');
    } catch (err) {
      if (isNotFound(err)) return null;
      throw ioError(err, 'opening a segment for reading', seg.path, -1);
    }
    this.readers.set(seg.start, fd);
    if (this.readers.size > this.maxReaders) this.dropReader(this.readers.keys().next().value!);
    return fd;
  }
}
