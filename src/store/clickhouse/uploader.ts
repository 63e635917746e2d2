/**
 * The agent's uploader: ships the local WAL to ClickHouse, oldest first, one insert at a
 * time, and never the same batch twice as queries see it (SCHEMA.md, Upload protocol).
 *
 *   WAL  ...|== acknowledged ==|== backlog ================|  <- the sink appends here
 *                              ^ cursor (clickhouse-upload.json)
 *   round: fsync, read up to MAX_ROUND_BYTES after the cursor as RowBinary, drop the batches
 *   already in ClickHouse (watermark seq, or a presence check while a source is uncertain),
 *   insert, write the touched sources' watermarks, advance and save the cursor. The next
 *   round is read while this one is inserted.
 * A failed round leaves the cursor where it was, marks its sources uncertain, and is retried
 * with a growing pause; the WAL keeps taking batches meanwhile (retention keeps what the
 * cursor has not passed).
 */
import type { IngestStatus } from '../embedded-store.js';
import type { Logger } from '../../log.js';
import type { SourceState, UploadStatus } from '../store.js';
import type { BatchRecord, Wal } from '../../wal/index.js';
import type { ClickHouseConnection } from './connection.js';
import { customTagsOf, encodedString, RowBinaryWriter, writeBatch } from './row-binary.js';
import type { Tables } from './schema.js';
import { int, str, strList } from './sql.js';
import type { UploadState } from './upload-state.js';
import { readWatermarks, type Watermark, watermarkRow } from './watermarks.js';

/**
 * Raw WAL bytes per insert: ~550k rows of the generator's lines (about 120 WAL bytes a row),
 * below max_insert_block_size (1,048,576 rows), so an insert is one block and one part.
 * Fewer, bigger inserts mean fewer parts for the shards to merge and fewer watermark writes.
 * Measured 2026-12-02 (4M rows through one agent into the 2-shard 18.16 bench cluster, 3 runs
 * each, interleaved, load average 8-12 on the shared 2-core machine): 16 MiB, 26 inserts,
 * 54-63k rows/s, agent + servers 21.2-22.7 CPU s; 64 MiB, 10-11 inserts, 64-110k rows/s,
 * 19.4-20.8 CPU s. The slowest 64 MiB insert took 9.7 s there, a third of the client's 30 s
 * request timeout. The round buffers are allocUnsafe: their pages are touched only as rows fill them.
 */
const MAX_ROUND_BYTES = 64 << 20;
/** Watermark rows are refreshed at least this often (states and rates of quiet sources). */
const HEARTBEAT_MS = 5000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
/** An acknowledgement means the rows are on their shard, not queued in a Distributed table. */
const INSERT_SETTINGS = { insert_distributed_sync: 1 };

export interface UploaderOptions {
  conn: ClickHouseConnection;
  tables: Tables;
  wal: Wal;
  state: UploadState;
  /** Host-qualified name of a local source. */
  qualify: (local: string) => string;
  agent: string;
  host: string;
  /** Tail statuses of the local sources (unqualified names). */
  ingestStatus: () => IngestStatus[];
  logger: Logger;
  maxRoundBytes?: number;
}

interface Round {
  /** WAL position just past the round's last record. */
  reached: number;
  pieces: Piece[];
  writer: RowBinaryWriter;
}

interface Piece {
  source: string;
  lo: number;
  hi: number;
  count: number;
  minTs: number;
  maxTs: number;
  tags: string[];
  from: number;
  to: number;
}

export class Uploader {
  private readonly marks = new Map<string, Watermark>();
  /** Sources whose next batch may already be in ClickHouse (after a restart or a failure). */
  private readonly uncertain = new Set<string>();
  private readonly dirty = new Set<string>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private flushWaiters: { target: number; resolve: () => void }[] = [];
  private lastHeartbeat = 0;
  private error: string | undefined;
  private lastAckAt: number | null = null;
  private uploadedEntries = 0;
  /** Writers free for the next round: two alternate (one is sent while the next is filled). */
  private readonly spareWriters: RowBinaryWriter[] = [];
  /** Source names as RowBinary strings, encoded once. */
  private readonly encodedNames = new Map<string, Uint8Array>();
  /** Entries in the WAL past the cursor: counted at start, then kept up by notify and acks. */
  private backlogEntries = 0;

  constructor(private readonly o: UploaderOptions) {}

  get cursor(): number {
    return this.o.state.data.cursor;
  }

  /** Loads this agent's watermarks and starts shipping. */
  async start(): Promise<void> {
    const names = this.o.wal.sources().map((s) => this.o.qualify(s.name));
    if (names.length > 0) {
      for (const m of await readWatermarks(this.o.conn, this.o.tables, `source IN ${strList(names)}`)) this.marks.set(m.source, m);
    }
    for (const n of names) this.uncertain.add(n);
    const state = this.o.state.data;
    state.cursor = Math.min(Math.max(state.cursor, this.o.wal.firstPos), this.o.wal.endPos);
    const counted = await this.o.wal.replay(state.cursor, () => undefined);
    this.backlogEntries += counted.entries;
    this.running = true;
    this.loop = this.run();
  }

  /** A batch of `entries` was appended to the WAL. */
  notify(entries: number): void {
    this.backlogEntries += entries;
    this.wake?.();
  }

  /** Resolves once everything appended before the call is acknowledged by ClickHouse. */
  flushed(): Promise<void> {
    const target = this.o.wal.endPos;
    if (this.cursor >= target) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push({ target, resolve });
      this.wake?.();
    });
  }

  status(): UploadStatus {
    return {
      backlogEntries: Math.max(0, this.backlogEntries),
      backlogBytes: Math.max(0, this.o.wal.endPos - this.cursor),
      lastAckAt: this.lastAckAt,
      uploadedEntries: this.uploadedEntries,
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    try {
      this.o.state.save(true);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'could not save the upload cursor; the next start checks the last batches again');
    }
  }

  private async run(): Promise<void> {
    let pause = RETRY_MIN_MS;
    // The next round is read and encoded while the current one is inserted: the WAL read and
    // the encoding are this process's CPU, the insert is the server's, and one after the other
    // they took about equal time (16 MiB: ~0.6 s each on the 2-core build machine).
    let next: Promise<Round | null> | null = null;
    while (this.running) {
      try {
        const round = await (next ?? this.prepare(this.cursor));
        next = null;
        if (round === null) {
          if (this.dirty.size > 0 || Date.now() - this.lastHeartbeat >= HEARTBEAT_MS) await this.writeWatermarks();
          this.settleFlushed();
          this.recovered();
          await this.idle(Math.max(0, HEARTBEAT_MS - (Date.now() - this.lastHeartbeat)));
          continue;
        }
        next = this.prepare(round.reached);
        next.catch(() => undefined);
        try {
          await this.send(round);
        } finally {
          this.release(round.writer);
        }
        this.recovered();
        pause = RETRY_MIN_MS;
      } catch (err) {
        // A round read ahead of a failed one starts past a cursor that did not move: dropped.
        await this.drop(next);
        next = null;
        const message = (err as Error).message;
        if (this.error !== message) this.o.logger.warn({ err: message, backlogBytes: this.o.wal.endPos - this.cursor }, 'ClickHouse upload paused; the WAL keeps everything until it is back');
        this.error = message;
        await this.idle(pause);
        pause = Math.min(RETRY_MAX_MS, pause * 2);
      }
    }
    await this.drop(next);
  }

  private async drop(round: Promise<Round | null> | null): Promise<void> {
    const r = await round?.catch(() => null);
    if (r) this.release(r.writer);
  }

  private recovered(): void {
    if (this.error !== undefined) this.o.logger.info('ClickHouse upload resumed');
    this.error = undefined;
  }

  private idle(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** Reads and encodes up to one insert's worth of the WAL from `start`; null when there is none. */
  private async prepare(start: number): Promise<Round | null> {
    const wal = this.o.wal;
    const end = wal.endPos;
    if (start >= end) return null;
    // Only what is durable locally is shipped: a power cut cannot then take back a batch
    // ClickHouse already has, and hand its WAL position to a different one.
    await wal.sync();
    const names = new Map(wal.sources().map((s) => [s.id, this.o.qualify(s.name)]));
    const pieces: Piece[] = [];
    const roundBytes = this.o.maxRoundBytes ?? MAX_ROUND_BYTES;
    // RowBinary runs ~1.2-1.4x the WAL bytes it comes from (the source name on every row).
    const writer = this.spareWriters.pop() ?? new RowBinaryWriter(Math.ceil(roundBytes * 1.5) + (1 << 16));
    let reached = start;
    const stats = await wal.replay(start, (rec) => {
      reached = rec.end;
      if (rec.type !== 'batch' || rec.count === 0) return;
      const source = names.get(rec.sourceId);
      if (source === undefined) return;
      const base = this.baseOf(source);
      const lo = base + rec.rawPos;
      const hi = lo + rec.rawLen;
      if (hi <= (this.marks.get(source)?.seq ?? -1)) return; // acknowledged before
      const from = writer.length;
      writeBatch(writer, rec, this.encodedName(source), base);
      pieces.push({ source, lo, hi, count: rec.count, ...tsRange(rec), tags: customTagsOf(rec), from, to: writer.length });
    }, { raw: true, toPos: Math.min(end, start + roundBytes) }).catch((err: unknown) => {
      this.release(writer);
      throw err;
    });
    return { reached: Math.max(reached, stats.endPos), pieces, writer };
  }

  private encodedName(source: string): Uint8Array {
    let e = this.encodedNames.get(source);
    if (e === undefined) this.encodedNames.set(source, (e = encodedString(source)));
    return e;
  }

  /** A round's writer is free once its insert finished, failed or was dropped. */
  private release(writer: RowBinaryWriter): void {
    writer.reset();
    if (this.spareWriters.length < 2) this.spareWriters.push(writer);
  }

  /** Inserts a round (less what a presence check finds already there), then moves the cursor. */
  private async send(round: Round): Promise<void> {
    const { pieces, writer } = round;
    const send: Piece[] = [];
    for (const p of pieces) {
      if (this.uncertain.has(p.source)) {
        if (await this.landed(p)) {
          this.acknowledge(p);
          continue;
        }
        this.uncertain.delete(p.source);
      }
      send.push(p);
    }
    if (send.length > 0) {
      const data = send.length === pieces.length ? writer.view() : Buffer.concat(send.map((p) => writer.view().subarray(p.from, p.to)));
      try {
        await this.o.conn.insertRowBinary(this.o.tables.entries, data, INSERT_SETTINGS);
      } catch (err) {
        // Landed or not, nobody knows: the next attempt checks first.
        for (const p of send) this.uncertain.add(p.source);
        throw err;
      }
      for (const p of send) this.acknowledge(p);
      this.lastAckAt = Date.now();
    }
    this.o.state.data.cursor = round.reached;
    try {
      this.o.state.save(false);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'could not save the upload cursor');
    }
    await this.writeWatermarks();
    this.settleFlushed();
  }

  private settleFlushed(): void {
    this.flushWaiters = this.flushWaiters.filter((w) => {
      if (this.cursor < w.target) return true;
      w.resolve();
      return false;
    });
  }

  /** The seq base of a source (SCHEMA.md), fixed and fsynced the first time it is needed. */
  private baseOf(source: string): number {
    const bases = this.o.state.data.bases;
    let base = bases[source];
    if (base === undefined) {
      base = (this.marks.get(source)?.seq ?? -1) + 1;
      bases[source] = base;
      this.o.state.save(true);
    }
    return base;
  }

  /** Whether a batch's rows are already in ClickHouse (one count over its seq and time range). */
  private async landed(p: Piece): Promise<boolean> {
    const rows = await this.o.conn.rows<{ n: number }>(
      `SELECT count() AS n FROM ${this.o.tables.entries} WHERE source = ${str(p.source)} AND ts >= ${int(p.minTs)} AND ts <= ${int(p.maxTs)} ` +
        `AND seq >= ${int(p.lo)} AND seq < ${int(p.hi)}`,
    );
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0 && n < p.count) this.o.logger.warn({ source: p.source, found: n, expected: p.count }, 'a batch is partly in ClickHouse; not sending it again');
    return n > 0;
  }

  private acknowledge(p: Piece): void {
    const m = this.marks.get(p.source) ?? this.emptyMark(p.source);
    const first = m.entries === 0 ? p.minTs : Math.min(m.firstTs, p.minTs);
    const tags = p.tags.length === 0 ? m.tags : [...new Set([...m.tags, ...p.tags])];
    this.marks.set(p.source, { ...m, seq: Math.max(m.seq, p.hi), entries: m.entries + p.count, firstTs: first, lastTs: Math.max(m.entries === 0 ? p.maxTs : m.lastTs, p.maxTs), tags });
    this.dirty.add(p.source);
    this.uploadedEntries += p.count;
    this.backlogEntries -= p.count;
  }

  private emptyMark(source: string): Watermark {
    return {
      source, host: this.o.host, path: '', format: 'auto', agent: this.o.agent, seq: 0, entries: 0, firstTs: 0, lastTs: 0, tags: [],
      state: 'missing', bytesRead: 0, fileBytes: 0, linesRead: 0, parseErrors: 0, rotations: 0, linesPerSec: 0, error: '', updatedMs: 0,
    };
  }

  /** Watermark rows for the sources touched since the last write, or all of them on a heartbeat. */
  private async writeWatermarks(): Promise<void> {
    const now = Date.now();
    const heartbeat = now - this.lastHeartbeat >= HEARTBEAT_MS;
    const rows = [];
    const emitted = new Set<string>();
    for (const s of this.o.ingestStatus()) {
      const name = this.o.qualify(s.name);
      if (!heartbeat && !this.dirty.has(name)) continue;
      const m = this.marks.get(name) ?? this.emptyMark(name);
      const next: Watermark = {
        ...m, host: this.o.host, agent: this.o.agent, path: s.path, format: s.format, state: s.state as SourceState,
        bytesRead: s.bytesRead, fileBytes: s.fileBytes, linesRead: s.linesRead, parseErrors: s.parseErrors,
        rotations: s.rotations, linesPerSec: s.linesPerSec, error: s.error ?? '',
        // Strictly newer than the last row, so ReplacingMergeTree and the newest-row read keep this one.
        updatedMs: Math.max(now, m.updatedMs + 1),
      };
      this.marks.set(name, next);
      rows.push(watermarkRow(next));
      emitted.add(name);
    }
    // Sources the data dir holds but this run does not follow: their counts still move.
    for (const name of this.dirty) {
      const m = this.marks.get(name);
      if (m === undefined || emitted.has(name)) continue;
      const next = { ...m, state: 'stalled' as const, updatedMs: Math.max(now, m.updatedMs + 1) };
      this.marks.set(name, next);
      rows.push(watermarkRow(next));
    }
    await this.o.conn.insertJson(this.o.tables.sources, rows, INSERT_SETTINGS);
    this.dirty.clear();
    if (heartbeat) this.lastHeartbeat = now;
  }
}

function tsRange(rec: BatchRecord): { minTs: number; maxTs: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < rec.count; i++) {
    const t = rec.ts[i]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return { minTs: min, maxTs: max };
}
