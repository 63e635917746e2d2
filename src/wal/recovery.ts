/**
 * Opening a WAL directory (FORMAT.md, "Recovery on open"): check every header first (a newer
 * format is refused before anything is touched), take sealed segments' statistics from their
 * trailers, and scan and repair every other segment: corrupt records are counted and
 * skipped, a torn tail is copied to `<segment>.broken` and cut off.
 *
 * A read-only open (FORMAT.md, "Read-only opens") runs the same passes but repairs nothing:
 * another process owns the directory and may be appending, so a torn end of a segment is
 * only where this view stops (`unreadTails`), and damage is counted but left in place.
 */
import { crc32c } from './crc32c.js';
import { join } from 'node:path';
import { corrupt, ioError, isNotFound, type WalLogger } from './errors.js';
import { FRAME_BYTES, readFrame, TYPE_BATCH, TYPE_SEAL, TYPE_SOURCE } from './frame.js';
import { readFully, type WalIo, writeFully } from './io.js';
import { decodeBatch, decodeSeal, decodeSource, SEAL_RECORD_BYTES } from './record-codec.js';
import { BlockReader, scanRecords } from './scanner.js';
import { decodeHeader, parseSegmentName, SEGMENT_HEADER_BYTES, TMP_SUFFIX } from './segment-file.js';
import { SegmentState } from './segment-list.js';
import { SourceTable } from './sources.js';

export interface TornTail {
  file: string;
  /** Byte offset where the file was cut. */
  offset: number;
  /** Bytes moved to the .broken file. */
  bytes: number;
  brokenFile: string;
  reason: string;
}

export interface CorruptRecordReport {
  file: string;
  offset: number;
  length: number;
  reason: string;
  /** Where the record's bytes were saved before its frame was voided (framed records only). */
  brokenFile?: string;
}

/**
 * Bytes after the last valid record of a segment that a read-only open did not read: a
 * record the writer is appending right now, or a torn tail its next open will cut off.
 */
export interface UnreadTail {
  file: string;
  /** Byte offset where this view of the file ends. */
  offset: number;
  bytes: number;
  reason: string;
}

/** What open found and did. */
export interface RecoveryReport {
  segments: number;
  /** Segments scanned record by record (no valid seal trailer). */
  scanned: string[];
  /** Torn tails cut off (never by a read-only open). */
  tornTails: TornTail[];
  /** Tails a read-only open stopped before (always empty for a writing open). */
  unreadTails: UnreadTail[];
  corrupt: CorruptRecordReport[];
  removedTempFiles: string[];
}

export interface Recovered {
  segments: SegmentState[];
  sources: SourceTable;
  /** Logical positions of corrupt records found. */
  corrupt: Set<number>;
  report: RecoveryReport;
}

/**
 * Recovers the segments of `dir` (which must exist). Leaves no descriptor open. With
 * `readOnly` it writes, truncates, creates and deletes nothing (see the file comment).
 */
export async function recoverSegments(io: WalIo, dir: string, logger: WalLogger, readOnly = false): Promise<Recovered> {
  const names = (
    await io.readdir(dir).catch((err: unknown) => {
      throw ioError(err, 'listing the WAL directory', dir, -1);
    })
  ).sort();
  const report: RecoveryReport = { segments: 0, scanned: [], tornTails: [], unreadTails: [], corrupt: [], removedTempFiles: [] };
  for (const name of names) {
    // A reader leaves temp files alone: one may be a segment the writer is creating right now.
    if (readOnly || !name.endsWith('.wal' + TMP_SUFFIX)) continue;
    // A segment whose creation never reached its rename: never part of the log.
    await io.unlink(join(dir, name)).catch((err: unknown) => {
      throw ioError(err, 'removing a leftover temp segment', join(dir, name), -1);
    });
    report.removedTempFiles.push(name);
  }

  // Pass 1: headers of all segments, before any repair, so a newer format touches nothing.
  // The size read here bounds everything read later: on a local file system a writer's
  // append grows the size only over bytes already copied in, so below it nothing changes
  // while a reader scans.
  let segments: SegmentState[] = [];
  for (const name of names) {
    const start = parseSegmentName(name);
    if (start === null) continue;
    const seg = new SegmentState(name, join(dir, name), start, 0);
    const found = await withFd(io, seg.path, 'r', readOnly, async (fd) => {
      const head = new Uint8Array(SEGMENT_HEADER_BYTES);
      const n = await readFully(io, fd, head, 0, SEGMENT_HEADER_BYTES, 0);
      const header = decodeHeader(head.subarray(0, n), seg.path);
      if (header.start !== start) throw corrupt(`segment header says start ${header.start}, its name says ${start}`, seg.path, 16);
      seg.version = header.version;
      seg.size = await io.fileSize(fd);
    });
    if (found !== GONE) segments.push(seg);
  }

  // Pass 2: statistics from trailers, or a full scan and repair.
  const corruptSet = new Set<number>();
  const sources = new SourceTable();
  const gone = new Set<SegmentState>();
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (!last) {
      const trailer = await withFd(io, seg.path, 'r', readOnly, (fd) => readTrailer(io, fd, seg));
      if (trailer === GONE) gone.add(seg);
      if (trailer !== false) continue;
    }
    report.scanned.push(seg.name);
    // Only the last segment's records decide the sources' positions (its preamble has the rest).
    const scanned = await scanAndRepair(io, dir, seg, last ? sources : new SourceTable(), corruptSet, report, logger, readOnly);
    if (scanned === GONE) gone.add(seg);
    else if (!last) seg.sealed = true;
  }
  if (gone.size > 0) segments = segments.filter((s) => !gone.has(s));
  report.segments = segments.length;
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const seg = segments[i]!;
    if (seg.start < prev.end) throw corrupt(`segment starts at ${seg.start}, inside ${prev.name} which ends at ${prev.end}`, seg.path, 16);
  }

  // Sources referenced in the last segment whose registration was damaged: look back.
  for (let i = segments.length - 2; i >= 0 && sources.unregistered().length > 0; i--) {
    const older = new SourceTable();
    await readSources(io, segments[i]!, older, readOnly);
    sources.fillFrom(older);
  }
  return { segments, sources, corrupt: corruptSet, report };
}

/** A segment that a read-only open listed but the writer's retention deleted since. */
const GONE = Symbol('gone');

/**
 * Opens a segment; GONE instead of an error when a read-only open finds it deleted (only a
 * writer's retention deletes segments, and only a sealed prefix, so the rest stays whole).
 */
async function openSegment(io: WalIo, path: string, flags: string, readOnly: boolean, what: string): Promise<number | typeof GONE> {
  try {
    return await io.open(path, flags);
  } catch (err) {
    if (readOnly && isNotFound(err)) return GONE;
    throw ioError(err, what, path, -1);
  }
}

async function withFd<T>(io: WalIo, path: string, flags: string, readOnly: boolean, run: (fd: number) => Promise<T>): Promise<T | typeof GONE> {
  const fd = await openSegment(io, path, flags, readOnly, 'opening a segment');
  if (fd === GONE) return GONE;
  try {
    return await run(fd);
  } finally {
    await io.close(fd).catch(() => undefined);
  }
}

/** Reads a sealed segment's trailer into seg; false when there is no valid one. */
async function readTrailer(io: WalIo, fd: number, seg: SegmentState): Promise<boolean> {
  if (seg.size < SEGMENT_HEADER_BYTES + SEAL_RECORD_BYTES) return false;
  const buf = Buffer.allocUnsafeSlow(SEAL_RECORD_BYTES);
  const at = seg.size - SEAL_RECORD_BYTES;
  if ((await readFully(io, fd, buf, 0, SEAL_RECORD_BYTES, at)) !== SEAL_RECORD_BYTES) return false;
  const frame = readFrame(buf, 0);
  if (frame === null || frame.type !== TYPE_SEAL || frame.recordBytes !== SEAL_RECORD_BYTES) return false;
  const meta = buf.subarray(FRAME_BYTES);
  if (crc32c(meta) !== frame.metaCrc) return false;
  const seal = decodeSeal(meta);
  if (seal.end !== seg.end) return false;
  seg.records = seal.records;
  seg.entries = seal.entries;
  seg.corrupt = seal.corrupt;
  if (seal.entries > 0) {
    seg.minTs = seal.minTs;
    seg.maxTs = seal.maxTs;
  }
  seg.sealed = true;
  return true;
}

/**
 * Verifies every record of seg (all three CRCs), applies its source and batch records to
 * `sources`, counts corrupt records and cuts a torn tail off into a .broken file. Read-only:
 * the same checks, but seg ends (in memory) before a torn tail and damage stays in place.
 */
async function scanAndRepair(
  io: WalIo,
  dir: string,
  seg: SegmentState,
  sources: SourceTable,
  corruptSet: Set<number>,
  report: RecoveryReport,
  logger: WalLogger,
  readOnly: boolean,
): Promise<void | typeof GONE> {
  const fd = await openSegment(io, seg.path, readOnly ? 'r' : 'r+', readOnly, 'opening a segment for recovery');
  if (fd === GONE) return GONE;
  try {
    const reader = new BlockReader(io, fd, seg.size);
    let sealed = false;
    for await (const ev of scanRecords(reader, SEGMENT_HEADER_BYTES, { raw: false, verifyRaw: true })) {
      if (ev.kind === 'record') {
        sealed = false;
        const pos = seg.start + ev.off;
        try {
          if (ev.frame.type === TYPE_BATCH) {
            const rec = decodeBatch(ev.meta, ev.frame, pos, null);
            seg.addBatch(rec.count, rec.ts);
            sources.apply(rec);
          } else if (ev.frame.type === TYPE_SOURCE) {
            sources.apply(decodeSource(ev.meta, ev.frame, pos));
          } else if (ev.frame.type === TYPE_SEAL) {
            sealed = decodeSeal(ev.meta).end === seg.start + ev.off + SEAL_RECORD_BYTES;
          }
        } catch (err) {
          // Checksums matched but the fields do not add up: a writer bug; skip the record.
          noteCorrupt(seg, corruptSet, report, logger, ev.off, ev.frame.recordBytes, (err as Error).message);
        }
      } else if (ev.kind === 'corrupt') {
        noteCorrupt(seg, corruptSet, report, logger, ev.off, ev.length, ev.reason);
        // A record whose frame verifies but whose raw block does not would still be handed
        // out by a columns-only replay (it checks meta CRCs only) once this segment is sealed
        // and no longer scanned: break its frame so every later reader skips it. A reader
        // leaves that to the writer's next open; it skipped the record itself.
        if (ev.framed && !readOnly) await voidRecord(io, dir, seg, fd, ev.off, ev.length, report, logger);
      } else if (readOnly) {
        // Most likely the record the writer is appending right now: not damage, and not
        // this process's to cut. The view simply ends at the last valid record.
        report.unreadTails.push({ file: seg.path, offset: ev.off, bytes: seg.size - ev.off, reason: ev.reason });
        seg.size = ev.off;
      } else {
        // The cut keeps whatever came before, a seal record included.
        await cutTornTail(io, dir, seg, fd, ev.off, ev.reason, report, logger);
      }
    }
    seg.sealed = sealed;
  } finally {
    await io.close(fd).catch(() => undefined);
  }
}

function noteCorrupt(seg: SegmentState, set: Set<number>, report: RecoveryReport, logger: WalLogger, off: number, length: number, reason: string): void {
  seg.corrupt++;
  set.add(seg.start + off);
  report.corrupt.push({ file: seg.path, offset: off, length, reason });
  logger.warn({ file: seg.path, offset: off, length, reason }, 'WAL: corrupt record skipped');
}

/**
 * Saves a corrupt record's bytes to a .broken file, then zeroes its magic: from then on a
 * reader sees a damaged frame, resynchronizes at the next record and counts the damage.
 */
async function voidRecord(
  io: WalIo,
  dir: string,
  seg: SegmentState,
  fd: number,
  off: number,
  length: number,
  report: RecoveryReport,
  logger: WalLogger,
): Promise<void> {
  const brokenPath = await saveBroken(io, dir, seg, fd, off, length);
  try {
    await writeFully(io, fd, [new Uint8Array(4)], off);
    await io.fdatasync(fd);
  } catch (err) {
    throw ioError(err, 'voiding a corrupt record', seg.path, off);
  }
  report.corrupt[report.corrupt.length - 1]!.brokenFile = brokenPath;
  logger.warn({ file: seg.path, offset: off, brokenFile: brokenPath }, 'WAL: corrupt record saved and voided');
}

/** Copies bytes [off, off + length) of seg to the first free `<segment>.broken[.k]`, fsynced. */
async function saveBroken(io: WalIo, dir: string, seg: SegmentState, fd: number, off: number, length: number): Promise<string> {
  const taken = new Set(await io.readdir(dir));
  let brokenName = `${seg.name}.broken`;
  for (let k = 1; taken.has(brokenName); k++) brokenName = `${seg.name}.broken.${k}`;
  const brokenPath = join(dir, brokenName);
  const data = Buffer.allocUnsafeSlow(length);
  const got = await readFully(io, fd, data, 0, length, off);
  let out = -1;
  try {
    out = await io.open(brokenPath, 'wx');
    await writeFully(io, out, [data.subarray(0, got)], 0);
    await io.fsync(out);
    await io.close(out);
    out = -1;
    await io.syncDir(dir);
  } catch (err) {
    throw ioError(err, 'saving damaged bytes', brokenPath, 0);
  } finally {
    if (out >= 0) await io.close(out).catch(() => undefined);
  }
  return brokenPath;
}

async function cutTornTail(
  io: WalIo,
  dir: string,
  seg: SegmentState,
  fd: number,
  off: number,
  reason: string,
  report: RecoveryReport,
  logger: WalLogger,
): Promise<void> {
  const bytes = seg.size - off;
  // The damaged bytes are saved (and fsynced) before they are cut, so nothing is ever lost.
  const brokenPath = await saveBroken(io, dir, seg, fd, off, bytes);
  try {
    await io.ftruncate(fd, off);
    await io.fsync(fd);
  } catch (err) {
    throw ioError(err, 'truncating a torn tail', seg.path, off);
  }
  seg.size = off;
  report.tornTails.push({ file: seg.path, offset: off, bytes, brokenFile: brokenPath, reason });
  logger.warn({ file: seg.path, offset: off, bytes, brokenFile: brokenPath, reason }, 'WAL: torn tail cut off');
}

/** Source registrations and positions recorded in a segment (meta only, no repair). */
async function readSources(io: WalIo, seg: SegmentState, into: SourceTable, readOnly: boolean): Promise<void> {
  let fd = -1;
  try {
    const opened = await openSegment(io, seg.path, 'r', readOnly, 'reading source records');
    if (opened === GONE) return;
    fd = opened;
    const reader = new BlockReader(io, fd, seg.size);
    for await (const ev of scanRecords(reader, SEGMENT_HEADER_BYTES, { raw: false, verifyRaw: false })) {
      if (ev.kind !== 'record') continue;
      try {
        const pos = seg.start + ev.off;
        if (ev.frame.type === TYPE_SOURCE) into.apply(decodeSource(ev.meta, ev.frame, pos));
        else if (ev.frame.type === TYPE_BATCH) into.apply(decodeBatch(ev.meta, ev.frame, pos, null));
      } catch {
        // Damaged fields: this record cannot help; older ones may.
      }
    }
  } catch (err) {
    throw ioError(err, 'reading source records', seg.path, -1);
  } finally {
    if (fd >= 0) await io.close(fd).catch(() => undefined);
  }
}
