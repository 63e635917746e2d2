/**
 * The real-time writer: appends entries as they fall due on the wall clock, so a tailer sees
 * the file grow at the configured rate (the `demo` command's production traffic).
 *
 * Every tick (default 10 ms) it writes the entries whose time has come, each stamped with the
 * time it fell due (within a tick of the wall clock at write time). A writer that fell behind
 * (a stalled event loop) catches up in slices of at most a quarter second of entries per turn
 * of the event loop, so it never hogs the process it runs in.
 */
import { type GeneratorIncident, LogGenerator, MAX_ENTRY_BYTES } from './generator.js';
import { type GeneratorOptions, GeneratorOptionError } from './options.js';
import { FileSink, type RotateOptions, type Sink, StreamSink } from './sinks.js';

export interface LiveWriterOptions extends GeneratorOptions {
  /** Log time of the first entry (default: now). Log time then advances with the wall clock. */
  start?: number;
  /** Milliseconds between writes (default 10). */
  tickMs?: number;
  /** Append to an existing file instead of replacing it (default false). */
  append?: boolean;
  rotate?: RotateOptions;
  /** Stop by itself after this many entries... */
  lines?: number;
  /** ...or after this much log time. */
  durationMs?: number;
}

export interface LiveStats {
  /** Physical lines written so far (entries plus continuation lines). */
  lines: number;
  entries: number;
  bytes: number;
  rotations: number;
  /** Seq numbers written, when `sequence` is on: consecutive from firstSeq to lastSeq (null when none). */
  firstSeq: number | null;
  lastSeq: number | null;
  /** Earliest and latest timestamp written, epoch ms (NaN before the first entry). */
  firstEpochMs: number;
  lastEpochMs: number;
  running: boolean;
  /** The first write error; the writer stops on it. */
  error: Error | null;
}

export interface LiveWriter {
  /** The generator behind the writer (its incidents carry the resolved signature patterns). */
  readonly generator: LogGenerator;
  /** Resolves when the writer stops (limit reached, stop(), or a write error). Never rejects. */
  readonly done: Promise<LiveStats>;
  stats(): LiveStats;
  /** Writes what is due, stops, closes the file and returns the final stats. Idempotent. */
  stop(): Promise<LiveStats>;
  readonly incidents: readonly GeneratorIncident[];
}

/** Starts appending to `path` in real time. */
export function startLiveWriter(path: string, opts: LiveWriterOptions = {}): LiveWriter {
  const tickMs = checkTick(opts);
  return new Live(new FileSink(path, opts.append === true, opts.rotate), opts, tickMs);
}

/** Starts writing to a stream (e.g. process.stdout) in real time. */
export function startLiveStream(stream: NodeJS.WritableStream, opts: LiveWriterOptions = {}): LiveWriter {
  if (opts.rotate !== undefined) throw new GeneratorOptionError('rotate', 'needs a file, not a stream');
  const tickMs = checkTick(opts);
  return new Live(new StreamSink(stream), opts, tickMs);
}

function checkTick(opts: LiveWriterOptions): number {
  const tickMs = opts.tickMs ?? 10;
  if (!(Number.isFinite(tickMs) && tickMs >= 1 && tickMs <= 60_000)) throw new GeneratorOptionError('tickMs', `must be from 1 to 60000 (got ${String(tickMs)})`);
  if (opts.lines !== undefined && !(Number.isInteger(opts.lines) && opts.lines >= 0)) throw new GeneratorOptionError('lines', 'must be a non-negative integer');
  if (opts.durationMs !== undefined && !(Number.isFinite(opts.durationMs) && opts.durationMs >= 0)) throw new GeneratorOptionError('durationMs', 'must be a non-negative number');
  return tickMs;
}

class Live implements LiveWriter {
  readonly generator: LogGenerator;
  readonly done: Promise<LiveStats>;
  private resolveDone!: (s: LiveStats) => void;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = true;
  private stopping: Promise<LiveStats> | null = null;
  private readonly scratch: Buffer;
  /** Log time minus wall time: 0 unless a start was given. */
  private readonly offsetMs: number;
  private readonly sliceEntries: number;
  private readonly untilEpochMs: number;
  private left: number;
  private first = NaN;
  private last = NaN;

  constructor(
    private readonly sink: Sink,
    opts: LiveWriterOptions,
    private readonly tickMs: number,
  ) {
    const now = Date.now();
    this.generator = new LogGenerator({ ...opts, start: opts.start ?? now });
    this.offsetMs = this.generator.options.start - now;
    this.left = opts.lines ?? Infinity;
    this.untilEpochMs = opts.durationMs === undefined ? Infinity : this.generator.options.start + opts.durationMs - 0.001;
    this.sliceEntries = Math.max(1000, Math.ceil(this.generator.options.rate / 4));
    this.scratch = Buffer.allocUnsafe(Math.min(64 << 20, this.sliceEntries * 1200 + MAX_ENTRY_BYTES));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.immediate = setImmediate(() => this.tick());
  }

  get incidents(): readonly GeneratorIncident[] {
    return this.generator.incidents;
  }

  stats(): LiveStats {
    const g = this.generator;
    const seqCount = g.nextSeq - g.options.firstSeq;
    const hasSeq = g.options.sequence && seqCount > 0;
    return {
      lines: g.lines,
      entries: g.entries,
      bytes: g.bytes,
      rotations: this.sink.rotations,
      firstSeq: hasSeq ? g.options.firstSeq : null,
      lastSeq: hasSeq ? g.nextSeq - 1 : null,
      firstEpochMs: this.first,
      lastEpochMs: this.last,
      running: this.running,
      error: this.sink.error,
    };
  }

  stop(): Promise<LiveStats> {
    this.stopping ??= this.finish(true);
    return this.stopping;
  }

  /** Writes one slice of due entries; returns true when more were due than fit in it. */
  private writeDue(): boolean {
    const until = Math.min(Date.now() + this.offsetMs, this.untilEpochMs);
    let behind = false;
    // Several fills per tick only when rotation cuts a slice short.
    for (let budget = this.sliceEntries; budget > 0 && this.left > 0 && this.sink.error === null; ) {
      const r = this.generator.fill(this.scratch, {
        maxEntries: Math.min(budget, this.left, this.sink.roomLines()),
        maxBytes: this.sink.roomBytes(),
        untilEpochMs: until,
      });
      if (r.entries === 0) break;
      budget -= r.entries;
      this.left -= r.entries;
      if (!(r.firstEpochMs >= this.first)) this.first = r.firstEpochMs;
      if (!(r.lastEpochMs <= this.last)) this.last = r.lastEpochMs;
      // A copy per write: the sink writes asynchronously while the scratch buffer is reused.
      void this.sink.write(Buffer.from(this.scratch.subarray(0, r.bytes)), r.bytes, r.lines);
      behind = budget <= 0;
    }
    return behind;
  }

  private tick(): void {
    this.timer = null;
    this.immediate = null;
    if (!this.running) return;
    const behind = this.writeDue();
    const finished = this.left <= 0 || this.generator.peekNextEpochMs() > this.untilEpochMs || this.sink.error !== null;
    if (finished) {
      this.stopping ??= this.finish(false);
      return;
    }
    if (behind) this.immediate = setImmediate(() => this.tick());
    else this.timer = setTimeout(() => this.tick(), this.tickMs);
  }

  private async finish(flush: boolean): Promise<LiveStats> {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    if (flush && this.running) {
      // Everything due up to now, however far behind the ticks were.
      while (this.writeDue());
    }
    this.running = false;
    await this.sink.close().catch(() => undefined); // the error stays in sink.error, reported in stats
    const s = this.stats();
    this.resolveDone(s);
    return s;
  }
}
