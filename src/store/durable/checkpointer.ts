/**
 * Periodic checkpoints of the index, so a restart loads columns and replays only the WAL
 * tail instead of the whole log. A snapshot is taken between batches (the apply semaphore is
 * held only while references are collected) and written while ingestion continues: sealed
 * chunks never change, the rest is copied. The newest two checkpoints are kept.
 */
import type { Logger } from '../../log.js';
import { type SpanHandle, tracing } from '../../trace/index.js';
import { snapshotIndex, type SourceSnapshot } from '../../index/index.js';
import { pruneCheckpoints, type Wal, writeCheckpoint } from '../../wal/index.js';
import type { EmbeddedStore, PersistedIngest } from '../embedded-store.js';
import type { LostRange } from '../store.js';
import type { BatchEnd } from './wal-gaps.js';
import { APPLY_PERMITS, type WalSink } from './wal-sink.js';

import { CHECKPOINT_PREFIX, checkpointName } from './data-dir.js';
export const CHECKPOINT_VERSION = 1;

/** What a checkpoint's JSON part holds besides the index sections. */
export interface CheckpointMeta {
  version: number;
  /** WAL position up to which every batch is in the checkpoint: replay from here. */
  walPos: number;
  sources: SourceSnapshot[];
  customTags: string[];
  retentionHorizon: number | null;
  /** Per source name, logical position one past the raw bytes of its last batch. */
  lastRawEnd: Record<string, number>;
  /** Per source name, raw bytes of that batch (absent in checkpoints written before it). */
  lastRawLen?: Record<string, number>;
  /** Per source name, ingestion counts (absent in checkpoints written before them). */
  ingest?: Record<string, PersistedIngest>;
  /** Per source name, where its last batch ended (replay checks the next one continues there). */
  batchEnds?: Record<string, BatchEnd>;
  /** Entries lost with corrupt WAL records that could not be re-read (wal-gaps.ts, beside this file). */
  lost?: LostRange[];
}

export interface CheckpointPolicy {
  /** Checkpoint after this many new entries (but not within minIntervalMs of the last)... */
  everyEntries: number;
  /** ...or this long after the last one, if anything changed. */
  everyMs: number;
  /**
   * A checkpoint rewrites the whole index: during a fast catch-up, one every 2M entries wrote
   * 690 MB for a 10M-line file. Entry-count checkpoints wait at least this long.
   */
  minIntervalMs: number;
}

export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = { everyEntries: 2_000_000, everyMs: 60_000, minIntervalMs: 15_000 };

export class Checkpointer {
  private lastAt = Date.now();
  private writing: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly store: EmbeddedStore,
    private readonly wal: Wal,
    private readonly sink: WalSink,
    private readonly names: ReadonlyMap<number, string>,
    private readonly logger: Logger,
    private readonly policy: CheckpointPolicy = DEFAULT_CHECKPOINT_POLICY,
  ) {}

  private batchEnds(): Record<string, BatchEnd> {
    const out: Record<string, BatchEnd> = {};
    for (const s of this.wal.sources()) {
      const rawEnd = this.sink.lastRawEnd.get(s.id);
      const name = this.names.get(s.id);
      if (s.position === null || rawEnd === undefined || name === undefined) continue;
      const index = this.store.sourceIndex(name);
      out[name] = {
        file: s.position.file, byteEnd: s.position.offset, nextLine: s.position.nextLine,
        lastTs: index === undefined || index.entries === 0 ? null : index.lastTs,
        rawEnd, verbatim: this.sink.lastRawLen.get(s.id) ?? 0,
      };
    }
    return out;
  }

  /** Whether the policy says it is time. */
  due(): boolean {
    const n = this.sink.entriesSinceCheckpoint;
    const since = Date.now() - this.lastAt;
    return (n >= this.policy.everyEntries && since >= this.policy.minIntervalMs) || (n > 0 && since >= this.policy.everyMs);
  }

  /** Writes a checkpoint now (one at a time; a call during a write waits for it and returns). */
  async checkpoint(): Promise<void> {
    if (this.writing !== null) return this.writing;
    this.writing = tracing().span('checkpoint.write', {}, (span) => this.write(span), { root: true }).finally(() => {
      this.writing = null;
    });
    return this.writing;
  }

  private async write(span: SpanHandle): Promise<void> {
    const started = performance.now();
    // Between batches: every appended batch is indexed, none is half-applied.
    const [, release] = await this.sink.gate.acquire(APPLY_PERMITS);
    let snapshot;
    let meta: CheckpointMeta;
    try {
      // The last batch's write may still run (Wal.appendBehind): the checkpoint must not claim
      // WAL bytes that a kill -9 now would lose.
      await this.wal.flush();
      snapshot = snapshotIndex(this.store.sourceIndexes());
      const lastRawEnd: Record<string, number> = {};
      for (const [id, end] of this.sink.lastRawEnd) lastRawEnd[this.names.get(id) ?? String(id)] = end;
      const lastRawLen: Record<string, number> = {};
      for (const [id, len] of this.sink.lastRawLen) lastRawLen[this.names.get(id) ?? String(id)] = len;
      meta = {
        version: CHECKPOINT_VERSION,
        walPos: this.wal.endPos,
        sources: snapshot.sources,
        customTags: this.store.tags.customTags(),
        retentionHorizon: this.store.retentionHorizon,
        lastRawEnd,
        lastRawLen,
        ingest: this.store.ingestToPersist(),
        batchEnds: this.batchEnds(),
        lost: this.store.lost,
      };
      span.set({ 'log_triage.entries': this.sink.entriesSinceCheckpoint });
      this.sink.entriesSinceCheckpoint = 0;
      this.lastAt = Date.now();
    } finally {
      release();
    }
    const name = checkpointName(meta.walPos);
    const { bytes } = await writeCheckpoint(this.dir, name, { meta, sections: snapshot.sections });
    await pruneCheckpoints(this.dir, CHECKPOINT_PREFIX, 2);
    span.set({ 'log_triage.checkpoint.name': name, 'log_triage.bytes': bytes, 'log_triage.wal.position': meta.walPos });
    this.logger.info({ name, bytes, ms: Math.round(performance.now() - started) }, 'checkpoint written');
  }
}
