/**
 * Lost WAL records: a corrupt record in the middle of the WAL is skipped at replay, and with
 * it every entry it held (3,599 of 3,600 in the probe of issue 15, item 7), while a query for
 * that time answered `ok` with an entry 29 minutes away.
 *
 * A source's batches tile each of its files: each starts where the one before it in the same
 * file ended (a source reads a rotated-away file and the new one side by side, so its batches
 * of two files interleave). During replay GapTracker notices where they do not (a byte range
 * of one file that no surviving record covers). After replay, repairGaps() re-reads each such range from the source file when the
 * file still holds the same bytes (same identity, and the bytes just before and after the
 * range equal the neighbouring records' raw bytes), parses it and appends it to the WAL as a
 * repair batch (FORMAT.md, "Repair batches"), so the next start finds it there. What cannot be
 * re-read stays a lost range: answers near it carry a note, and tail_status lists it.
 */
import { open, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LineLimiter } from '../../ingest/index.js';
import type { Logger } from '../../log.js';
import { detectFormat, resolveFormat, type CustomFormatSpec, type ParseOptions } from '../../parse/index.js';
import type { BatchRecord, FileIdentity, Wal } from '../../wal/index.js';
import type { EmbeddedStore } from '../embedded-store.js';
import type { LostRange } from '../store.js';

/** The end of a source's last batch seen in replay. */
export interface BatchEnd {
  file: FileIdentity;
  byteEnd: number;
  nextLine: number;
  /** Newest entry time of that batch, epoch us (null when it held no entry). */
  lastTs: number | null;
  /** Logical WAL position one past its raw block, and how many raw bytes are verbatim. */
  rawEnd: number;
  verbatim: number;
}

export interface Gap {
  sourceId: number;
  file: FileIdentity;
  byteStart: number;
  byteEnd: number;
  firstLine: number;
  /** The first line of the batch after the gap. */
  nextLine: number;
  fromTs: number | null;
  toTs: number | null;
  prevRawEnd: number;
  prevVerbatim: number;
  nextRawPos: number;
  /** Raw bytes of the batch after the gap (its head is compared with the file). */
  nextRawLen: number;
}

/** Largest lost range re-read from a source file at start-up. */
const MAX_REPAIR_BYTES = 256 << 20;
/** Bytes compared on each side of a lost range. */
const EDGE_BYTES = 64;

const sameFile = (a: FileIdentity, b: FileIdentity): boolean => a.dev === b.dev && a.ino === b.ino;

/** Batches are followed per source and file. */
const fileKey = (sourceId: number, f: FileIdentity): string => `${sourceId}:${f.dev}:${f.ino}`;

export class GapTracker {
  private readonly last = new Map<string, BatchEnd>();
  readonly gaps: Gap[] = [];

  /**
   * Where a source stood at the checkpoint replay starts from (its last batch; a file it read
   * alongside is followed from its first batch after the checkpoint).
   */
  seed(sourceId: number, end: BatchEnd): void {
    this.last.set(fileKey(sourceId, end.file), end);
  }

  /**
   * Notes a replayed batch. Returns true for a repair batch (one that fills an earlier gap):
   * it is not the source's newest, so it must not count as its last batch.
   */
  observe(rec: BatchRecord, verbatim: number): boolean {
    const prev = this.last.get(fileKey(rec.sourceId, rec.file));
    if (prev !== undefined && sameFile(prev.file, rec.file) && rec.byteStart > 0 && rec.byteEnd <= prev.byteEnd) {
      const i = this.gaps.findIndex((g) => g.sourceId === rec.sourceId && sameFile(g.file, rec.file) && g.byteStart === rec.byteStart && g.byteEnd === rec.byteEnd);
      if (i >= 0) this.gaps.splice(i, 1);
      return true;
    }
    if (prev !== undefined && sameFile(prev.file, rec.file) && rec.byteStart > prev.byteEnd) {
      this.gaps.push({
        sourceId: rec.sourceId, file: rec.file, byteStart: prev.byteEnd, byteEnd: rec.byteStart,
        firstLine: prev.nextLine, nextLine: rec.firstLine,
        fromTs: prev.lastTs, toTs: rec.count > 0 ? rec.ts[0]! : null,
        prevRawEnd: prev.rawEnd, prevVerbatim: prev.verbatim, nextRawPos: rec.rawPos, nextRawLen: rec.rawLen,
      });
    }
    let lastTs: number | null = null;
    for (let i = 0; i < rec.count; i++) lastTs = Math.max(lastTs ?? -Infinity, rec.ts[i]!);
    this.last.set(fileKey(rec.sourceId, rec.file), {
      file: rec.file, byteEnd: rec.byteEnd, nextLine: rec.firstLine + rec.lines, lastTs,
      rawEnd: rec.rawPos + rec.rawLen, verbatim,
    });
    return false;
  }
}

export interface RepairContext {
  wal: Wal;
  store: EmbeddedStore;
  /** Source id -> name and the path of its file. */
  sources: ReadonlyMap<number, { name: string; path: string }>;
  format: string;
  /** A source's own --format SOURCE=NAME, by source name (else `format`). */
  sourceFormats?: ReadonlyMap<string, string>;
  /** Custom formats from the config file. */
  customFormats?: readonly CustomFormatSpec[];
  timezone: string;
  maxLineBytes: number;
  logger: Logger;
  /** Read-only (beside a running serve): report the gaps, write nothing. */
  readOnly: boolean;
}

/** Opens the file with this identity: the path itself or a rotated sibling. */
async function openIdentity(path: string, file: FileIdentity): Promise<import('node:fs/promises').FileHandle | null> {
  let names: string[] = [];
  try {
    names = (await readdir(dirname(path))).filter((n) => n.startsWith(basename(path))).map((n) => join(dirname(path), n));
  } catch {
    names = [path];
  }
  for (const candidate of [path, ...names.filter((n) => n !== path)]) {
    try {
      const fd = await open(candidate, 'r');
      const st = await fd.stat();
      if (st.isFile() && st.dev === file.dev && st.ino === file.ino) return fd;
      await fd.close();
    } catch {
      // gone or unreadable: try the next one
    }
  }
  return null;
}

async function readAt(fd: import('node:fs/promises').FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fd.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}

/** Re-reads one gap; null when done, else why it could not be. */
async function repairOne(ctx: RepairContext, gap: Gap): Promise<string | null> {
  const src = ctx.sources.get(gap.sourceId);
  if (src === undefined) return 'the source is unknown';
  const size = gap.byteEnd - gap.byteStart;
  if (size > MAX_REPAIR_BYTES) return `the range is larger than ${MAX_REPAIR_BYTES} bytes`;
  const fd = await openIdentity(src.path, gap.file);
  if (fd === null) return 'the source file is gone (rotated away and deleted, or replaced)';
  try {
    const st = await fd.stat();
    if (st.size < gap.byteEnd) return 'the source file no longer holds those bytes (truncated)';
    // The neighbours' raw bytes must sit right around the range: the same bytes are there.
    const k = Math.min(EDGE_BYTES, gap.prevVerbatim, gap.byteStart);
    if (k > 0) {
      const walBytes = ctx.wal.readBody(gap.prevRawEnd - k, k, k);
      const fileBytes = await readAt(fd, gap.byteStart - k, k);
      if (walBytes === null || !fileBytes.equals(walBytes)) return 'the source file no longer holds the same bytes';
    }
    const h = Math.min(EDGE_BYTES, gap.nextRawLen);
    const head = ctx.wal.readBody(gap.nextRawPos, h, h);
    if (head !== null && head.length > 0 && !(await readAt(fd, gap.byteEnd, head.length)).equals(head)) {
      return 'the source file no longer holds the same bytes';
    }
    const raw = await readAt(fd, gap.byteStart, size);
    if (raw.length !== size) return 'the source file no longer holds those bytes';
    const limiter = new LineLimiter(ctx.maxLineBytes);
    const chunk = raw.subarray(0, limiter.trim(raw, 0, raw.length));
    const formatName = ctx.sourceFormats?.get(src.name) ?? ctx.format;
    const custom = ctx.customFormats?.find((c) => c.name === formatName);
    const options: ParseOptions = { timezone: ctx.timezone, mtimeMs: st.mtimeMs, ...(custom === undefined ? {} : { custom }) };
    const format = formatName === 'auto' ? detectFormat(chunk.subarray(0, 64 * 1024)) : resolveFormat(formatName, options);
    if (format === undefined) return `unknown format ${formatName}`;
    const parsed = format.parseChunk(chunk, options);
    if (gap.firstLine + parsed.lines !== gap.nextLine) return 'the bytes there do not hold the lines that were lost';
    if (ctx.readOnly) return 'not repaired yet (read-only: the next serve or ingest re-reads it)';
    const p = parsed;
    const rawPos = await ctx.wal.append({
      sourceId: gap.sourceId, file: gap.file, byteStart: gap.byteStart, byteEnd: gap.byteEnd,
      firstLine: gap.firstLine, lines: p.lines, count: p.count, ts: p.ts, meta: p.meta, line: p.line,
      bodyStart: p.bodyStart, bodyEnd: p.bodyEnd, customTags: p.customTags, customTagAt: p.customTagAt,
      parseErrors: p.errors, raw: chunk,
    });
    ctx.store.indexChunk(src.name, p, gap.firstLine, rawPos);
    return null;
  } finally {
    await fd.close().catch(() => undefined);
  }
}

/** Re-reads every gap the source files still hold; returns the ranges that stay lost. */
export async function repairGaps(ctx: RepairContext, gaps: readonly Gap[]): Promise<{ repaired: number; lost: LostRange[] }> {
  let repaired = 0;
  const lost: LostRange[] = [];
  for (const gap of gaps) {
    const name = ctx.sources.get(gap.sourceId)?.name ?? `#${gap.sourceId}`;
    const why = await repairOne(ctx, gap).catch((err: Error) => `re-reading failed: ${err.message}`);
    if (why === null) {
      repaired++;
      ctx.logger.info({ source: name, byteStart: gap.byteStart, byteEnd: gap.byteEnd }, 'lost WAL record re-read from the source file');
      continue;
    }
    lost.push({ source: name, fromTs: gap.fromTs, toTs: gap.toTs, bytes: gap.byteEnd - gap.byteStart, lines: gap.nextLine - gap.firstLine, reason: why });
    ctx.logger.warn({ source: name, byteStart: gap.byteStart, byteEnd: gap.byteEnd, reason: why }, 'entries of a corrupt WAL record are lost');
  }
  return { repaired, lost };
}
