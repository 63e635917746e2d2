/**
 * The one line loop every format runs through: LF or CRLF line ends, ANSI colour codes before
 * a line's first character, continuation lines (stack traces) joined to the entry above,
 * lines a format marks as joined to the next (CRI `P`, Docker fragments), malformed lines
 * counted and sampled. Also the entry-start test the reader cuts chunks with, and the
 * detection score, so all three agree on what an entry is.
 */
import { DEFAULT_CONTEXT, ParseContext } from './context.js';
import {
  CONTINUATION, type DetectScore, ENTRY, KNOWN_CONTINUATION, type LineFormat, type LogFormat, MALFORMED, newLineOut, type ScoreFloor,
} from './format.js';
import { FIRST_CUSTOM_TAG, TAG_CUSTOM, TAG_FATAL } from './levels.js';
import { packMeta } from './meta.js';
import { ChunkBuilder, type ParseOptions, type ParsedChunk } from './parsed-chunk.js';

/** Reused by every parse on this thread: parsing is synchronous, so one is enough. */
const out = newLineOut();

/** Lines and bytes detection looks at. */
export const DETECT_LINES = 200;
export const DETECT_BYTES = 64 * 1024;

/**
 * Index after any ANSI escape sequences (CSI `ESC [ ... final`, or a two-byte `ESC x`) that
 * start at buf[pos]; pos when there is none.
 */
export function skipAnsi(buf: Uint8Array, pos: number, end: number): number {
  let p = pos;
  while (p < end && buf[p] === 27) {
    if (p + 1 >= end) return end;
    if (buf[p + 1] === 91) {
      let q = p + 2;
      // Parameter and intermediate bytes 0x20..0x3f, then one final byte 0x40..0x7e.
      while (q < end && buf[q]! >= 0x20 && buf[q]! <= 0x3f) q++;
      if (q >= end || buf[q]! < 0x40 || buf[q]! > 0x7e) return p;
      p = q + 1;
    } else {
      p += 2;
    }
  }
  return p;
}

let contexts: { key: string; ctx: ParseContext } | null = null;

function contextFor(options: ParseOptions): ParseContext {
  const key = `${options.timezone}\u0000${options.mtimeMs ?? ''}`;
  if (contexts === null || contexts.key !== key) {
    contexts = { key, ctx: new ParseContext(options) };
  }
  return contexts.ctx;
}

const CONTINUED = '; kept as a continuation of the entry above';

/** Reused by every parse on this thread (see ChunkBuilder); parsing is synchronous. */
let builder: ChunkBuilder | null = null;

/**
 * Parses a chunk that starts at a line boundary into columns, with `format`'s line rules.
 * `views`: see LogFormat.parseChunk.
 */
export function parseChunkWith(format: LineFormat, buf: Buffer, options: ParseOptions, views = false): ParsedChunk {
  const ctx = contextFor(options);
  const end = buf.length;
  if (builder === null || builder.ts.length < end >>> 6) builder = new ChunkBuilder(Math.ceil(end / 64));
  const cb = builder;
  cb.reset();
  let pos = 0;
  let lineIdx = 0;
  let current = -1;
  let join = false;
  while (pos < end) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0) nl = end;
    let contentEnd = nl;
    if (contentEnd > pos && buf[contentEnd - 1] === 13) contentEnd--;
    if (contentEnd > pos) {
      const s = buf[pos] === 27 ? skipAnsi(buf, pos, contentEnd) : pos;
      const kind = s < contentEnd ? format.parseLine(buf, s, contentEnd, out, ctx) : CONTINUATION;
      if (join && current >= 0) {
        // The line above said this one belongs to its entry (a partial line's rest).
        cb.bodyEnd[current] = kind === ENTRY ? out.bodyEnd : contentEnd;
        join = kind === ENTRY && out.joinNext;
      } else if (kind === ENTRY) {
        let tag = out.tag;
        if (tag === TAG_CUSTOM) tag = FIRST_CUSTOM_TAG + cb.customTag(buf.toString('latin1', out.customStart, out.customEnd).toUpperCase());
        current = cb.push(out.us, packMeta(tag, out.precision), lineIdx, out.bodyStart, out.bodyEnd);
        if (tag >= FIRST_CUSTOM_TAG) cb.customTagAt.push(current, out.customOpen);
        join = out.joinNext;
      } else {
        if (kind === MALFORMED) cb.error(lineIdx, current >= 0 ? out.reason + CONTINUED : out.reason, buf, pos, contentEnd);
        else if (current < 0) cb.error(lineIdx, 'no timestamp and no entry above it to continue', buf, pos, contentEnd);
        // A continuation of the format's own shape says where its text ends (a Docker record's
        // `log` value); any other line joins whole.
        if (current >= 0) cb.bodyEnd[current] = kind === KNOWN_CONTINUATION ? out.bodyEnd : contentEnd;
      }
    }
    lineIdx++;
    pos = nl + 1;
  }
  return cb.finish(lineIdx, views);
}

/** Whether the line at buf[pos] starts an entry (see LogFormat.isEntryStart). */
export function isEntryStartWith(format: LineFormat, buf: Uint8Array, pos: number, end: number): boolean | undefined {
  let lineEnd = buf.indexOf(10, pos);
  if (lineEnd < 0 || lineEnd > end) {
    // Not a whole line yet: decide only when the part that tells is all there.
    if (end - pos < (format.decideBytes ?? 64)) return undefined;
    lineEnd = end;
  }
  if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
  const s = buf[pos] === 27 ? skipAnsi(buf, pos, lineEnd) : pos;
  if (s >= lineEnd || format.parseLine(buf, s, lineEnd, out, DEFAULT_CONTEXT) !== ENTRY) return false;
  if (format.joins === true && pos > 0) {
    // The line above may hand this one to its entry.
    let prevEnd = pos - 1;
    if (prevEnd > 0 && buf[prevEnd - 1] === 13) prevEnd--;
    const prevStart = prevEnd > 0 ? buf.lastIndexOf(10, prevEnd - 1) + 1 : 0;
    if (prevEnd > prevStart && format.parseLine(buf, prevStart, prevEnd, out, DEFAULT_CONTEXT) === ENTRY && out.joinNext) return false;
  }
  return true;
}

/**
 * The non-blank lines detection looks at in a sample: scoreWith's `lines` for every format
 * (the same walk: whole lines only, ANSI codes skipped, at most DETECT_LINES / DETECT_BYTES).
 */
export function sampleLineCount(sample: Uint8Array): number {
  const end = Math.min(sample.length, DETECT_BYTES);
  let lines = 0;
  let pos = 0;
  while (pos < end && lines < DETECT_LINES) {
    const nl = sample.indexOf(10, pos);
    if (nl < 0 || nl >= end) break;
    let contentEnd = nl;
    if (contentEnd > pos && sample[contentEnd - 1] === 13) contentEnd--;
    const s = pos < contentEnd && sample[pos] === 27 ? skipAnsi(sample, pos, contentEnd) : pos;
    if (s < contentEnd && !isBlank(sample, s, contentEnd)) lines++;
    pos = nl + 1;
  }
  return lines;
}

/**
 * Detection counts for `format` over the first lines of a sample (see DetectScore). With a
 * floor, stops (belowFloor) as soon as the lines left cannot lift it to the floor: each line
 * adds at most one to `recognized` and one to `withLevel`.
 */
export function scoreWith(format: LineFormat, sample: Uint8Array, options?: ParseOptions, floor?: ScoreFloor): DetectScore {
  const ctx = options === undefined ? DEFAULT_CONTEXT : contextFor(options);
  const end = Math.min(sample.length, DETECT_BYTES);
  const score: DetectScore = { lines: 0, entries: 0, withLevel: 0, recognized: 0 };
  let pos = 0;
  let join = false;
  while (pos < end && score.lines < DETECT_LINES) {
    let nl = sample.indexOf(10, pos);
    // A cut-off last line is left out: it may parse differently once whole.
    if (nl < 0 || nl >= end) break;
    let contentEnd = nl;
    if (contentEnd > pos && sample[contentEnd - 1] === 13) contentEnd--;
    const s = pos < contentEnd && sample[pos] === 27 ? skipAnsi(sample, pos, contentEnd) : pos;
    if (s < contentEnd && !isBlank(sample, s, contentEnd)) {
      score.lines++;
      const kind = format.parseLine(sample, s, contentEnd, out, ctx);
      if (join) {
        score.recognized++;
        join = kind === ENTRY && out.joinNext;
      } else if (kind === ENTRY) {
        if (format.signature === undefined || format.signature(sample, s, contentEnd)) {
          score.entries++;
          score.recognized++;
          if (out.tag <= TAG_FATAL) score.withLevel++;
        }
        join = out.joinNext;
      } else if (kind === KNOWN_CONTINUATION || (score.entries > 0 && (sample[s] === 32 || sample[s] === 9))) {
        // Indented lines after an entry are its stack trace: part of a log of this format.
        score.recognized++;
      }
      if (floor !== undefined) {
        const left = floor.lines - score.lines;
        if (score.recognized + left < floor.recognized || score.recognized + score.withLevel + 2 * left < floor.rank) {
          score.belowFloor = true;
          return score;
        }
      }
    }
    pos = nl + 1;
  }
  return score;
}

function isBlank(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}

/** Turns a line format into the LogFormat the rest of the program uses. */
export function defineFormat(spec: LineFormat): LogFormat {
  return {
    name: spec.name,
    description: spec.description,
    example: spec.example,
    levelRule: spec.levelRule,
    ...(spec.joins === undefined ? {} : { joins: spec.joins }),
    ...(spec.decideBytes === undefined ? {} : { decideBytes: spec.decideBytes }),
    ...(spec.signature === undefined ? {} : { signature: spec.signature }),
    parseLine: spec.parseLine,
    parseChunk: (buf, options, views) => parseChunkWith(spec, buf, options, views),
    isEntryStart: (buf, pos, end) => isEntryStartWith(spec, buf, pos, end),
    score: (sample, options, floor) => scoreWith(spec, sample, options, floor),
    detect(sample) {
      const s = scoreWith(spec, sample);
      return s.lines === 0 ? 0 : s.recognized / s.lines;
    },
  };
}
