/**
 * What a format parser returns for one chunk of bytes: columns, not objects, so the result
 * crosses from a worker to the main thread as a handful of transferred buffers.
 */
import type { EntryColumns } from '../model/index.js';

export interface ParseErrorSample {
  /** 0-based line index within the chunk (the reader adds the chunk's first line number). */
  line: number;
  reason: string;
  /** The first bytes of the offending line, decoded leniently; escaping happens on output. */
  text: string;
}

/** The entries found (EntryColumns; custom tag ids in meta are chunk-local) and what else the parse saw. */
export interface ParsedChunk extends EntryColumns {
  /** Newline-terminated lines consumed (plus one for a final unterminated line). */
  lines: number;
  /** Chunk-local custom tag names: meta tag FIRST_CUSTOM_TAG + i means customTags[i]. */
  customTags: string[];
  /** Pairs (entry index, byte offset of the tag's '[') for entries with a custom tag. */
  customTagAt: number[];
  /** Malformed lines (counted, never fatal) and a few samples of them. */
  errors: number;
  errorSamples: ParseErrorSample[];
  /**
   * Text filters of the bodies, one per FILTER_GROUP entries (src/text/ngram-filter.ts),
   * added by the parse pool after parsing; absent for chunks read back from the WAL.
   */
  filters?: Uint32Array;
}

/** Options every format parser accepts. Plain data: it is posted to workers. */
export interface ParseOptions {
  /** IANA zone for timestamps that carry none. */
  timezone: string;
  /**
   * The source file's modification time (epoch ms) when the chunk was read: the year of
   * year-less timestamps (RFC 3164, klog). Default: the clock.
   */
  mtimeMs?: number;
  /** The definition of the custom format in use (config file `formats:`), for the worker. */
  custom?: CustomFormatSpec;
}

/** A custom format as the config file defines it (validated at start-up, see custom-format.ts). */
export interface CustomFormatSpec {
  name: string;
  /** Regex source with named groups `timestamp` and `body` (and optionally `level`). */
  regex: string;
  /** strftime-like pattern of the timestamp group, e.g. `%Y-%m-%d %H:%M:%S.%f %z`. */
  timestamp: string;
  /** Extra level spellings: the level group's text (any case) -> TRACE..FATAL. */
  levels?: Record<string, string>;
}

export const MAX_ERROR_SAMPLES = 5;
export const ERROR_SAMPLE_BYTES = 200;

/**
 * Growable column set used while scanning a chunk. One builder is reused for every chunk a
 * thread parses (reset()) instead of allocating and zeroing fresh columns per 4 MiB chunk and
 * copying them to exact size: parsing the original format alone took 90-109 ns a line with it
 * against 98-152 without (4 interleaved runs, CPU time, shared machine, 2026-12-02).
 */
export class ChunkBuilder {
  count = 0;
  ts: Float64Array;
  meta: Uint8Array;
  line: Uint32Array;
  bodyStart: Uint32Array;
  bodyEnd: Uint32Array;
  errors = 0;
  errorSamples: ParseErrorSample[] = [];
  customTags: string[] = [];
  customTagAt: number[] = [];

  constructor(capacity: number) {
    const n = Math.max(16, capacity);
    this.ts = new Float64Array(n);
    this.meta = new Uint8Array(n);
    this.line = new Uint32Array(n);
    this.bodyStart = new Uint32Array(n);
    this.bodyEnd = new Uint32Array(n);
  }

  /** Empties the builder for the next chunk, keeping its columns. */
  reset(): void {
    this.count = 0;
    this.errors = 0;
    this.errorSamples = [];
    this.customTags = [];
    this.customTagAt = [];
  }

  /** Appends an entry and returns its index. */
  push(ts: number, meta: number, line: number, bodyStart: number, bodyEnd: number): number {
    if (this.count === this.ts.length) this.grow();
    const i = this.count++;
    this.ts[i] = ts;
    this.meta[i] = meta;
    this.line[i] = line;
    this.bodyStart[i] = bodyStart;
    this.bodyEnd[i] = bodyEnd;
    return i;
  }

  error(line: number, reason: string, buf: Uint8Array, start: number, end: number): void {
    this.errors++;
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) {
      const cut = Math.min(end, start + ERROR_SAMPLE_BYTES);
      this.errorSamples.push({ line, reason, text: Buffer.from(buf.buffer, buf.byteOffset + start, cut - start).toString('utf8') });
    }
  }

  /** Local id for a custom tag name. */
  customTag(name: string): number {
    let i = this.customTags.indexOf(name);
    if (i < 0) {
      i = this.customTags.length;
      this.customTags.push(name);
    }
    return i;
  }

  /**
   * The chunk parsed: exact-size copies of the columns, or (`views`) views of the builder's
   * own columns, valid until the builder is reset (the parse worker encodes them at once).
   */
  finish(lines: number, views = false): ParsedChunk {
    const n = this.count;
    const take = <T extends Float64Array | Uint8Array | Uint32Array>(a: T): T => (views ? a.subarray(0, n) : a.slice(0, n)) as T;
    return {
      count: n,
      ts: take(this.ts),
      meta: take(this.meta),
      line: take(this.line),
      bodyStart: take(this.bodyStart),
      bodyEnd: take(this.bodyEnd),
      lines,
      customTags: this.customTags,
      customTagAt: this.customTagAt,
      errors: this.errors,
      errorSamples: this.errorSamples,
    };
  }

  private grow(): void {
    const n = this.ts.length * 2;
    const grow = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.ts = grow(this.ts, (k) => new Float64Array(k));
    this.meta = grow(this.meta, (k) => new Uint8Array(k));
    this.line = grow(this.line, (k) => new Uint32Array(k));
    this.bodyStart = grow(this.bodyStart, (k) => new Uint32Array(k));
    this.bodyEnd = grow(this.bodyEnd, (k) => new Uint32Array(k));
  }
}
