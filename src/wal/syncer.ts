/**
 * When the active segment is fsynced (FORMAT.md, "Appending and fsync"); a cut also fsyncs
 * the segment it seals (under every policy) and tells the syncer through markSynced:
 *   batch   after N unsynced entries or T ms after the first one, whichever comes first
 *   always  group commit: a waiting append joins the next fsync; at most one runs at a time
 *   off     only when asked (sync, close) and at seals
 * It counts written and synced entries for status, and it turns a failed fsync into a
 * permanent failure: after an fsync error the kernel may have dropped the dirty pages, so a
 * retry that succeeds would claim durability falsely (the "fsyncgate" lesson from PostgreSQL).
 */
import { tracing } from '../trace/index.js';
import { WalError, type WalLogger } from './errors.js';
import type { FsyncPolicy } from './types.js';

export interface SyncerOptions {
  policy: FsyncPolicy;
  batchEntries: number;
  intervalMs: number;
  now: () => number;
  logger: WalLogger;
  /** fdatasync of the active segment; the file name is for error messages. */
  doSync: () => Promise<void>;
  activeFile: () => string;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const RESOLVED = Promise.resolve();

export class Syncer {
  private writtenSeq = 0;
  private writtenEntries = 0;
  private syncedSeq = 0;
  private syncedEntries = 0;
  private running: Promise<void> | null = null;
  private pauses = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  lastFsyncAt: number | null = null;
  failure: WalError | null = null;
  fsyncs = 0;
  /** Time spent in fdatasync, seconds: in total, and the latest one (the fsync latency metric). */
  fsyncSeconds = 0;
  lastFsyncSeconds: number | null = null;

  constructor(private readonly o: SyncerOptions) {}

  /** Entries written since open and not yet fsynced. */
  get unsyncedEntries(): number {
    return this.writtenEntries - this.syncedEntries;
  }

  /** Entries written since open and fsynced. */
  get syncedSinceOpen(): number {
    return this.syncedEntries;
  }

  /** Records a completed write of `entries` entries; returns what the append must await. */
  written(entries: number): Promise<void> {
    const seq = ++this.writtenSeq;
    this.writtenEntries += entries;
    if (this.o.policy === 'always') return this.waitFor(seq);
    if (this.o.policy === 'batch') {
      if (this.unsyncedEntries >= this.o.batchEntries) this.pump();
      else this.arm();
    }
    return RESOLVED;
  }

  /** Resolves once everything written so far is durable. */
  syncAll(): Promise<void> {
    return this.waitFor(this.writtenSeq);
  }

  /** Everything written so far was fsynced by the caller (a segment seal did it). */
  markSynced(): void {
    this.syncedSeq = this.writtenSeq;
    this.syncedEntries = this.writtenEntries;
    this.lastFsyncAt = this.o.now();
    this.disarm();
    this.settle();
  }

  /** Waits out a running fsync and holds new ones off: a cut is about to swap descriptors. */
  async pause(): Promise<void> {
    this.pauses++;
    while (this.running !== null) await this.running;
  }

  resume(): void {
    this.pauses--;
    if (this.waiters.length > 0) this.pump();
    else if (this.o.policy === 'batch' && this.unsyncedEntries > 0) this.arm();
  }

  stop(): void {
    this.disarm();
  }

  private waitFor(seq: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.syncedSeq >= seq) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.running !== null || this.pauses > 0 || this.failure !== null) return;
    if (this.syncedSeq >= this.writtenSeq) {
      this.settle();
      return;
    }
    this.disarm();
    // Everything written before this fsync starts is covered by it.
    const seq = this.writtenSeq;
    const entries = this.writtenEntries;
    const file = this.o.activeFile();
    const started = performance.now();
    const spanAttrs = { 'log_triage.wal.file': file, 'log_triage.wal.fsync_policy': this.o.policy, 'log_triage.entries': entries - this.syncedEntries };
    this.running = tracing()
      .span('wal.fsync', spanAttrs, () => this.o.doSync(), { root: true })
      .then(
        () => {
          this.fsyncs++;
          const took = (performance.now() - started) / 1000;
          this.fsyncSeconds += took;
          this.lastFsyncSeconds = took;
          if (seq > this.syncedSeq) {
            this.syncedSeq = seq;
            this.syncedEntries = entries;
          }
          this.lastFsyncAt = this.o.now();
        },
        (err: unknown) => this.fail(err, file),
      )
      .finally(() => {
        this.running = null;
        this.settle();
        if (this.failure !== null || this.pauses > 0) return;
        if (this.waiters.length > 0) this.pump();
        else if (this.o.policy === 'batch' && this.unsyncedEntries > 0) {
          if (this.unsyncedEntries >= this.o.batchEntries) this.pump();
          else this.arm();
        }
      });
  }

  /** Enters the failed state (also used when the fsync at a seal fails). */
  fail(err: unknown, file: string): void {
    const code = (err as { code?: unknown })?.code;
    this.failure = new WalError(
      'WAL_FAILED',
      `fsync failed (${typeof code === 'string' ? code : 'error'}: ${err instanceof Error ? err.message : String(err)}); ` +
        'durability of recent records is unknown, so the WAL refuses appends until it is reopened',
      file,
      -1,
      { cause: err },
    );
    // Retrying the fsync could report success for pages the kernel already dropped: only a
    // reopen (recovery reads what really reached the disk) is safe. Say so where operators look.
    const log = this.o.logger.error?.bind(this.o.logger) ?? this.o.logger.warn.bind(this.o.logger);
    log(
      { err, file },
      'WAL fsync failed: ingestion is stopped until log-triage-mcp is restarted (queries keep working). ' +
        'Check the disk holding the data dir (kernel log, free space), then restart: recovery keeps what reached the disk ' +
        'and reads the rest again from the source files.',
    );
    this.disarm();
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.syncedSeq) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private arm(): void {
    if (this.timer !== null || this.o.policy !== 'batch') return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, this.o.intervalMs);
    // A library timer must not keep the process alive; close() flushes on shutdown.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }
}
