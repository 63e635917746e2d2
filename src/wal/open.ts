/**
 * Opening a WAL directory, for Wal.open (wal.ts): recovery of the segments (in memory only
 * when read-only), then the active segment, either a new one after the last sealed segment
 * (its preamble the recovered sources) or the recovered last one, reopened and made durable.
 */
import { ioError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { encodeSource } from './record-codec.js';
import { recoverSegments, type RecoveryReport } from './recovery.js';
import { createSegment, segmentName } from './segment-file.js';
import { SegmentList, SegmentState } from './segment-list.js';
import type { SourceTable } from './sources.js';

/** What open() hands the constructor: the resolved options and what recovery found. */
export interface WalParts extends ResolvedOptions {
  list: SegmentList;
  /** The active segment's descriptor; -1 when opened read-only. */
  activeFd: number;
  sourceTable: SourceTable;
  corrupt: Set<number>;
  recovery: RecoveryReport;
}

/** Recovers the segments in resolved.dir and opens (or creates) the active one. */
export async function openParts(resolved: ResolvedOptions): Promise<WalParts> {
  const { dir, readOnly, segmentBytes, maxOpen, io, logger, now } = resolved;
  if (readOnly) {
    const rec = await recoverSegments(io, dir, logger, true);
    const list = new SegmentList(io, maxOpen);
    list.items.push(...rec.segments);
    if (rec.report.corrupt.length > 0) logger.warn({ corrupt: rec.report.corrupt.length }, 'WAL opened read-only; corrupt records skipped');
    return { ...resolved, list, activeFd: -1, sourceTable: rec.sources, corrupt: rec.corrupt, recovery: rec.report };
  }
  await io.mkdirp(dir).catch((err: unknown) => {
    throw ioError(err, 'creating the WAL directory', dir, -1);
  });
  const rec = await recoverSegments(io, dir, logger);
  const list = new SegmentList(io, maxOpen);
  list.items.push(...rec.segments);
  let fd: number;
  const last = list.items[list.items.length - 1];
  if (last === undefined || last.sealed) {
    const start = last === undefined ? 0 : last.end;
    const preamble = rec.sources.preamble().map(encodeSource);
    const created = await createSegment(io, dir, start, now(), segmentBytes, preamble);
    list.items.push(new SegmentState(segmentName(start), created.path, start, created.size));
    fd = created.fd;
  } else {
    fd = await io.open(last.path, 'r+').catch((err: unknown) => {
      throw ioError(err, 'opening the active segment', last.path, -1);
    });
    // Recovered bytes may still sit only in the page cache (after a process crash): make
    // them durable once, so that durableEntries is true from the start.
    await io.fdatasync(fd).catch(async (err: unknown) => {
      await io.close(fd).catch(() => undefined);
      throw ioError(err, 'fsync of the active segment', last.path, -1);
    });
  }
  if (rec.report.tornTails.length > 0 || rec.report.corrupt.length > 0) {
    logger.warn({ tornTails: rec.report.tornTails.length, corrupt: rec.report.corrupt.length }, 'WAL recovered with repairs');
  }
  return { ...resolved, list, activeFd: fd, sourceTable: rec.sources, corrupt: rec.corrupt, recovery: rec.report };
}
