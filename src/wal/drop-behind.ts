/**
 * Drop-behind: once a segment is sealed AND fdatasynced (segment-writer.ts, cut), the kernel is
 * asked to drop its pages from the page cache, keeping the newest KEEP_CACHED sealed segments.
 * The WAL's guarantees do not change: only clean (already durable) pages of files nothing
 * writes any more are dropped; a later body read of such a segment reads the disk.
 *
 * Why: the WAL copies every source byte into fresh page-cache pages (1.22 GB of WAL for a
 * 10M-line catch-up), and on the build VM (Firecracker with free page reporting) every fresh
 * page faults on the host: that copy was 44 % of the process's CPU samples. Dropping the
 * synced pages lets the kernel hand the same hot pages to the next segment. A shell loop doing
 * this by hand took WAL-on catch-up from 3.11-4.01 s (sys 2.28-2.91 s) to 2.23-3.03 s (sys
 * 0.98-1.38 s) against lnav's 3.29-3.83 s (2026-12-02 23:00, idle). This code, 12 ABBA rounds
 * against main of `ingest` of the 10M-line file (23:05-23:19, load 0.3-2.9, lnav in each
 * round): wall 2.34 s (1.98..4.14) vs 3.25 s (2.28..6.14) median, sys 1.28 vs 2.39 s, 0.75x
 * (0.63..1.33) vs 1.02x lnav. What it costs: a body read from a dropped segment reads the disk,
 * ~50 us (p99 ~90 us) for 200 bytes against 1-3 us cached, and serve's filter backfill over a
 * whole dropped 10M WAL took 2.17-2.59 s against 1.85-2.03 s cached (README, catch-up section).
 * PostgreSQL does the same for closed WAL segments (posix_fadvise DONTNEED in xlog.c).
 *
 * How: Node has no posix_fadvise and native addons would download at install, so it runs GNU
 * `dd if=SEG iflag=nocache count=0` (posix_fadvise(POSIX_FADV_DONTNEED) over the whole file,
 * coreutils >= 8.11), spawned without a shell, at most one at a time, never awaited by an
 * append. spawn() itself is synchronous (fork + exec): 14 ms median, 30 ms max with 441 MB
 * resident here, once per 64 MiB segment (included in the catch-up figures above); a
 * long-lived helper (e.g. xargs -0 fed paths on stdin) would pay that once, not tried.
 * The first failure (no dd, busybox or BSD dd without iflag=nocache, not Linux) is
 * logged at debug; if no drop ever succeeded it turns drop-behind off for this WAL, otherwise
 * later failures (a segment retention deleted meanwhile) are ignored.
 */
import { spawn } from 'node:child_process';
import type { WalLogger } from './errors.js';

/**
 * Sealed segments kept cached: live-tail triage reads the last minutes' bodies, which sit in
 * the active segment and the newest sealed ones; keeping two means a query window that
 * straddles the latest cut, or the one before it, never reads the disk (128 MiB of page
 * cache at the default 64 MiB segments). Checkpoints are never dropped (restart reads them).
 */
export const KEEP_CACHED = 2;

/** Asks the kernel to drop `path`'s cached pages; rejects when that is not possible here. */
export type DropCache = (path: string) => Promise<void>;

/** DropCache through GNU dd (no shell); `command` is for tests (a missing binary). */
export function ddDropCache(path: string, command = 'dd'): Promise<void> {
  if (process.platform !== 'linux') return Promise.reject(new Error('drop-behind needs Linux and GNU dd'));
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code ?? signal}`));
    });
  });
}

/** The queue of sealed, synced segments and the one drop running at a time. */
export class DropBehind {
  /** Sealed and synced segments still cached, oldest first (at most KEEP_CACHED). */
  private readonly kept: string[] = [];
  private readonly queue: string[] = [];
  private running = false;
  private worked = false;
  private failedOnce = false;
  private off: boolean;

  constructor(
    private readonly drop: DropCache | undefined,
    private readonly logger: WalLogger,
    /** Sealed segments left cached (WalOptions.keepCachedSegments). */
    readonly keep = KEEP_CACHED,
  ) {
    this.off = drop === undefined;
  }

  /** A segment was sealed and its fdatasync returned: it may leave the cache once KEEP_CACHED newer ones exist. */
  sealed(path: string): void {
    if (this.off) return;
    this.kept.push(path);
    if (this.kept.length <= this.keep) return;
    this.queue.push(this.kept.shift()!);
    this.pump();
  }

  /** No further drops (the WAL closed); one already running ends on its own. */
  stop(): void {
    this.off = true;
    this.queue.length = 0;
  }

  private pump(): void {
    if (this.running || this.off || this.queue.length === 0) return;
    const path = this.queue.shift()!;
    this.running = true;
    let started: Promise<void>;
    try {
      started = this.drop!(path);
    } catch (err) {
      started = Promise.reject(err);
    }
    started.then(
      () => {
        this.worked = true;
      },
      (err: unknown) => this.failed(err, path),
    ).finally(() => {
      this.running = false;
      this.pump();
    });
  }

  private failed(err: unknown, path: string): void {
    if (!this.failedOnce) {
      this.failedOnce = true;
      this.logger.debug?.({ err: err instanceof Error ? err.message : String(err), file: path }, 'WAL: could not drop a sealed segment from the page cache');
    }
    if (!this.worked) this.stop();
  }
}
