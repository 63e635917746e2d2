/**
 * The format seam. A format supplies one thing: for a single line, "does an entry start
 * here, and what are its time, level and body" (`parseLine`). Everything else (splitting
 * on LF, CRLF, ANSI colour prefixes, continuation lines, joined partial lines, error
 * samples, cutting chunks at entry starts, detection scores) is the shared line loop in
 * line-loop.ts, so every format gets the same behaviour for free.
 *
 * Formats are pure functions of bytes: the parse worker imports this module and nothing
 * from the server.
 */
import type { ParseContext } from './context.js';
import type { ParseOptions, ParsedChunk } from './parsed-chunk.js';

/** parseLine results. */
export const CONTINUATION = 0;
export const ENTRY = 1;
/** Looks like an entry of this format but is broken: counted and sampled, kept as a continuation. */
export const MALFORMED = 2;
/**
 * A continuation line of the format's own shape (a PostgreSQL `DETAIL:` line, a stack-trace
 * line inside a CRI record): joins the entry above up to `out.bodyEnd`, which the format sets;
 * detection counts it as recognized.
 */
export const KNOWN_CONTINUATION = 3;
export type LineKind = typeof CONTINUATION | typeof ENTRY | typeof MALFORMED | typeof KNOWN_CONTINUATION;

/**
 * What parseLine fills in for an ENTRY line. One object per parse, reused for every line:
 * no per-line allocation.
 */
export interface LineOut {
  /** Epoch microseconds (UTC). */
  us: number;
  /** Fractional digits the source had, 0..6. */
  precision: number;
  /** Tag id (levels.ts), or TAG_CUSTOM with the name at [customStart, customEnd). */
  tag: number;
  /** Body byte range within the chunk. */
  bodyStart: number;
  bodyEnd: number;
  /** The next line is part of this entry whatever it holds (CRI `P`, a Docker fragment). */
  joinNext: boolean;
  customStart: number;
  customEnd: number;
  /** Where the body starts instead when the custom tag cannot be interned (keeps the tag text). */
  customOpen: number;
  /** Why a MALFORMED line is malformed (a constant string: no allocation). */
  reason: string;
}

export function newLineOut(): LineOut {
  return { us: 0, precision: 0, tag: 0, bodyStart: 0, bodyEnd: 0, joinNext: false, customStart: 0, customEnd: 0, customOpen: 0, reason: '' };
}

/** What a format implements. */
export interface LineFormat {
  /** The name `--format` accepts and tail_status reports. */
  readonly name: string;
  /** One line for `--help`, errors and the README. */
  readonly description: string;
  /** An example line (README table, detection tests). */
  readonly example: string;
  /** How the level is found (README table). */
  readonly levelRule: string;
  /** True when a line can carry `joinNext` (the previous line then decides entry starts too). */
  readonly joins?: boolean;
  /**
   * Bytes of an unterminated line enough to tell whether it starts an entry; Infinity when only
   * the whole line tells (JSON: the time field may come last). Default 64.
   */
  readonly decideBytes?: number;
  /**
   * Reads the line buf[start, end): no line terminator, CR removed, ANSI colour prefix skipped.
   * Returns ENTRY (and fills `out`), CONTINUATION (the line belongs to the entry above) or
   * MALFORMED (`out.reason` says why). Must not throw and must never produce NaN.
   */
  parseLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind;
  /**
   * Detection only: whether an entry line carries this format's own marks. Variants that
   * share a parser (pino and generic JSON) count only the lines that are theirs.
   */
  readonly signature?: (buf: Uint8Array, start: number, end: number) => boolean;
}

/** Share of a detection sample a format recognizes, and how strongly. */
export interface DetectScore {
  /** Non-blank lines looked at. */
  lines: number;
  /** Lines that start an entry. */
  entries: number;
  /** Entries whose level came from the line itself (a level word, number or status). */
  withLevel: number;
  /** Lines recognized: entries plus indented continuation lines right after them (traces). */
  recognized: number;
  /** Set when scoring stopped early because the floor it was given could no longer be reached. */
  belowFloor?: true;
}

/**
 * What a score must still be able to reach to matter to detection (formats.ts detect): once
 * it cannot, scoring stops. Every bound is one the finished score could not have beaten.
 */
export interface ScoreFloor {
  /** Non-blank lines the score will look at (sampleLineCount: the same for every format). */
  lines: number;
  /** Lines it must recognize: fewer put its share under MIN_SHARE. */
  recognized: number;
  /** recognized + withLevel it must reach: the best rank so far plus one (ties go to the earlier format). */
  rank: number;
}

/** A format as the rest of the program uses it: the line function plus the shared loop. */
export interface LogFormat extends LineFormat {
  /**
   * Parses a chunk that starts at a line boundary into columns. With `views` the columns may
   * be views of buffers the next parse on this thread reuses: for a caller that copies them
   * out at once (the parse worker encodes them for the main thread).
   */
  parseChunk(buf: Buffer, options: ParseOptions, views?: boolean): ParsedChunk;
  /**
   * Whether the line starting at buf[pos] starts a new entry. `undefined` when the bytes up to
   * `end` are too few to tell yet (the reader waits for more).
   */
  isEntryStart(buf: Uint8Array, pos: number, end: number): boolean | undefined;
  /** Share (0..1) of the sample's non-blank lines this format recognizes. */
  detect(sample: Uint8Array): number;
  /** The counts behind detect(), for choosing between formats; see ScoreFloor for `floor`. */
  score(sample: Uint8Array, options?: ParseOptions, floor?: ScoreFloor): DetectScore;
}
