/**
 * The active segment's writes, for the Wal (wal.ts), always with its mutex held: a record goes
 * at the end of the active segment, a partial record a failed write left behind is taken back
 * out before the next write, and a full segment is cut (sealed, made durable, the next one
 * created). Owns the active segment's descriptor.
 */
import type { DropBehind } from './drop-behind.js';
import { ioError } from './errors.js';
import { type WalIo, writeFully } from './io.js';
import { type EncodedRecord, encodeSeal, encodeSource, SEAL_RECORD_BYTES } from './record-codec.js';
import { createSegment, segmentName } from './segment-file.js';
import { type SegmentList, SegmentState } from './segment-list.js';
import type { SourceTable } from './sources.js';
import type { Syncer } from './syncer.js';
import type { WriteBehind } from './write-behind.js';

/** What the writer works with: the Wal's files, fsync state and record still being written. */
export interface WriterParts {
  io: WalIo;
  dir: string;
  list: SegmentList;
  /** The active segment's descriptor; -1 when opened read-only. */
  activeFd: number;
  segmentBytes: number;
  now: () => number;
  sourceTable: SourceTable;
  syncer: Syncer;
  behind: WriteBehind;
  /** Told of every segment a cut sealed and synced (drop-behind.ts). */
  dropBehind: DropBehind;
  /** Throws when the WAL is closed or an fsync failed (Wal.checkUsable). */
  checkUsable: () => void;
}

export class SegmentWriter {
  /** The active segment's descriptor; -1 when opened read-only. */
  activeFd: number;
  /** Offset of a partial record a failed write left behind, when truncating it failed too. */
  private pendingTruncate: number | null = null;
  private readonly io: WalIo;
  private readonly dir: string;
  private readonly list: SegmentList;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  private readonly sourceTable: SourceTable;
  private readonly syncer: Syncer;
  private readonly behind: WriteBehind;
  private readonly dropBehind: DropBehind;
  private readonly checkUsable: () => void;

  constructor(parts: WriterParts) {
    this.io = parts.io;
    this.dir = parts.dir;
    this.list = parts.list;
    this.activeFd = parts.activeFd;
    this.segmentBytes = parts.segmentBytes;
    this.now = parts.now;
    this.sourceTable = parts.sourceTable;
    this.syncer = parts.syncer;
    this.behind = parts.behind;
    this.dropBehind = parts.dropBehind;
    this.checkUsable = parts.checkUsable;
  }

  /** Writes one record at the end of the active segment, cutting first when it is full. Mutex held. */
  async writeRecord(enc: EncodedRecord): Promise<{ seg: SegmentState; at: number }> {
    const { seg, at } = await this.reserve(enc);
    try {
      await writeFully(this.io, this.activeFd, enc.parts, at);
    } catch (err) {
      // Take the partial record back out so the file stays a clean sequence of records;
      // if even that fails, retry before the next write (a positioned write would otherwise
      // leave the stale tail of the partial record behind a shorter one).
      await this.io.ftruncate(this.activeFd, at).catch(() => {
        this.pendingTruncate = at;
      });
      throw ioError(err, 'appending a record', seg.path, at);
    }
    seg.size = at + enc.bytes;
    return { seg, at };
  }

  /**
   * Where the next record goes: after the owed one is written, a pending truncate done, and
   * the active segment cut when the record does not fit. Mutex held.
   */
  async reserve(enc: EncodedRecord): Promise<{ seg: SegmentState; at: number }> {
    this.checkUsable();
    await this.behind.settle();
    if (this.pendingTruncate !== null) {
      const at = this.pendingTruncate;
      await this.io.ftruncate(this.activeFd, at).catch((err: unknown) => {
        throw ioError(err, 'truncating a partial record', this.list.active.path, at);
      });
      this.pendingTruncate = null;
    }
    let seg = this.list.active;
    if (seg.records > 0 && seg.size + enc.bytes + SEAL_RECORD_BYTES > this.segmentBytes) {
      await this.cut();
      seg = this.list.active;
    }
    return { seg, at: seg.size };
  }

  /**
   * At a clean close (Wal.close: everything written and synced), cuts the active segment when it
   * holds entries and at least minBytes, so the next open reads its trailer instead of scanning
   * it. Recovery scans the last segment whole (every CRC checked, every record decoded): the
   * 57 MB left active by a 10M-line ingest took 51-59 ms alone on the build VM, and the data dir
   * open went from 150-168 to 125-149 ms (FORMAT.md). Never while a record is owed (its write failed and close could not write it either):
   * the seal and the next preamble would count lines the file does not hold, where the scan of
   * an unsealed segment finds what is really there and the source re-reads the rest. Mutex held.
   */
  async cutAtClose(minBytes: number): Promise<void> {
    const seg = this.list.active;
    if (this.behind.owed !== null || this.pendingTruncate !== null || seg.entries === 0 || seg.size < minBytes) return;
    await this.cut();
  }

  /**
   * Seals the active segment and opens the next (FORMAT.md, "Cutting a segment"). The old
   * segment is made durable before the next one exists, because the next one's preamble
   * records source positions that count the old segment's records: after a power loss the
   * preamble must never claim lines whose records did not survive. If the next segment
   * cannot be created (ENOSPC), the trailer is taken back and the old segment stays active.
   */
  async cut(): Promise<void> {
    const old = this.list.active;
    const oldFd = this.activeFd;
    const sealAt = old.size;
    const start = old.end + SEAL_RECORD_BYTES;
    const untrail = (): Promise<void> =>
      this.io.ftruncate(oldFd, sealAt).catch(() => {
        this.pendingTruncate = sealAt;
      });
    await this.syncer.pause();
    try {
      const seal = encodeSeal({
        records: old.records, corrupt: old.corrupt, entries: old.entries,
        minTs: old.entries > 0 ? old.minTs : 0, maxTs: old.entries > 0 ? old.maxTs : 0, end: start,
      });
      try {
        await writeFully(this.io, oldFd, seal.parts, sealAt);
      } catch (err) {
        await untrail();
        throw ioError(err, 'writing a seal trailer', old.path, sealAt);
      }
      // Under every policy, 'off' included: later fsyncs only reach the next segment, so
      // this is the last chance to make the old one durable (and sync() truthful).
      try {
        await this.io.fdatasync(oldFd);
      } catch (err) {
        this.syncer.fail(err, old.path);
        throw this.syncer.failure!;
      }
      this.syncer.markSynced();
      let created: { fd: number; path: string; size: number };
      try {
        created = await createSegment(this.io, this.dir, start, this.now(), this.segmentBytes, this.sourceTable.preamble().map(encodeSource));
      } catch (err) {
        await untrail();
        throw err;
      }
      old.size = sealAt + seal.bytes;
      old.sealed = true;
      this.list.items.push(new SegmentState(segmentName(start), created.path, start, created.size));
      this.activeFd = created.fd;
      // Sealed, synced, and no longer active: its pages may leave the cache (not awaited).
      this.dropBehind.sealed(old.path);
      await this.io.close(oldFd).catch(() => undefined);
    } finally {
      this.syncer.resume();
    }
  }
}
