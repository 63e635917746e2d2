/**
 * Follows one log source through growth, rotation and truncation, and hands out chunks of
 * whole entries in file order, with the list of files they came from.
 *
 * This file is the scheduling: fs.watch on the directory plus a 100 ms poll; each look (a
 * tick) asks the file set (rotation.ts) what changed at the path, then reads every open file,
 * oldest first, through its entry reader (entry-reader.ts, which also says why this does not
 * use the `tail` package). A rotated-away file is read alongside the new one, never ahead of
 * it in time: both are read to their current end in each tick, the older first, and the old
 * one is closed once it has been quiet for a grace second (a writer that has not reopened its
 * log yet may still append to it). Each file has its own position in the WAL, so no file
 * waits for another's drain.
 *
 * Formats: with --format auto each FILE's format is detected from its first 64 KiB before
 * anything of it is handed out (file-format.ts), again for every new file after a rotation
 * or a copytruncate; a file no format recognizes is not read (the source reports `error`
 * saying what was tried) until more of it, or a new file, is recognized.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { LogFormat } from '../parse/index.js';
import type { FileIdentity } from './batch.js';
import { EntryReader } from './entry-reader.js';
import { type ByteSource, PlainSource } from './file-bytes.js';
import { FormatSlot, type FormatVerdict } from './file-format.js';
import { DEFAULT_MAX_LINE_BYTES, LineLimiter } from './long-lines.js';
import { FileSet } from './rotation.js';
import type { FileState, SourceResume, TrackedFile } from './tracked-file.js';
import { isSiblingName } from './siblings.js';
import type { SourceTracker } from './source-tracker.js';

export interface FollowedChunk {
  chunk: Buffer;
  byteStart: number;
  byteEnd: number;
  file: FileIdentity;
  /** The plain file's descriptor the bytes were read through (IngestBatch.fd); none for gzip. */
  fd?: number;
  /** Which of the source's files (line numbers run per file; a copy taken over keeps the key). */
  fileKey: number;
  /** The line the file's first bytes read by this process start at (its resume point's line). */
  firstLine: number;
  format: LogFormat;
  /** The file's modification time when the chunk was read (the year of year-less formats). */
  mtimeMs?: number;
}

export interface FollowerOptions {
  path: string;
  /** The format every file of the source is read with, or null to detect it per file. */
  format: LogFormat | null;
  tracker: SourceTracker;
  /** Receives chunks in file order; the returned promise is backpressure (resolve = room). */
  onChunk: (chunk: FollowedChunk) => Promise<void>;
  /** Receives the file list whenever it changes, in order with the chunks (before any chunk of a new file). */
  onFiles: (files: FileState[]) => Promise<void>;
  /** Chunk buffers (the parse pool's allocator, so big chunks reach a worker without a copy). */
  allocChunk?: (bytes: number) => Buffer;
  chunkBytes?: number;
  pollMs?: number;
  quietMs?: number;
  /** How long a rotated-away file keeps being read after it stops growing. */
  rotateGraceMs?: number;
  resume?: SourceResume;
  /** Longer lines are cut to this many bytes, the rest skipped (long-lines.ts; default 1 MiB). */
  maxLineBytes?: number;
  onError?: (err: Error) => void;
  /** Lines that could not be read (a gap): a warning for the log. */
  onMissed?: (fields: { bytes: number | null; file: boolean }, message: string) => void;
}

interface CaughtUpWaiter {
  resolve: () => void;
  /** Per open file, the size to reach; set at the first pass after the call. */
  targets: Map<TrackedFile, number> | null;
}

export class SourceFollower {
  private readonly set: FileSet;
  private running = false;
  /** start() was called: only then is there a list to hand on at stop(). */
  private started = false;
  private ticking: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private readonly quietMs: number;
  private readonly graceMs: number;
  /** A watch event named a sibling or moved the path: match the files on disk again. */
  private lookAround = true;
  private caughtUpWaiters: CaughtUpWaiter[] = [];
  /** The last tick failed (unreadable file): the next good one clears the error state. */
  private failed = false;

  constructor(private readonly o: FollowerOptions) {
    this.quietMs = o.quietMs ?? 100;
    this.graceMs = o.rotateGraceMs ?? 1000;
    const chunkBytes = o.chunkBytes ?? 4 << 20;
    const allocChunk = o.allocChunk ?? ((n: number) => Buffer.allocUnsafeSlow(n));
    const maxLineBytes = o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.set = new FileSet(o.path, o.resume, {
      makeReader: (t, src, position) =>
        new EntryReader(src, position, t.head, {
          chunkBytes, allocChunk, format: new FormatSlot(o.format, (verdict) => this.judged(t, verdict)),
          lines: new LineLimiter(maxLineBytes, (bytes, newLine) => o.tracker.skipLongLine(bytes, newLine)),
          emit: (chunk, byteStart, byteEnd, format, mtimeMs) =>
            o.onChunk({ chunk, byteStart, byteEnd, file: { ...t.identity }, fd: plainFd(t.reader?.src ?? src), fileKey: t.key, firstLine: t.firstLine, format, mtimeMs }),
          onRead: () => {
            if (t.rotatedAt === null && t.reader !== null) this.observe(t, true);
          },
        }),
      missed: ({ bytes, file, what }) => {
        o.tracker.addMissed(bytes, file);
        o.onMissed?.({ bytes, file }, `${what}: those lines cannot be indexed`);
      },
      rotated: () => o.tracker.rotations++,
    });
  }

  /** Starts following: reads what is there, then keeps up with appends. */
  start(): void {
    this.running = true;
    this.started = true;
    const name = basename(this.o.path);
    try {
      this.watcher = watch(dirname(this.o.path), { persistent: false }, (event, file) => {
        const f = file === null ? null : String(file);
        if (f === name && event === 'rename') {
          // Created, moved or deleted: hold the file now, before a fast rotation takes it away.
          this.lookAround = true;
          void this.set.pin();
        } else if (f === null || (f !== name && isSiblingName(name, f))) {
          this.lookAround = true;
        } else if (f !== name) {
          return;
        }
        this.kick();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // No directory yet, or no inotify: the poll below still finds the file.
    }
    this.timer = setInterval(() => this.kick(), this.o.pollMs ?? 100);
    this.timer.unref();
    this.kick();
  }

  /** Reads every file to its end, hands everything out (held tails too) and closes them. */
  async readToEnd(): Promise<void> {
    await this.set.refresh(true);
    await this.publish();
    for (const t of this.set.open()) {
      await this.readFile(t);
      // A file too short for a whole line still gets its format judged, as it is.
      if (t.reader !== null && (await t.reader.judgeWhole())) await this.readFile(t);
      if (t.reader === null) continue;
      await t.reader.flushHeld(true, 0);
      if (t.rotatedAt !== null) await this.set.finish(t);
      await this.publish();
    }
    const cur = this.set.current();
    if (cur !== undefined) this.observe(cur, false);
    await this.publish(true);
    await this.set.closeAll();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.watcher?.close();
    await this.ticking;
    // The sizes last seen go to the WAL, so a restart can tell lines left unread from lines never
    // seen. Not for a follower never started (a read-only engine beside a running serve): its
    // list is the one it resumed from, and its WAL refuses writes (the pipeline retried forever
    // and close() never returned; test/unit/checkpoints.test.ts).
    if (this.started) await this.publish(true).catch(() => undefined);
    await this.set.closeAll();
  }

  /**
   * Resolves once every entry the files held when called has been handed on (the current
   * file's last one included), or no file is found. A writer that keeps appending does not
   * delay it, nor does the last entry of a rotated-away file (handed on after its grace).
   */
  caughtUp(): Promise<void> {
    return new Promise((resolve) => this.caughtUpWaiters.push({ resolve, targets: null }));
  }

  private kick(): void {
    if (!this.running) return;
    if (this.ticking !== null) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .then(() => {
        if (this.failed) {
          this.failed = false;
          this.o.tracker.recover('read');
        }
      })
      .catch((err: Error) => {
        this.failed = true;
        this.o.tracker.fail(err.message, 'read');
        this.o.onError?.(err);
      })
      .finally(() => {
        this.ticking = null;
        if (this.again && this.running) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tick(): Promise<void> {
    const full = this.lookAround || this.set.looking;
    this.lookAround = false;
    await this.set.refresh(full);
    await this.publish();
    for (const t of this.set.open()) {
      if (!this.running) break;
      await this.readFile(t);
      const r = t.reader;
      if (r === null) continue;
      const quiet = Date.now() - r.lastGrowthAt;
      if (quiet >= this.quietMs) await r.flushHeld(false, this.graceMs);
      // A rotated-away file is done once quiet for the grace period (a gzip file once read).
      if (t.rotatedAt !== null && (r.src.gzip || Date.now() - Math.max(t.rotatedAt, r.lastGrowthAt) >= this.graceMs)) {
        // Complete now: a head too short for a whole line is judged as it is.
        if (await r.judgeWhole()) await this.readFile(t);
        if (t.reader === null) continue;
        await r.flushHeld(true, 0);
        await this.set.finish(t);
      }
      await this.publish();
    }
    const cur = this.set.current();
    if (cur !== undefined) this.observe(cur, false);
    else {
      if (this.set.open().length === 0) this.o.tracker.state = 'missing';
      this.o.tracker.pendingBytes = this.heldBytes();
    }
    this.settleCaughtUp();
  }

  /** Reads what a file has; a rotated-away file that cannot be read any more is given up and counted. */
  private async readFile(t: TrackedFile): Promise<void> {
    const r = t.reader!;
    const head = t.head.len;
    try {
      await r.readAvailable();
    } catch (err) {
      if (t.rotatedAt === null && !r.src.gzip) throw err;
      this.o.tracker.addMissed(null, true);
      this.o.onMissed?.({ bytes: null, file: true }, `a rotated file of ${this.o.path} cannot be read past byte ${r.consumed} (${(err as Error).message}): the rest of its lines cannot be indexed`);
      await r.flushHeld(true, 0);
      await this.set.finish(t);
    }
    if (t.head.len !== head) this.set.dirty = true;
  }

  /**
   * A file's format was judged: the source reports the format of the file at its path (and
   * the share of lines recognized), or `error` saying what was tried while a file is not
   * recognized; the error clears once one is.
   */
  private judged(t: TrackedFile, verdict: FormatVerdict): void {
    const tracker = this.o.tracker;
    if ('unrecognized' in verdict) {
      tracker.fail(verdict.unrecognized, 'detect');
      return;
    }
    if (t.rotatedAt === null) {
      tracker.format = verdict.format.name;
      tracker.formatShare = verdict.share;
    }
    tracker.recover('detect');
  }

  private async publish(force = false): Promise<void> {
    if (!this.set.dirty && !force) return;
    this.set.dirty = false;
    await this.o.onFiles(this.set.snapshot());
  }

  private observe(cur: TrackedFile, grew: boolean): void {
    const r = cur.reader!;
    this.o.tracker.observe(r.consumed, r.size, grew, this.heldBytes());
  }

  /** Bytes the open files hold back (entries that may still grow). */
  private heldBytes(): number {
    let n = 0;
    for (const t of this.set.open()) n += t.reader!.held.length;
    return n;
  }

  /**
   * Resolves the caughtUp() waiters whose bytes are all handed out. Reading to the end is not
   * enough: the current file's last entry is held until the next one starts or the file is
   * quiet, and resolving before that left it out of the index (`caught up` with the newest
   * entry missing). An unterminated last line is not waited for (it may never be finished).
   */
  private settleCaughtUp(): void {
    const open = this.set.open();
    this.caughtUpWaiters = this.caughtUpWaiters.filter((w) => {
      w.targets ??= new Map(open.map((t) => [t, t.reader!.size]));
      let done = true;
      for (const [t, target] of w.targets) {
        const r = t.reader;
        if (r === null || r.position >= target) continue;
        if (t.rotatedAt === null ? r.settled : r.consumed >= target) continue;
        done = false;
      }
      if (done) w.resolve();
      return !done;
    });
  }
}

/** The descriptor of a plain file's source (what FollowedChunk.fd carries). */
function plainFd(src: ByteSource): number | undefined {
  return src instanceof PlainSource ? src.fd.fd : undefined;
}
