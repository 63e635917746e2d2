/**
 * What a format parser returns for one chunk of bytes: columns, not objects, so the result
 * crosses from a worker to the main thread as a handful of transferred buffers.
 */

export interface ParseErrorSample {
  /** 0-based line index within the chunk (the reader adds the chunk's first line number). */
  line: number;
  reason: string;
  /** The first bytes of the offending line, decoded leniently; escaping happens on output. */
  text: string;
}

export interface ParsedChunk {
  /** Number of entries found. */
  count: number;
  /** Epoch microseconds per entry. */
  ts: Float64Array;
  /** Packed tag id and precision per entry (see meta.ts); custom tag ids are chunk-local. */
  meta: Uint8Array;
  /** 0-based line index of each entry's first line within the chunk. */
  line: Uint32Array;
  /** Body byte range within the chunk: [bodyStart, bodyEnd). Continuation lines extend it. */
  bodyStart: Uint32Array;
  bodyEnd: Uint32Array;
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

/** Growable column set used while scanning a chunk. */
export class ChunkBuilder {
  count = 0;
  ts: Float64Array;
  meta: Uint8Array;
  line: Uint32Array;
  bodyStart: Uint32Array;
  bodyEnd: Uint32Array;
  errors = 0;
  readonly errorSamples: ParseErrorSample[] = [];
  readonly customTags: string[] = [];
  readonly customTagAt: number[] = [];

  constructor(capacity: number) {
    const n = Math.max(16, capacity);
    this.ts = new Float64Array(n);
    this.meta = new Uint8Array(n);
    this.line = new Uint32Array(n);
    this.bodyStart = new Uint32Array(n);
    this.bodyEnd = new Uint32Array(n);
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

  finish(lines: number): ParsedChunk {
    const n = this.count;
    // Exact-size copies: the result is transferred, and a 2x over-allocation would travel too.
    return {
      count: n,
      ts: this.ts.slice(0, n),
      meta: this.meta.slice(0, n),
      line: this.line.slice(0, n),
      bodyStart: this.bodyStart.slice(0, n),
      bodyEnd: this.bodyEnd.slice(0, n),
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
