/**
 * The parse pool: piscina workers that turn raw chunks into columns in parallel.
 *
 * Small chunks (live tailing delivers a few KiB at a time) are parsed inline: a worker round
 * trip costs more than parsing them. Big chunks (catch-up reads 4 MiB at a time) go to the
 * workers once one of them is running. Callers apply results in file order themselves (see
 * source-pipeline.ts).
 *
 * The workers are started on demand: by the engine as soon as it knows a catch-up is ahead
 * (start()), or once big chunks worth START_AFTER_BYTES have been parsed inline. Until a
 * worker has loaded the parser, big chunks are parsed inline too: a worker takes 50 to 150 ms
 * to boot and load the parser on the 2-core VM, while the 3,900-entry sample log (420 KB, one
 * chunk) parses inline in 20-25 ms cold. So a small file never waits for (or starts) threads
 * it does not need, and a big one keeps moving while they start.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { formatNames, resolveFormat, type ParseOptions, type ParsedChunk } from '../parse/index.js';
import { decodeParsedChunk } from './column-codec.js';
import type { ParseTask } from './parse-worker.js';

/** Below this a chunk is parsed on the calling thread. */
export const INLINE_PARSE_BYTES = 256 * 1024;

/** Big chunks parsed inline before the workers are started without being asked (~10 ms of parsing). */
export const START_AFTER_BYTES = 4 << 20;

/** The compiled worker file; running from TypeScript sources (tests) uses the built copy. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return fileURLToPath(new URL('./parse-worker.js', import.meta.url));
  const built = fileURLToPath(new URL('../../dist/src/ingest/parse-worker.js', import.meta.url));
  if (!existsSync(built)) throw new Error(`parse worker not built: run npm run build (looked for ${built})`);
  return built;
}

export interface ParsePoolOptions {
  /** Worker threads (default: cores, at least 1). 0 parses everything inline. */
  threads?: number;
  /** Told when the workers cannot start (parsing then stays on the calling thread). */
  onStartError?: (err: Error) => void;
}

export class ParsePool {
  private pool: Piscina | null = null;
  private online: Promise<void> | null = null;
  private isOnline = false;
  private closed = false;
  private bigBytesInline = 0;
  private readonly threadCount: number;
  private readonly onStartError: (err: Error) => void;

  constructor(options: ParsePoolOptions = {}) {
    this.threadCount = options.threads ?? Math.max(1, availableParallelism());
    this.onStartError = options.onStartError ?? (() => undefined);
  }

  /** Allocates a chunk buffer that can be handed to a worker without copying. */
  static allocChunk(bytes: number): Buffer {
    if (bytes < INLINE_PARSE_BYTES) return Buffer.allocUnsafeSlow(bytes);
    return Buffer.from(new SharedArrayBuffer(bytes));
  }

  /**
   * Starts the worker threads if they are not running yet; returns at once. The promise of
   * ready() settles when the first of them has loaded the parser.
   */
  start(): void {
    if (this.online !== null || this.threadCount === 0 || this.closed) return;
    // piscina itself is loaded here too: a start that never needs threads does not pay for it.
    this.online = import('piscina').then(({ Piscina }) => {
      if (this.closed) return;
      const pool = new Piscina({ filename: workerFile(), minThreads: this.threadCount, maxThreads: this.threadCount, idleTimeout: 60_000 });
      this.pool = pool;
      // One empty parse per thread: the first to come back proves a worker has the parser loaded.
      const empty: ParseTask = { buffer: new SharedArrayBuffer(0), byteOffset: 0, length: 0, format: formatNames()[0]!, options: { timezone: 'UTC' } };
      return Promise.any(Array.from({ length: this.threadCount }, () => pool.run(empty))).then(() => {
        this.isOnline = true;
      });
    });
    // parse() stays inline; a pool closed while starting is no error.
    this.online.catch((err: Error) => {
      if (!this.closed) this.onStartError(err);
    });
  }

  /** Starts the workers and resolves once one of them is ready (inline pools: at once). */
  async ready(): Promise<void> {
    this.start();
    await this.online;
  }

  async parse(chunk: Buffer, format: string, options: ParseOptions): Promise<ParsedChunk> {
    const sab = chunk.buffer;
    if (this.threadCount > 0 && chunk.length >= INLINE_PARSE_BYTES && sab instanceof SharedArrayBuffer) {
      if (this.isOnline && this.pool !== null) {
        const task: ParseTask = { buffer: sab, byteOffset: chunk.byteOffset, length: chunk.length, format, options };
        return decodeParsedChunk((await this.pool.run(task)) as ArrayBuffer);
      }
      this.bigBytesInline += chunk.length;
      if (this.bigBytesInline >= START_AFTER_BYTES) this.start();
    }
    const parser = resolveFormat(format, options);
    if (parser === undefined) throw new Error(`unknown format ${format}`);
    return parser.parseChunk(chunk, options);
  }

  /** Whether the workers have been asked to start. */
  get started(): boolean {
    return this.online !== null;
  }

  /** Worker threads this pool runs when started (0: everything inline). */
  get threads(): number {
    return this.threadCount;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.online?.catch(() => undefined);
    await this.pool?.destroy();
  }
}
