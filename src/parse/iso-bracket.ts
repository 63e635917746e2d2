/**
 * The original format: `2024-01-15T10:30:45.123Z [ERROR] request failed: connection timeout`.
 *
 * Also accepted: a space instead of `T`, 0..9 fractional digits, an offset instead of `Z`, no
 * zone at all (read in the configured zone), CRLF line ends, and a bare level word instead of
 * the bracketed tag (`... ERROR request failed`). A bracketed word that is not a level is a
 * custom tag (`[AUDIT]`). A line that does not start with a timestamp continues the entry
 * above it (stack traces); blank lines inside an entry stay in its body.
 */
import { ENTRY, CONTINUATION, type LineFormat, type LineKind, type LineOut, MALFORMED } from './format.js';
import type { ParseContext } from './context.js';
import { TAG_CUSTOM, TAG_NONE, levelFromBytes } from './levels.js';
import { defineFormat, skipAnsi } from './line-loop.js';
import type { ParseOptions, ParsedChunk } from './parsed-chunk.js';
import { type IsoParse, parseIsoBytes } from './timestamp.js';

const MAX_TAG_BYTES = 32;
const ts: IsoParse = { us: 0, precision: 0, hasZone: false };

/** True for bytes that start like a date (`dddd-`), used to tell a broken timestamp from a continuation. */
export function looksLikeDate(buf: Uint8Array, pos: number, end: number): boolean {
  if (end - pos < 5) return false;
  for (let i = 0; i < 4; i++) {
    const c = buf[pos + i]!;
    if (c < 48 || c > 57) return false;
  }
  return buf[pos + 4] === 45;
}

/** Bytes consumed by a timestamp that starts an entry at pos (followed by a blank or the end), or 0. */
function entryTimestamp(buf: Uint8Array, pos: number, end: number): number {
  const c = buf[pos]!;
  if (c < 48 || c > 57) return 0;
  const n = parseIsoBytes(buf, pos, end, ts);
  if (n === 0) return 0;
  let after = pos + n;
  // A colour reset right after the time (`\x1b[2m2024-...Z\x1b[0m [INFO]`) belongs to it.
  if (buf[after] === 27) after = skipAnsi(buf, after, end);
  if (after < end && buf[after] !== 32 && buf[after] !== 9) return 0;
  return after - pos;
}

function parseLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const n = entryTimestamp(buf, start, end);
  if (n === 0) {
    if (looksLikeDate(buf, start, end)) {
      out.reason = 'invalid timestamp';
      return MALFORMED;
    }
    return CONTINUATION;
  }
  out.us = ts.hasZone ? ts.us : ctx.local(ts.us);
  out.precision = ts.precision;
  let p = start + n;
  while (p < end && (buf[p] === 32 || buf[p] === 9)) p++;
  let tag = TAG_NONE;
  if (buf[p] === 91) {
    // [TAG]
    const limit = Math.min(end, p + MAX_TAG_BYTES + 2);
    let close = p + 1;
    while (close < limit && buf[close] !== 93) close++;
    if (close < limit && close > p + 1) {
      tag = levelFromBytes(buf, p + 1, close);
      if (tag < 0) {
        tag = TAG_CUSTOM;
        out.customStart = p + 1;
        out.customEnd = close;
        out.customOpen = p;
      }
      p = close + 1;
      if (p < end && buf[p] === 32) p++;
    }
  } else {
    // A bare level word: `... ERROR message`.
    let w = p;
    while (w < end && w - p <= 11 && buf[w] !== 32 && buf[w] !== 9 && buf[w] !== 58) w++;
    if (w > p && w - p <= 11) {
      const level = levelFromBytes(buf, p, w);
      if (level >= 0) {
        tag = level;
        p = w;
        if (p < end && buf[p] === 58) p++;
        if (p < end && buf[p] === 32) p++;
      }
    }
  }
  out.tag = tag;
  out.bodyStart = p;
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

export const isoBracketLines: LineFormat = {
  name: 'iso-bracket',
  description: 'ISO 8601 timestamp, then a [TAG] or a level word (the original format)',
  example: '2024-01-15T10:30:45.123Z [ERROR] request failed: connection timeout',
  levelRule: 'the bracketed tag or a bare level word after the timestamp (WARNING, ERR, CRITICAL... are aliases); another bracketed word is a custom tag ([AUDIT])',
  decideBytes: 40,
  parseLine,
};

export const isoBracketFormat = defineFormat(isoBracketLines);

/** The original format's chunk parser (kept as a named export for the bench and tests). */
export function parseIsoBracketChunk(buf: Buffer, options: ParseOptions): ParsedChunk {
  return isoBracketFormat.parseChunk(buf, options);
}
