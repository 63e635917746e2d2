/**
 * The path of one source's chunks: parse (in the pool, possibly out of order) then apply to
 * the store strictly in file order. A bounded number of chunks may be in flight; the
 * follower awaits submit(), so a source that writes faster than we index slows the reader
 * instead of growing the heap.
 */
import type { ParseOptions, ParsedChunk } from '../parse/parsed-chunk.js';
import { batchAttrs } from '../trace/attrs.js';
import { tracing } from '../trace/index.js';
import type { IngestBatch } from './batch.js';
import type { ParsePool } from './parse-pool.js';
import type { FollowedChunk } from './source-follower.js';
import type { SourceTracker } from './source-tracker.js';

export interface IngestSink {
  /** Makes a batch queryable (and durable, with the WAL on). Called in file order per source. */
  apply(batch: IngestBatch): Promise<void>;
}

export const MAX_IN_FLIGHT = 4;
const RETRY_MS = 1000;

interface Pending {
  chunk: FollowedChunk;
  parsed: Promise<ParsedChunk>;
}

export class SourcePipeline {
  private readonly queue: Pending[] = [];
  private pumping: Promise<void> | null = null;
  private readonly nextLine = new Map<number, number>();
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly pool: ParsePool,
    private readonly sink: IngestSink,
    private readonly tracker: SourceTracker,
    private readonly parseOptions: ParseOptions,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** Line numbering continues from a resume point for this generation. */
  setNextLine(generation: number, line: number): void {
    this.nextLine.set(generation, line);
  }

  nextLineOf(generation: number): number {
    return this.nextLine.get(generation) ?? 1;
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

  /** Resolves when every submitted chunk has been applied. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.pumping === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
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
      const firstLine = this.nextLineOf(chunk.generation);
      const batch: IngestBatch = {
        source: this.name, file: chunk.file, chunk: chunk.chunk, byteStart: chunk.byteStart, byteEnd: chunk.byteEnd,
        generation: chunk.generation, firstLine, parsed,
      };
      for (;;) {
        try {
          await tracing().span('ingest.batch', batchAttrs(batch), () => this.sink.apply(batch), { root: true });
          this.tracker.recover('store');
          break;
        } catch (err) {
          // Storage trouble (ENOSPC...): pause this source, keep queries working, retry.
          this.tracker.fail(`ingestion paused: ${(err as Error).message}`, 'store');
          this.onError(err as Error);
          if (this.stopped) return;
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
      this.nextLine.set(chunk.generation, firstLine + parsed.lines);
      this.tracker.addLines(parsed.lines, parsed.errors, parsed.errorSamples[parsed.errorSamples.length - 1], firstLine);
      this.queue.shift();
      this.tracker.queuedBytes -= chunk.chunk.length;
      this.wakeRoom();
    }
  }

  private wakeRoom(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }
}
