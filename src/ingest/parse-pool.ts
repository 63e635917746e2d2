/**
 * The parse pool: piscina workers that turn raw chunks into columns in parallel.
 *
 * Small chunks (live tailing delivers a few KiB at a time) are parsed inline: a worker round
 * trip costs more than parsing them. Big chunks (catch-up reads 4 MiB at a time) go to the
 * workers. Callers apply results in file order themselves (see ordered-pipeline.ts).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { getFormat } from '../parse/formats.js';
import type { ParseOptions, ParsedChunk } from '../parse/parsed-chunk.js';
import { decodeParsedChunk } from './column-codec.js';
import { withFilters } from './filters.js';
import type { ParseTask } from './parse-worker.js';

/** Below this a chunk is parsed on the calling thread. */
export const INLINE_PARSE_BYTES = 256 * 1024;

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
}

export class ParsePool {
  private readonly pool: Piscina | null;

  constructor(options: ParsePoolOptions = {}) {
    const threads = options.threads ?? Math.max(1, availableParallelism());
    this.pool = threads > 0 ? new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, idleTimeout: 60_000 }) : null;
  }

  /** Allocates a chunk buffer that can be handed to a worker without copying. */
  static allocChunk(bytes: number): Buffer {
    if (bytes < INLINE_PARSE_BYTES) return Buffer.allocUnsafeSlow(bytes);
    return Buffer.from(new SharedArrayBuffer(bytes));
  }

  async parse(chunk: Buffer, format: string, options: ParseOptions): Promise<ParsedChunk> {
    const sab = chunk.buffer;
    if (this.pool === null || chunk.length < INLINE_PARSE_BYTES || !(sab instanceof SharedArrayBuffer)) {
      const parser = getFormat(format);
      if (parser === undefined) throw new Error(`unknown format ${format}`);
      return withFilters(chunk, parser.parseChunk(chunk, options));
    }
    const task: ParseTask = { buffer: sab, byteOffset: chunk.byteOffset, length: chunk.length, format, options };
    const result = (await this.pool.run(task)) as ArrayBuffer;
    return decodeParsedChunk(result);
  }

  get threads(): number {
    return this.pool?.options.maxThreads ?? 0;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
