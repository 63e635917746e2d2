/**
 * Replay: stream the records of a snapshot of the segments, in log order, from a position.
 * Frames and meta blocks are read with large positioned reads and verified (meta CRC); raw
 * blocks are skipped unless asked for, so restoring an index reads ~21 bytes per entry.
 * Each segment is opened with its own descriptor: retention may unlink a segment during a
 * replay and the open descriptor keeps its bytes readable (POSIX unlink semantics).
 */
import { ioError, isNotFound } from './errors.js';
import { TYPE_BATCH, TYPE_SOURCE } from './frame.js';
import type { WalIo } from './io.js';
import { decodeBatch, decodeSource } from './record-codec.js';
import { BlockReader, scanRecords } from './scanner.js';
import { SEGMENT_HEADER_BYTES } from './segment-file.js';
import type { WalRecord } from './types.js';

export interface ReplayOptions {
  /** Deliver each batch's raw block (verified against its CRC). Default false. */
  raw?: boolean;
  /** Stop before the first record at or after this position. Default: the end. */
  toPos?: number;
  /** Called for each corrupt record or region found (it is skipped either way). */
  onCorrupt?: (c: CorruptFound) => void;
}

export interface CorruptFound {
  file: string;
  /** Byte offset in the file and the logical position of the damage. */
  offset: number;
  pos: number;
  length: number;
  reason: string;
}

export interface ReplayStats {
  /** Records delivered (batches and sources). */
  records: number;
  entries: number;
  corrupt: number;
  bytesRead: number;
  /** Position just past the last record delivered (fromPos when none). */
  endPos: number;
}

/** The part of a segment replay needs; `size` is the byte count to read (a snapshot). */
export interface ReplaySegment {
  path: string;
  start: number;
  size: number;
  /**
   * A read-only view of the segment another process appends to: its bytes below `size` were
   * verified at open, so a torn end here means the writer rewrote its own tail (it takes a
   * seal trailer back when the next segment cannot be created) and is where replay stops,
   * not damage.
   */
  live?: boolean;
}

export async function replaySegments(
  io: WalIo,
  segments: readonly ReplaySegment[],
  fromPos: number,
  onRecord: (rec: WalRecord) => void,
  opts: ReplayOptions,
  noteCorrupt: (c: CorruptFound) => void,
  /** Records already known to be corrupt (found by recovery or an earlier replay). */
  knownCorrupt: (pos: number) => boolean,
): Promise<ReplayStats> {
  const toPos = opts.toPos ?? Number.POSITIVE_INFINITY;
  const raw = opts.raw === true;
  const stats: ReplayStats = { records: 0, entries: 0, corrupt: 0, bytesRead: 0, endPos: fromPos };
  const report = (c: CorruptFound): void => {
    stats.corrupt++;
    noteCorrupt(c);
    opts.onCorrupt?.(c);
  };
  for (const seg of segments) {
    if (seg.start + seg.size <= fromPos || seg.start >= toPos) continue;
    let fd: number;
    try {
      fd = await io.open(seg.path, 'r');
    } catch (err) {
      if (isNotFound(err)) continue; // deleted by retention since the snapshot
      throw ioError(err, 'opening a segment for replay', seg.path, -1);
    }
    try {
      const reader = new BlockReader(io, fd, seg.size);
      const skipBefore = Math.max(SEGMENT_HEADER_BYTES, fromPos - seg.start);
      for await (const ev of scanRecords(reader, SEGMENT_HEADER_BYTES, { raw, verifyRaw: raw, skipBefore })) {
        if (ev.off < skipBefore) continue;
        const pos = seg.start + ev.off;
        if (pos >= toPos) break;
        if (ev.kind === 'corrupt') {
          report({ file: seg.path, offset: ev.off, pos, length: ev.length, reason: ev.reason });
          continue;
        }
        if (ev.kind === 'torn') {
          if (seg.live === true) break;
          // Only a damaged sealed segment ends like this (the last one was repaired on open).
          report({ file: seg.path, offset: ev.off, pos, length: seg.size - ev.off, reason: ev.reason });
          break;
        }
        if (knownCorrupt(pos)) continue;
        let rec: WalRecord | null = null;
        try {
          if (ev.frame.type === TYPE_BATCH) rec = decodeBatch(ev.meta, ev.frame, pos, ev.raw);
          else if (ev.frame.type === TYPE_SOURCE) rec = decodeSource(ev.meta, ev.frame, pos);
        } catch (err) {
          report({ file: seg.path, offset: ev.off, pos, length: ev.frame.recordBytes, reason: (err as Error).message });
          continue;
        }
        if (rec === null) continue; // seal trailers and future skippable types
        onRecord(rec);
        stats.records++;
        if (rec.type === 'batch') stats.entries += rec.count;
        stats.endPos = rec.end;
      }
      stats.bytesRead += reader.bytesRead;
    } finally {
      await io.close(fd).catch(() => undefined);
    }
  }
  return stats;
}
