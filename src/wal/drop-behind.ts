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
 * 0.98-1.38 s) against lnav's 3.29-3.83 s (2026-12-02 23:00, idle). With one dd spawn per
 * segment, 12 ABBA rounds against main of `ingest` of the 10M-line file (23:05-23:19, load
 * 0.3-2.9, lnav in each round): wall 2.34 s (1.98..4.14) vs 3.25 s (2.28..6.14) median, sys
 * 1.28 vs 2.39 s, 0.75x (0.63..1.33) vs 1.02x lnav; with the xargs helper below, 6 rounds of
 * main / spawn per segment / helper (23:35-23:40, load 4-6): 3.98 / 3.53 / 3.07 s median. What
 * it costs: a body read from a dropped segment reads the disk,
 * ~50 us (p99 ~90 us) for 200 bytes against 1-3 us cached, and serve's filter backfill over a
 * whole dropped 10M WAL took 2.17-2.59 s against 1.85-2.03 s cached (README, catch-up section).
 * PostgreSQL does the same for closed WAL segments (posix_fadvise DONTNEED in xlog.c).
 *
 * How: Node has no posix_fadvise and native addons would download at install, so it runs GNU
 * `dd if=SEG iflag=nocache count=0` (posix_fadvise(POSIX_FADV_DONTNEED) over the whole file,
 * coreutils >= 8.11), spawned without a shell, at most one at a time, never awaited by an
 * append. Node's spawn() blocks the event loop for a fork + exec that grows with the resident
 * size (3.8 ms at 40 MB, 14 ms at 441 MB, 43 ms at 1.24 GB here, medians of 16), so only the
 * first drop spawns dd itself (it is also the probe); the rest go to one long-lived
 * `xargs -0 -I{} dd if={} iflag=nocache count=0 status=none` fed NUL-terminated paths on
 * its stdin (DropHelper), which forks the dd runs from its own small address space.
 * The first failure (no dd, busybox or BSD dd without iflag=nocache, not Linux) is
 * logged at debug; if no drop ever succeeded it turns drop-behind off for this WAL, otherwise
 * later failures (a segment retention deleted meanwhile) are ignored.
 */
import { type ChildProcess, spawn } from 'node:child_process';
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

/**
 * The process's drop-behind dd runs (nodeIo.dropCache): the first drop runs dd directly, as the
 * probe; after it succeeded, paths are written to one xargs that runs dd per path in order.
 * If xargs cannot be started or dies, each drop spawns dd directly again.
 */
export class DropHelper {
  private probe: Promise<void> | null = null;
  private child: ChildProcess | null = null;
  private broken = false;

  constructor(
    private readonly dd = 'dd',
    private readonly xargs = 'xargs',
  ) {}

  drop(path: string): Promise<void> {
    if (this.probe === null) {
      this.probe = ddDropCache(path, this.dd);
      return this.probe;
    }
    return this.probe.then(() => (this.broken ? ddDropCache(path, this.dd) : this.send(path)));
  }

  /** Hands a path to the helper; resolves once written to its pipe (xargs runs dd in order). */
  private send(path: string): Promise<void> {
    const child = this.child ?? this.start();
    return new Promise<void>((resolve, reject) => {
      child.stdin!.write(`${path}\0`, (err) => (err ? reject(err) : resolve()));
    });
  }

  private start(): ChildProcess {
    const child = spawn(this.xargs, ['-0', '-I{}', this.dd, 'if={}', 'iflag=nocache', 'count=0', 'status=none'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const lost = (): void => {
      if (this.child === child) this.child = null;
      this.broken = true;
    };
    child.once('error', lost);
    child.once('exit', lost);
    child.stdin!.on('error', lost);
    // Neither the helper nor its pipe keeps the process alive; at exit the pipe closes and
    // xargs ends after the dd it is running.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    this.child = child;
    return child;
  }
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
