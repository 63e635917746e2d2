/**
 * The path of one source's chunks: parse (in the pool, possibly out of order) then apply to
 * the store strictly in the order the follower handed them out, file lists included. A
 * bounded number of chunks may be in flight; the follower awaits submit(), so a source that
 * writes faster than we index slows the reader instead of growing the heap.
 */
import type { ParseOptions, ParsedChunk } from '../parse/index.js';
import { batchAttrs, tracing } from '../trace/index.js';
import type { IngestBatch } from './batch.js';
import type { ParsePool } from './parse-pool.js';
import type { FileState, KnownFile } from './tracked-file.js';
import type { FollowedChunk } from './source-follower.js';
import type { SourceTracker } from './source-tracker.js';

export interface IngestSink {
  /** Makes a batch queryable (and durable, with the WAL on). Called in file order per source. */
  apply(batch: IngestBatch): Promise<void>;
  /**
   * Records the files a source has been through and where each was left (the WAL keeps it for
   * an exact resume), in order with the batches: after the batches of the bytes it counts,
   * before any batch of a file it adds. A sink that keeps nothing across restarts omits it.
   */
  files?(source: string, files: KnownFile[]): Promise<void>;
}

/**
 * A sink that cannot take anything more until the process restarts (the WAL's fsync failed):
 * the source stops with this error instead of retrying.
 */
export class SinkHaltedError extends Error {
  override readonly name = 'SinkHaltedError';
}

export const MAX_IN_FLIGHT = 4;
const RETRY_MS = 1000;

type Pending = { chunk: FollowedChunk; parsed: Promise<ParsedChunk> } | { files: FileState[] };

export class SourcePipeline {
  private readonly queue: Pending[] = [];
  private pumping: Promise<void> | null = null;
  private readonly nextLine = new Map<number, number>();
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  /** The sink refused for good (SinkHaltedError): nothing more will be applied until a restart. */
  halted = false;
  private onStop: () => void = () => undefined;
  private readonly stoppedSignal = new Promise<void>((resolve) => (this.onStop = resolve));

  constructor(
    private readonly name: string,
    private readonly pool: ParsePool,
    private readonly sink: IngestSink,
    private readonly tracker: SourceTracker,
    private readonly parseOptions: ParseOptions,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** The next line of a file (by its key), as far as the applied batches go. */
  nextLineOf(fileKey: number): number {
    return this.nextLine.get(fileKey) ?? 1;
  }

  /** Queues a file list; it is applied after every chunk submitted before it. */
  submitFiles(files: FileState[]): void {
    this.queue.push({ files });
    this.pump();
  }

  async submit(chunk: FollowedChunk): Promise<void> {
    // The file's modification time travels with each chunk: year-less formats read their year from it.
    const parsed = this.pool.parse(chunk.chunk, chunk.format.name, chunk.mtimeMs === undefined ? this.parseOptions : { ...this.parseOptions, mtimeMs: chunk.mtimeMs });
    parsed.catch(() => undefined); // reported when applied, in order
    this.queue.push({ chunk, parsed });
    this.tracker.queuedBytes += chunk.chunk.length;
    this.pump();
    while (this.queue.length >= MAX_IN_FLIGHT && !this.stopped) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves when every submitted chunk has been applied (or never will be: halted). */
  idle(): Promise<void> {
    if (this.halted || (this.queue.length === 0 && this.pumping === null)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.onStop();
    for (const w of this.roomWaiters.splice(0)) w();
  }

  private pump(): void {
    if (this.pumping !== null) return;
    this.pumping = this.run().finally(() => {
      this.pumping = null;
      // A chunk submitted after run() found the queue empty but before this callback ran saw
      // `pumping` still set and started nothing: without this it waited for the next chunk
      // (forever, on a source that went quiet) and idle() never resolved.
      if (this.queue.length > 0 && !this.stopped) {
        this.pump();
        return;
      }
      for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if ('files' in head) {
        // A file's numbering starts where the follower says, the first time it is heard of.
        for (const f of head.files) if (!this.nextLine.has(f.key)) this.nextLine.set(f.key, f.firstLine);
        if (this.sink.files !== undefined) {
          const files: KnownFile[] = head.files.map(({ key, firstLine: _first, ...f }) => ({ ...f, nextLine: this.nextLine.get(key)! }));
          if (!(await this.applying(() => this.sink.files!(this.name, files)))) return;
        }
        this.queue.shift();
        this.wakeRoom();
        continue;
      }
      let parsed: ParsedChunk;
      try {
        parsed = await head.parsed;
      } catch (err) {
        // A parser crash is a bug, not bad input: report it and keep the source going.
        this.onError(err as Error);
        this.queue.shift();
        this.tracker.queuedBytes -= head.chunk.chunk.length;
        this.wakeRoom();
        continue;
      }
      const { chunk } = head;
      const firstLine = this.nextLine.get(chunk.fileKey) ?? chunk.firstLine;
      const batch: IngestBatch = {
        source: this.name, file: chunk.file, chunk: chunk.chunk, byteStart: chunk.byteStart, byteEnd: chunk.byteEnd, fd: chunk.fd,
        fileKey: chunk.fileKey, firstLine, parsed,
      };
      if (!(await this.applying(() => tracing().span('ingest.batch', batchAttrs(batch), () => this.sink.apply(batch), { root: true })))) return;
      this.nextLine.set(chunk.fileKey, firstLine + parsed.lines);
      this.tracker.addLines(parsed.lines, parsed.errors, parsed.errorSamples[parsed.errorSamples.length - 1], firstLine);
      this.queue.shift();
      this.tracker.queuedBytes -= chunk.chunk.length;
      this.wakeRoom();
    }
  }

  /** Runs a sink call until it succeeds; false when stopped first. */
  private async applying(call: () => Promise<void>): Promise<boolean> {
    for (;;) {
      try {
        await call();
        this.tracker.recover('store');
        return true;
      } catch (err) {
        if (err instanceof SinkHaltedError) {
          // Until a restart: say so once and wait for the stop (the follower waits on us).
          if (!this.halted) {
            this.halted = true;
            this.tracker.fail(err.message, 'store');
            this.onError(err);
            for (const w of this.idleWaiters.splice(0)) w();
          }
          await this.stoppedSignal;
          return false;
        }
        // Storage trouble (ENOSPC...): pause this source, keep queries working, retry.
        this.tracker.fail(`ingestion paused: ${(err as Error).message}`, 'store');
        this.onError(err as Error);
        if (this.stopped) return false;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  private wakeRoom(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }
}
