/**
 * LogGenerator: produces the original format, entry after entry, into caller-owned buffers.
 *
 * Time model. The background stream puts entry k at start + k/rate; each incident is a second
 * stream putting its entry k at at + k/ratePerSec until at + durationMs. The streams are merged
 * by those grid times, so the file is in time order. Each entry gets a jitter in [0, its
 * stream's interval) and is clamped to the previous entry's time: timestamps never go
 * backwards unless lateFraction picks the entry, and then only its printed time is moved
 * back (by up to lateMaxMs), the stream carries on as if it had not been.
 *
 * Determinism. All randomness comes from one seeded PRNG, drawn in the same order however the
 * output is cut into batches: the same options give the same bytes for any batch sizes.
 */
import { BodyWriter } from './body-writer.js';
import { ERROR_BODIES, INFO_BODIES, TRACE_BODIES, WARN_BODIES } from './bodies.js';
import { type GeneratorOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { Prng, deriveSeed } from './prng.js';
import { type SignatureName, type SignatureSpec, signatureSpec, signatureTemplate } from './signatures.js';
import type { Template } from './template.js';
import { type LineStyle, lineStyles } from './line-styles.js';
import { TimestampWriter } from './timestamp-writer.js';
import { stackFrame } from './vocab.js';

/** Bytes reserved per entry; the longest entry (a body plus 8 stack lines) is under 1.5 KiB. */
export const MAX_ENTRY_BYTES = 4096;

const TAG_TRACE = 0;
const TAG_ERROR = 3;
const BODIES: readonly (readonly Template[])[] = [TRACE_BODIES, INFO_BODIES, WARN_BODIES, ERROR_BODIES];
const SEQ = Buffer.from(' seq=', 'latin1');
const STACK_FIELD = Buffer.from('","stack":"', 'latin1');
const ESCAPED_NEWLINE = Buffer.from('\\n', 'latin1');
const escapeScratch = new Uint8Array(8192);

/** JSON-escapes (\" \\ and control bytes) what was written since `from`; most bodies need nothing. */
function escapeJsonSince(w: BodyWriter, from: number): void {
  const buf = w.buf;
  let need = false;
  for (let i = from; i < w.pos; i++) {
    const c = buf[i]!;
    if (c === 34 || c === 92 || c < 32) {
      need = true;
      break;
    }
  }
  if (!need) return;
  const n = w.pos - from;
  escapeScratch.set(buf.subarray(from, w.pos));
  w.pos = from;
  for (let i = 0; i < n; i++) {
    const c = escapeScratch[i]!;
    if (c === 34 || c === 92) {
      w.byte(92);
      w.byte(c);
    } else if (c < 32) {
      w.byte(92);
      w.byte(117);
      w.byte(48);
      w.byte(48);
      w.byte(48 + (c >> 4));
      w.byte(c % 16 < 10 ? 48 + (c % 16) : 87 + (c % 16));
    } else w.byte(c);
  }
}
/** Seed stream offset for novel signature words, so they do not disturb the line stream. */
const NOVEL_STREAM = 1000;

export interface FillLimits {
  /** Stop after this many entries (timestamped lines; continuation lines come on top). */
  maxEntries?: number;
  /** Stop before the first entry whose time is later than this (inclusive bound, epoch ms). */
  untilEpochMs?: number;
  /** Stop once this many bytes are written (checked between entries, so one entry may cross it). */
  maxBytes?: number;
}

export interface FillResult {
  /** Bytes written at the start of the buffer. */
  bytes: number;
  /** Physical lines (entries plus continuation lines). */
  lines: number;
  entries: number;
  /** Earliest and latest timestamp written in this batch (epoch ms; NaN when empty). Equal to the
   * first and last entry's unless late entries were written. */
  firstEpochMs: number;
  lastEpochMs: number;
}

export interface Batch extends FillResult {
  /** The batch's text, a buffer of its own. */
  text: Buffer;
}

/** An incident as the generator runs it, with its signature resolved (pattern included). */
export interface GeneratorIncident {
  at: number;
  durationMs: number;
  ratePerSec: number;
  signature: SignatureSpec;
}

interface Stream {
  originUs: number;
  endUs: number;
  intervalUs: number;
  k: number;
  gridUs: number;
  template: Template;
}

/** The signature incident number `index` of a generator seeded with `seed` uses (only `novel` depends on them). */
export function incidentSignature(name: SignatureName, seed: number, index: number): SignatureSpec {
  return signatureSpec(name, deriveSeed(seed, NOVEL_STREAM + index));
}

export class LogGenerator {
  readonly options: ResolvedOptions;
  readonly incidents: readonly GeneratorIncident[];
  /** Totals since construction. */
  entries = 0;
  lines = 0;
  bytes = 0;

  private readonly rng: Prng;
  private readonly w: BodyWriter;
  private readonly ts: TimestampWriter;
  /** The format entries are written in (null: the original one, through `ts`). */
  private readonly style: LineStyle | null;
  private readonly bgIntervalUs: number;
  private readonly streams: Stream[];
  private readonly tagCut: Uint32Array;
  private readonly quantumUs: number;
  private readonly lateCut: number;
  private readonly lateMaxUs: number;
  private readonly stackCut: number;
  private bgK = 0;
  private bgGridUs: number;
  private seq: number;
  /** The next entry: its stream (-1 = background) and its time before any late shift. */
  private pendingStream = -1;
  private pendingUs = 0;
  private lastUs = -Infinity;

  constructor(opts: GeneratorOptions = {}) {
    const o = (this.options = resolveOptions(opts));
    this.rng = new Prng(o.seed);
    this.w = new BodyWriter(this.rng);
    this.ts = new TimestampWriter(o.precision);
    this.style = o.format === 'iso-bracket' ? null : lineStyles(o.precision)[o.format]!;
    // Formats that always write the same digits (pino: ms, syslog: s) quantize to those.
    this.quantumUs = 10 ** (6 - (this.style?.precision ?? o.precision));
    this.bgIntervalUs = 1e6 / o.rate;
    this.bgGridUs = o.start * 1000;
    this.seq = o.firstSeq;
    // Thresholds on a uint32 draw: one PRNG call and at most three compares pick the level.
    this.tagCut = new Uint32Array(3);
    let acc = 0;
    for (let i = 0; i < 3; i++) {
      acc += o.tagMix[i]!;
      this.tagCut[i] = Math.min(4294967295, Math.round(acc * 4294967296));
    }
    this.lateCut = o.lateFraction;
    this.lateMaxUs = o.lateMaxMs * 1000;
    this.stackCut = o.stackFraction;
    this.incidents = o.incidents.map((inc, i) => ({
      at: inc.at,
      durationMs: inc.durationMs,
      ratePerSec: inc.ratePerSec,
      signature: incidentSignature(inc.signature, o.seed, i),
    }));
    const startUs = o.start * 1000;
    this.streams = o.incidents.map((inc, i) => {
      const intervalUs = 1e6 / inc.ratePerSec;
      const originUs = inc.at * 1000;
      // An incident already under way at start joins at its first grid point not before start.
      const k = originUs >= startUs ? 0 : Math.ceil((startUs - originUs) / intervalUs);
      const endUs = originUs + inc.durationMs * 1000;
      const gridUs = originUs + k * intervalUs;
      return { originUs, endUs, intervalUs, k, gridUs: gridUs < endUs ? gridUs : Infinity, template: signatureTemplate(inc.signature, deriveSeed(o.seed, NOVEL_STREAM + i)) };
    });
    this.schedule();
    // The first entry sits exactly at start (when no incident stream comes first).
    if (this.pendingStream < 0) this.pendingUs = this.lastUs = startUs;
  }

  /** The format writes no year: readers take it from the file's modification time. */
  get yearless(): boolean {
    return this.style?.yearless === true;
  }

  /** Time of the next entry, epoch ms (before any late shift). */
  peekNextEpochMs(): number {
    return this.pendingUs / 1000;
  }

  /** The seq number the next entry will carry (when `sequence` is on). */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Writes whole entries at the start of `buf` until a limit or the buffer's room runs out.
   * `buf` must hold at least MAX_ENTRY_BYTES. Allocation-free.
   */
  fill(buf: Uint8Array, limits: FillLimits = {}): FillResult {
    if (buf.length < MAX_ENTRY_BYTES) throw new RangeError(`fill: the buffer must hold at least ${MAX_ENTRY_BYTES} bytes`);
    const maxEntries = limits.maxEntries ?? Infinity;
    const untilUs = limits.untilEpochMs === undefined ? Infinity : limits.untilEpochMs * 1000;
    const maxBytes = Math.min(limits.maxBytes ?? Infinity, buf.length - MAX_ENTRY_BYTES);
    const w = this.w;
    const rng = this.rng;
    const ts = this.ts;
    const sequence = this.options.sequence;
    w.buf = buf;
    w.pos = 0;
    let entries = 0;
    let lines = 0;
    let minUs = Infinity;
    let maxUs = -Infinity;
    while (entries < maxEntries && w.pos < maxBytes && this.pendingUs <= untilUs) {
      const stream = this.pendingStream;
      let us = this.pendingUs;
      let tag: number;
      let template: Template;
      if (stream < 0) {
        const r = rng.next();
        const cut = this.tagCut;
        tag = r < cut[0]! ? TAG_TRACE : r < cut[1]! ? 1 : r < cut[2]! ? 2 : TAG_ERROR;
        const bodies = BODIES[tag]!;
        template = bodies[rng.below(bodies.length)]!;
      } else {
        tag = TAG_ERROR;
        template = this.streams[stream]!.template;
      }
      if (this.lateCut > 0 && rng.float() < this.lateCut) us = Math.max(0, us - 1 - rng.float() * (this.lateMaxUs - 1));
      us = Math.floor(us / this.quantumUs) * this.quantumUs;
      if (us < minUs) minUs = us;
      if (us > maxUs) maxUs = us;
      const style = this.style;
      if (style === null) {
        ts.write(w, us, tag);
        template(w);
        if (sequence) {
          w.lit(SEQ);
          w.uint(this.seq++);
        }
      } else if (style.whole !== undefined) {
        style.whole(w, us, tag);
        if (sequence) {
          w.lit(SEQ);
          w.uint(this.seq++);
        }
      } else {
        style.head(w, us, tag);
        const bodyStart = w.pos;
        template(w);
        if (sequence) {
          w.lit(SEQ);
          w.uint(this.seq++);
        }
        if (style.json) escapeJsonSince(w, bodyStart);
        // JSON formats carry the stack trace in a field of the same record.
        if (style.stack === 'json' && tag === TAG_ERROR && this.stackCut > 0 && rng.float() < this.stackCut) {
          const frames = rng.range(2, 8);
          w.lit(STACK_FIELD);
          for (let f = 1; f <= frames; f++) {
            stackFrame(w, f === frames);
            if (f < frames) w.lit(ESCAPED_NEWLINE);
          }
        }
        style.tail(w, us, tag);
      }
      w.byte(10);
      lines++;
      if (style?.stack !== 'json' && tag === TAG_ERROR && this.stackCut > 0 && rng.float() < this.stackCut) {
        const frames = rng.range(2, 8);
        const wrapped = style !== null && style.stack === 'wrapped';
        for (let f = 1; f <= frames; f++) {
          if (wrapped) style.wrapHead!(w, us);
          stackFrame(w, f === frames);
          if (wrapped) style.wrapTail!(w, us);
          w.byte(10);
        }
        lines += frames;
      }
      entries++;
      this.advance(stream);
    }
    // Typed arrays drop out-of-range writes silently: catch a template that outgrew the reserve.
    if (w.pos > buf.length) throw new Error(`LogGenerator: an entry outgrew MAX_ENTRY_BYTES (${MAX_ENTRY_BYTES})`);
    this.entries += entries;
    this.lines += lines;
    this.bytes += w.pos;
    return {
      bytes: w.pos,
      lines,
      entries,
      firstEpochMs: entries === 0 ? NaN : minUs / 1000,
      lastEpochMs: entries === 0 ? NaN : maxUs / 1000,
    };
  }

  /** Convenience over fill(): up to maxEntries entries (not later than untilEpochMs) in a buffer of their own. */
  nextBatch(maxEntries: number, untilEpochMs?: number): Batch {
    const scratch = Buffer.allocUnsafe(Math.min(4 * 1024 * 1024, Math.max(MAX_ENTRY_BYTES * 2, maxEntries * 160 + MAX_ENTRY_BYTES)));
    const parts: Buffer[] = [];
    const total: FillResult = { bytes: 0, lines: 0, entries: 0, firstEpochMs: NaN, lastEpochMs: NaN };
    while (total.entries < maxEntries) {
      const r = this.fill(scratch, untilEpochMs === undefined ? { maxEntries: maxEntries - total.entries } : { maxEntries: maxEntries - total.entries, untilEpochMs });
      if (r.entries === 0) break;
      parts.push(Buffer.from(scratch.subarray(0, r.bytes)));
      total.bytes += r.bytes;
      total.lines += r.lines;
      total.entries += r.entries;
      if (!(r.firstEpochMs >= total.firstEpochMs)) total.firstEpochMs = r.firstEpochMs;
      if (!(r.lastEpochMs <= total.lastEpochMs)) total.lastEpochMs = r.lastEpochMs;
    }
    return { ...total, text: parts.length === 1 ? parts[0]! : Buffer.concat(parts, total.bytes) };
  }

  /** Moves the stream that just emitted to its next grid point and picks the next entry. */
  private advance(stream: number): void {
    if (stream < 0) {
      this.bgK++;
      // Multiply from the origin rather than add the interval: no drift over billions of lines.
      this.bgGridUs = this.options.start * 1000 + this.bgK * this.bgIntervalUs;
    } else {
      const s = this.streams[stream]!;
      s.k++;
      const grid = s.originUs + s.k * s.intervalUs;
      s.gridUs = grid < s.endUs ? grid : Infinity;
    }
    this.schedule();
  }

  private schedule(): void {
    let stream = -1;
    let grid = this.bgGridUs;
    let interval = this.bgIntervalUs;
    const streams = this.streams;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      if (s.gridUs < grid) {
        stream = i;
        grid = s.gridUs;
        interval = s.intervalUs;
      }
    }
    const us = grid + this.rng.float() * interval;
    this.pendingStream = stream;
    this.pendingUs = us > this.lastUs ? us : this.lastUs;
    this.lastUs = this.pendingUs;
  }
}
