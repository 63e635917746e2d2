/**
 * The sink with the WAL on: a batch is appended to the WAL first, then indexed with its
 * bodies pointing into the WAL record. Appends of different sources run concurrently (so
 * `--fsync always` can group-commit them); a checkpoint takes the whole semaphore, so it
 * sees every appended batch indexed and none half-done.
 */
import { Semaphore } from 'async-mutex';
import { type IngestBatch, type KnownFile, type IngestSink, releaseChunk, SinkHaltedError } from '../../ingest/index.js';
import { type Wal, WalError } from '../../wal/index.js';
import { walFailedMessage } from '../store.js';
import type { EmbeddedStore } from '../embedded-store.js';

/**
 * Permits of the apply semaphore; a checkpoint acquires all of them. Each source applies one
 * batch at a time, so this only has to exceed the number of sources. Kept small on purpose:
 * async-mutex's release loops once per permit, and 2^20 permits cost 38 % of a core.
 */
export const APPLY_PERMITS = 1024;

/**
 * Raw bytes at the end of a batch that are the source's own bytes (the resume check compares
 * them with the file). A batch with an over-long line cut (src/ingest/long-lines.ts) stands for
 * more source bytes than it holds: none of it is trusted for that check (file size only).
 */
export function verbatimTail(rawLen: number, byteStart: number, byteEnd: number): number {
  return rawLen === byteEnd - byteStart ? rawLen : 0;
}

export class WalSink implements IngestSink {
  /** Per source id: logical position one past the raw bytes of its last batch. */
  readonly lastRawEnd = new Map<number, number>();
  /** Per source id: raw bytes of its last batch (the resume tail is read from them only). */
  readonly lastRawLen = new Map<number, number>();
  /** Entries appended since the last checkpoint. */
  entriesSinceCheckpoint = 0;
  /**
   * Applied batches whose chunk reference (chunk-pool.ts) is still held, by the logical
   * position of their raw bytes: their WAL record may be the one still being written.
   */
  private unwritten: { rawPos: number; chunk: Buffer }[] = [];

  constructor(
    private readonly wal: Wal,
    private readonly store: EmbeddedStore,
    private readonly ids: ReadonlyMap<string, number>,
    readonly gate: Semaphore = new Semaphore(APPLY_PERMITS),
  ) {}

  async apply(batch: IngestBatch): Promise<void> {
    const id = this.ids.get(batch.source);
    if (id === undefined) throw new Error(`source ${batch.source} has no WAL id`);
    const p = batch.parsed;
    await this.gate.runExclusive(async () => {
      // appendBehind: the write of this chunk runs on while it is indexed and the next one
      // parsed and encoded (src/wal/write-behind.ts has the measurement).
      const rawPos = await halting(this.wal.appendBehind({
        sourceId: id, file: batch.file, byteStart: batch.byteStart, byteEnd: batch.byteEnd,
        firstLine: batch.firstLine, lines: p.lines, count: p.count, ts: p.ts, meta: p.meta, line: p.line,
        bodyStart: p.bodyStart, bodyEnd: p.bodyEnd, customTags: p.customTags, customTagAt: p.customTagAt,
        parseErrors: p.errors, raw: batch.chunk,
      }));
      this.releaseWritten(rawPos);
      this.store.indexChunk(batch.source, p, batch.firstLine, rawPos);
      this.lastRawEnd.set(id, rawPos + batch.chunk.length);
      this.lastRawLen.set(id, verbatimTail(batch.chunk.length, batch.byteStart, batch.byteEnd));
      this.entriesSinceCheckpoint += p.count;
      // Only once the whole apply succeeded: a batch that failed is applied again by the
      // pipeline (its chunk written again), and its reference must outlive that.
      this.unwritten.push({ rawPos, chunk: batch.chunk });
    }, 1);
  }

  /**
   * An append just resolved with its raw bytes at rawPos: every record before it is in the
   * file, so the chunks of those batches go back to the pool. Nothing else keeps them: the
   * index points into the WAL (readBody copies an owed record's bytes out of memory until its
   * write completes, the file afterwards), and the resume tail and checkpoints keep positions.
   * Why wait for a later append: appendBehind resolves while the write runs on, from the
   * chunk's memory (write-behind.ts), and only the newest record can still be owed, since
   * each reserve settles the previous one first (a failed write makes that append throw, so
   * nothing is released). 10M lines, WAL on: max RSS 370 MiB against 1.1 GB, a third of the
   * page faults, but no faster (chunk-pool.ts has the figures).
   * The last chunk of a catch-up stays held until the next append (4 MiB at most).
   */
  private releaseWritten(rawPos: number): void {
    if (this.unwritten.length === 0) return;
    const keep: { rawPos: number; chunk: Buffer }[] = [];
    for (const u of this.unwritten) {
      if (u.rawPos < rawPos) releaseChunk(u.chunk);
      else keep.push(u);
    }
    this.unwritten = keep;
  }

  async files(source: string, files: KnownFile[]): Promise<void> {
    const id = this.ids.get(source);
    if (id === undefined) throw new Error(`source ${source} has no WAL id`);
    await this.gate.runExclusive(() => halting(this.wal.recordFiles(id, files)), 1);
  }
}

/** A failed WAL (WAL_FAILED) stays failed until a restart: the sources stop instead of retrying. */
async function halting<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof WalError && err.code === 'WAL_FAILED') throw new SinkHaltedError(walFailedMessage(err.message), { cause: err });
    throw err;
  }
}
