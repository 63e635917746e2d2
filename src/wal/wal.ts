/**
 * The WAL: appends batch and source records to the active segment, cuts segments (both
 * through segment-writer.ts), serves body reads by logical position, replays, and deletes old
 * segments; open.ts recovers the directory and opens the active segment. One async-mutex
 * serializes every step that changes the files (append, cut, deletion, close), so records
 * never interleave and a deletion never meets a cut; fsyncs run outside it (syncer.ts) so
 * appends keep flowing while one is in flight.
 *
 * A read-only instance (`readOnly: true`) is a snapshot view for a second process while the
 * writer owns the directory: recovery runs in memory only, the view ends at the last valid
 * record seen at open, and every method that would change the files throws WAL_READ_ONLY.
 */
import type { WalStatus } from '../model/index.js';
import { Mutex } from 'async-mutex';
import { isU32 } from './bytes.js';
import { DropBehind } from './drop-behind.js';
import { WalError, type WalLogger } from './errors.js';
import { FRAME_BYTES } from './frame.js';
import type { WalIo } from './io.js';
import { openParts, type WalParts } from './open.js';
import { optionError, resolveOptions, type WalOptions } from './options.js';
import { encodeBatch, encodeSource } from './record-codec.js';
import type { RecoveryReport } from './recovery.js';
import { type CorruptFound, type ReplayOptions, type ReplayStats, replaySegments } from './replay.js';
import { deleteSealedPrefix } from './retention.js';
import { WAL_FORMAT_VERSION } from './segment-file.js';
import type { SegmentInfo, SegmentList, SegmentState } from './segment-list.js';
import { SegmentWriter } from './segment-writer.js';
import { isRepairBatch, listOf, type SourceTable } from './sources.js';
import { Syncer } from './syncer.js';
import type { FsyncPolicy, SourceFields, SourceFile, WalBatch, WalRecord, WalSource } from './types.js';
import { OwedRecord, WriteBehind } from './write-behind.js';

/**
 * The WalStatus every store reports (src/model/status.ts), as this WAL fills it: every
 * optional field present, the policy typed, plus the positions it spans.
 */
export interface WalState extends WalStatus {
  enabled: true;
  /** fdatasync calls made, their total and latest duration in seconds. */
  fsyncs: number;
  fsyncSeconds: number;
  lastFsyncSeconds: number | null;
  fsyncPolicy: FsyncPolicy;
  firstPos: number;
  endPos: number;
  /** Set once an fsync failed: the WAL refuses appends until reopened. */
  error: string | null;
}

export class Wal {
  private readonly mutex = new Mutex();
  private readonly syncer: Syncer;
  private closed = false;
  /** The record appendBehind acknowledged whose write may still run (write-behind.ts). */
  private readonly behind: WriteBehind;
  /** Writes at the end of the active segment and cuts it (segment-writer.ts). */
  private readonly writer: SegmentWriter;
  /** Drops sealed, synced segments from the page cache (drop-behind.ts). */
  private readonly dropBehind: DropBehind;

  readonly dir: string;
  /** What open found and repaired. */
  readonly recovery: RecoveryReport;
  readonly fsyncPolicy: FsyncPolicy;
  readonly segmentBytes: number;
  /** Opened with readOnly: no active descriptor, nothing is ever written. */
  readonly readOnly: boolean;
  private readonly io: WalIo;
  private readonly list: SegmentList;
  private readonly sourceTable: SourceTable;
  private readonly corrupt: Set<number>;
  private readonly logger: WalLogger;
  private readonly now: () => number;
  private readonly cutOnCloseBytes: number;

  private constructor(parts: WalParts) {
    this.dir = parts.dir;
    this.recovery = parts.recovery;
    this.fsyncPolicy = parts.policy;
    this.segmentBytes = parts.segmentBytes;
    this.readOnly = parts.readOnly;
    this.io = parts.io;
    this.list = parts.list;
    this.sourceTable = parts.sourceTable;
    this.corrupt = parts.corrupt;
    this.logger = parts.logger;
    this.now = parts.now;
    this.cutOnCloseBytes = parts.cutOnCloseBytes;
    this.syncer = new Syncer({
      policy: parts.policy, batchEntries: parts.batchEntries, intervalMs: parts.batchIntervalMs, now: parts.now, logger: parts.logger,
      doSync: () => this.io.fdatasync(this.writer.activeFd),
      activeFile: () => this.list.active.path,
    });
    this.behind = new WriteBehind(this.io, (entries) => void this.syncer.written(entries));
    this.dropBehind = new DropBehind(parts.readOnly || parts.io.dropCache === undefined ? undefined : (path) => parts.io.dropCache!(path), parts.logger, parts.keepCached);
    this.writer = new SegmentWriter({ ...parts, syncer: this.syncer, behind: this.behind, dropBehind: this.dropBehind, checkUsable: () => this.checkUsable() });
  }

  /**
   * Opens (creating or recovering) the WAL in options.dir. With `readOnly: true` the
   * directory must exist and is only read: no repair, no fsync, no new segment (FORMAT.md,
   * "Read-only opens"); a newer format or a damaged header is refused all the same.
   */
  static async open(options: WalOptions): Promise<Wal> {
    const parts = await openParts(resolveOptions(options));
    const wal = new Wal(parts);
    if (parts.readOnly) return wal;
    if (parts.list.active.version < WAL_FORMAT_VERSION) {
      // FORMAT.md, recovery step 6: a segment never mixes two versions' records, and an older
      // build must refuse this directory from now on rather than misread the new records.
      const from = parts.list.active.version;
      try {
        await wal.mutex.runExclusive(() => wal.writer.cut());
      } catch (err) {
        await wal.close({ seal: false }).catch(() => undefined);
        throw err;
      }
      parts.logger.info({ from, to: WAL_FORMAT_VERSION }, 'WAL: sealed the last segment of the older format and continued in the current one');
    }
    return wal;
  }

  /**
   * Appends one batch; resolves with the logical position of raw[0] (entry i's body is at
   * rawPos + bodyStart[i]) once written, and under 'always' once durable.
   */
  async append(batch: WalBatch): Promise<number> {
    this.checkWritable('append');
    this.checkUsable();
    if (!this.sourceTable.has(batch.sourceId)) {
      throw new WalError('WAL_UNKNOWN_SOURCE', `source id ${batch.sourceId} is not registered; call registerSource first`, '', -1);
    }
    // Encoding (and the raw CRC, ~1 ms per 4 MiB) happens outside the mutex.
    const enc = encodeBatch(batch);
    const { rawPos, durable } = await this.mutex.runExclusive(async () => {
      const { seg, at } = await this.writer.writeRecord(enc);
      this.counted(seg, batch);
      // Wrapped in an object: runExclusive must not wait for the fsync while holding the lock.
      return { rawPos: seg.start + at + FRAME_BYTES + enc.metaLen, durable: this.syncer.written(batch.count) };
    });
    await durable;
    return rawPos;
  }

  /**
   * Appends one batch like append, but resolves as soon as the record has its place, while
   * its write runs on (write-behind.ts): the next append, cut, flush, replay or close waits
   * for it, its bodies are read from memory meanwhile, and it counts as written (for the
   * fsync policy and status) only once the write completed. A write that fails is retried
   * before anything else; the appends after it fail with its error until it succeeds. Under
   * 'always' this is append: the record is durable when it resolves.
   */
  async appendBehind(batch: WalBatch): Promise<number> {
    if (this.fsyncPolicy === 'always') return this.append(batch);
    this.checkWritable('append');
    this.checkUsable();
    if (!this.sourceTable.has(batch.sourceId)) {
      throw new WalError('WAL_UNKNOWN_SOURCE', `source id ${batch.sourceId} is not registered; call registerSource first`, '', -1);
    }
    const enc = encodeBatch(batch);
    return this.mutex.runExclusive(async () => {
      const { seg, at } = await this.writer.reserve(enc);
      const owed = new OwedRecord(seg, this.writer.activeFd, at, enc.parts, enc.bytes, batch.count);
      seg.size = at + enc.bytes;
      this.counted(seg, batch);
      this.behind.start(owed);
      return seg.start + at + FRAME_BYTES + enc.metaLen;
    });
  }

  /** Resolves once every appended record is in the file (waits for an appendBehind write). */
  async flush(): Promise<void> {
    if (this.behind.owed === null) return;
    await this.mutex.runExclusive(() => this.behind.settle());
  }

  /** A batch record is in place: the segment's statistics and the source's position count it. */
  private counted(seg: SegmentState, batch: WalBatch): void {
    seg.addBatch(batch.count, batch.ts);
    if (!isRepairBatch(this.sourceTable.get(batch.sourceId), batch)) {
      this.sourceTable.applyPosition(batch.sourceId, {
        file: { dev: batch.file.dev, ino: batch.file.ino }, offset: batch.byteEnd, nextLine: batch.firstLine + batch.lines,
      });
    }
  }

  /** Registers (or renames, or moves) a source; a no-op when nothing changed. */
  async registerSource(source: { id: number; name: string; path: string }): Promise<void> {
    this.checkWritable('registerSource');
    if (!isU32(source.id)) throw optionError('source.id', 'a u32', source.id);
    if (typeof source.name !== 'string' || source.name === '') throw optionError('source.name', 'a non-empty string', source.name);
    if (typeof source.path !== 'string') throw optionError('source.path', 'a string', source.path);
    await this.writeSource(() => {
      if (!this.sourceTable.differs(source.id, source.name, source.path)) return null;
      const known = this.sourceTable.get(source.id);
      return {
        sourceId: source.id, reason: 'register', name: source.name, path: source.path,
        position: known?.position ?? null, files: known === undefined ? [] : listOf(known),
        // A source seen for the first time is registered now; a renamed or moved one keeps its time.
        registeredAt: known !== undefined && known.registeredAt > 0 ? known.registeredAt : this.now(),
      };
    });
  }

  /**
   * Replaces a source's file list (FORMAT.md, "File entries"): call it after appending the
   * batches of the bytes the list counts and before any batch of a file it adds.
   */
  async recordFiles(id: number, files: readonly SourceFile[]): Promise<void> {
    this.checkWritable('recordFiles');
    await this.writeSource(() => {
      const s = this.sourceTable.get(id);
      if (s === undefined || !this.sourceTable.has(id)) {
        throw new WalError('WAL_UNKNOWN_SOURCE', `source id ${id} is not registered; call registerSource first`, '', -1);
      }
      return {
        sourceId: id, reason: 'files', name: s.name, path: s.path, position: s.position,
        files: files.map((f) => ({ ...f, file: { ...f.file } })), registeredAt: s.registeredAt,
      };
    });
  }

  /** Registered sources with their last consumed position and file list (recovered on open). */
  sources(): WalSource[] {
    return this.sourceTable.list();
  }

  /**
   * Synchronous pread of min(len, maxBytes) bytes at logical position pos; null when the
   * segment holding it was deleted (or the WAL is closed).
   */
  readBody(pos: number, len: number, maxBytes: number): Uint8Array | null {
    if (this.closed) return null;
    const owed = this.behind.read(pos, len, maxBytes, (p, n) => this.list.read(p, n, n));
    return owed !== undefined ? owed : this.list.read(pos, len, maxBytes);
  }

  /** BodyStore's name for readBody (index/body-store.ts). */
  read(pos: number, len: number, maxBytes: number): Uint8Array | null {
    return this.readBody(pos, len, maxBytes);
  }

  /** Bodies before this position no longer exist. */
  get firstPos(): number {
    // Only a read-only view can hold no segment (a directory the writer has not filled yet).
    return this.list.items[0]?.start ?? 0;
  }

  /**
   * Position the next record will start at (the end of everything appended); for a
   * read-only view, the end of the last valid record seen at open.
   */
  get endPos(): number {
    return this.list.items.at(-1)?.end ?? 0;
  }

  get bytes(): number {
    return this.list.bytes;
  }

  /**
   * Streams the records starting at or after fromPos, in log order: to resume after a batch
   * you indexed, pass its rawPos + rawLen (or its `end`). Columns and raw are views valid
   * only during the callback. Records appended after the call starts are not included (nor,
   * read-only, any record past endPos).
   */
  async replay(fromPos: number, onRecord: (rec: WalRecord) => void, opts: ReplayOptions = {}): Promise<ReplayStats> {
    this.checkOpen();
    // A record still being written is included once written; if its write failed, it is not in the file.
    await this.behind.owed?.done;
    const owed = this.behind.owed;
    const last = this.list.items.length - 1;
    const snapshot = this.list.items.map((s, i) => ({
      path: s.path, start: s.start, size: owed !== null && owed.seg === s ? owed.at : s.size, seg: s, live: this.readOnly && i === last,
    }));
    return replaySegments(this.io, snapshot, fromPos, onRecord, opts, (c: CorruptFound) => {
      if (this.corrupt.has(c.pos)) return;
      this.corrupt.add(c.pos);
      const seg = snapshot.find((s) => s.path === c.file)?.seg;
      if (seg !== undefined) seg.corrupt++;
      this.logger.warn({ file: c.file, offset: c.offset, reason: c.reason }, 'WAL: corrupt record skipped during replay');
    }, (pos) => this.corrupt.has(pos));
  }

  /** Segments in log order with positions and statistics; the last one is active. */
  segments(): SegmentInfo[] {
    return this.list.items.map((s) => s.info());
  }

  /** Deletes the sealed segments that end at or before pos. */
  async deleteSegmentsBefore(pos: number): Promise<SegmentInfo[]> {
    this.checkWritable('deleteSegmentsBefore');
    return this.deleteSealedSegmentsWhere((s) => s.end <= pos);
  }

  /**
   * Deletes sealed segments from the oldest while pred holds (stops at the first that does
   * not, and never deletes the active segment), e.g. `s => s.maxTs !== null && s.maxTs < cutoff`.
   */
  async deleteSealedSegmentsWhere(pred: (s: SegmentInfo) => boolean): Promise<SegmentInfo[]> {
    this.checkWritable('deleteSealedSegmentsWhere');
    return this.mutex.runExclusive(() => {
      this.checkOpen();
      return deleteSealedPrefix(this.io, this.dir, this.list, pred, this.logger);
    });
  }

  /** Forces an fsync now; resolves when everything appended so far is durable. */
  async sync(): Promise<void> {
    this.checkWritable('sync');
    this.checkUsable();
    await this.flush();
    await this.syncer.syncAll();
  }

  status(): WalState {
    let entries = 0;
    for (const s of this.list.items) entries += s.entries;
    // Entries of a record still being written are not durable either.
    const unsynced = Math.min(entries, this.syncer.unsyncedEntries + this.behind.entries);
    return {
      enabled: true,
      segments: this.list.items.length,
      bytes: this.list.bytes,
      durableEntries: entries - unsynced,
      unsyncedEntries: unsynced,
      lastFsyncAt: this.syncer.lastFsyncAt,
      fsyncs: this.syncer.fsyncs,
      fsyncSeconds: this.syncer.fsyncSeconds,
      lastFsyncSeconds: this.syncer.lastFsyncSeconds,
      fsyncPolicy: this.fsyncPolicy,
      corruptRecords: this.corrupt.size,
      firstPos: this.firstPos,
      endPos: this.endPos,
      error: this.syncer.failure?.message ?? null,
    };
  }

  /**
   * Flushes, fsyncs and closes every descriptor (read-only: only closes). Idempotent. Unless
   * `seal` is false (an open that failed), a large active segment is cut first (cutAtClose).
   */
  async close({ seal = true }: { seal?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    await this.mutex.runExclusive(async () => {
      if (this.closed) return;
      this.closed = true;
      this.syncer.stop();
      this.dropBehind.stop();
      if (this.readOnly) {
        this.list.closeReaders();
        return;
      }
      try {
        await this.behind.settle().catch((err: unknown) => {
          // Its lines are not counted by any source position in the file: a restart reads them again.
          this.logger.warn({ err }, 'WAL: the last record could not be written before close');
        });
        if (this.syncer.failure === null) {
          await this.syncer.syncAll();
          // The next open then reads a trailer where it would scan (SegmentWriter.cutAtClose).
          if (seal) {
            await this.writer.cutAtClose(this.cutOnCloseBytes).catch((err: unknown) => {
              this.logger.warn({ err }, 'WAL: could not seal the active segment at close; the next open scans it');
            });
          }
        }
      } finally {
        await this.syncer.pause();
        this.list.closeReaders();
        await this.io.close(this.writer.activeFd).catch(() => undefined);
      }
    });
  }

  /** Refuses a method that would change the files; it names the method for the caller. */
  private checkWritable(op: string): void {
    if (this.readOnly) throw new WalError('WAL_READ_ONLY', `${op} is not allowed: the WAL was opened read-only`, this.dir, -1);
  }

  private checkOpen(): void {
    if (this.closed) throw new WalError('WAL_CLOSED', 'the WAL is closed', this.dir, -1);
  }

  private checkUsable(): void {
    this.checkOpen();
    if (this.syncer.failure !== null) throw this.syncer.failure;
  }

  private async writeSource(make: () => SourceFields | null): Promise<void> {
    this.checkUsable();
    const durable = await this.mutex.runExclusive(async () => {
      const fields = make();
      if (fields === null) return { durable: Promise.resolve() };
      await this.writer.writeRecord(encodeSource(fields));
      this.sourceTable.applySource(fields);
      return { durable: this.syncer.written(0) };
    });
    await durable.durable;
  }
}
