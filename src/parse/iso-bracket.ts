/**
 * The original format: `2024-01-15T10:30:45.123Z [ERROR] request failed: connection timeout`.
 *
 * Also accepted: a space instead of `T`, 0..9 fractional digits, an offset instead of `Z`, no
 * zone at all (read in the configured zone), CRLF line ends, and a bare level word instead of
 * the bracketed tag (`... ERROR request failed`). A line that does not start with a timestamp
 * continues the entry above it (stack traces); blank lines inside an entry stay in its body.
 */
import { FIRST_CUSTOM_TAG, TAG_NONE, levelFromBytes } from './levels.js';
import { packMeta } from './meta.js';
import { ChunkBuilder, type ParseOptions, type ParsedChunk } from './parsed-chunk.js';
import { type IsoParse, ZoneResolver, parseIsoBytes } from './timestamp.js';
import type { LogFormat } from './format.js';

const MAX_TAG_BYTES = 32;
const ts: IsoParse = { us: 0, precision: 0, hasZone: false };
let zone: ZoneResolver | null = null;

function resolverFor(timezone: string): ZoneResolver {
  if (zone === null || zone.timeZone !== timezone) zone = new ZoneResolver(timezone);
  return zone;
}

/** True for bytes that start like a date (`dddd-`), used to tell a broken timestamp from a continuation. */
function looksLikeDate(buf: Uint8Array, pos: number, end: number): boolean {
  if (end - pos < 5) return false;
  for (let i = 0; i < 4; i++) {
    const c = buf[pos + i]!;
    if (c < 48 || c > 57) return false;
  }
  return buf[pos + 4] === 45;
}

/** Bytes consumed by a timestamp that starts an entry at pos, or 0. */
function entryTimestamp(buf: Uint8Array, pos: number, end: number): number {
  const c = buf[pos]!;
  if (c < 48 || c > 57) return 0;
  const n = parseIsoBytes(buf, pos, end, ts);
  if (n === 0) return 0;
  const after = pos + n;
  if (after < end && buf[after] !== 32 && buf[after] !== 9) return 0;
  return n;
}

export function parseIsoBracketChunk(buf: Buffer, options: ParseOptions): ParsedChunk {
  const end = buf.length;
  const out = new ChunkBuilder(Math.ceil(end / 64));
  const resolver = options.timezone === 'UTC' ? null : resolverFor(options.timezone);
  let pos = 0;
  let lineIdx = 0;
  let current = -1;
  while (pos < end) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0) nl = end;
    let contentEnd = nl;
    if (contentEnd > pos && buf[contentEnd - 1] === 13) contentEnd--;
    if (contentEnd > pos) {
      const n = entryTimestamp(buf, pos, contentEnd);
      if (n > 0) {
        const us = ts.hasZone || resolver === null ? ts.us : resolver.toUtc(ts.us);
        let p = pos + n;
        while (p < contentEnd && (buf[p] === 32 || buf[p] === 9)) p++;
        let tag = TAG_NONE;
        let tagOpen = -1;
        if (buf[p] === 91) {
          // [TAG]
          const limit = Math.min(contentEnd, p + MAX_TAG_BYTES + 2);
          let close = p + 1;
          while (close < limit && buf[close] !== 93) close++;
          if (close < limit && close > p + 1) {
            tag = levelFromBytes(buf, p + 1, close);
            if (tag < 0) {
              tag = FIRST_CUSTOM_TAG + out.customTag(buf.toString('latin1', p + 1, close).toUpperCase());
              tagOpen = p;
            }
            p = close + 1;
            if (p < contentEnd && buf[p] === 32) p++;
          }
        } else {
          // A bare level word: `... ERROR message`.
          let w = p;
          while (w < contentEnd && w - p <= 11 && buf[w] !== 32 && buf[w] !== 9 && buf[w] !== 58) w++;
          if (w > p && w - p <= 11) {
            const level = levelFromBytes(buf, p, w);
            if (level >= 0) {
              tag = level;
              p = w;
              if (p < contentEnd && buf[p] === 58) p++;
              if (p < contentEnd && buf[p] === 32) p++;
            }
          }
        }
        current = out.push(us, packMeta(tag, ts.precision), lineIdx, p, contentEnd);
        if (tagOpen >= 0) out.customTagAt.push(current, tagOpen);
      } else {
        if (looksLikeDate(buf, pos, contentEnd)) {
          out.error(lineIdx, current >= 0 ? 'invalid timestamp; kept as a continuation of the entry above' : 'invalid timestamp', buf, pos, contentEnd);
        } else if (current < 0) {
          out.error(lineIdx, 'no timestamp and no entry above it to continue', buf, pos, contentEnd);
        }
        if (current >= 0) out.bodyEnd[current] = contentEnd;
      }
    }
    lineIdx++;
    pos = nl + 1;
  }
  return out.finish(lineIdx);
}

export const isoBracketFormat: LogFormat = {
  name: 'iso-bracket',
  description: '2024-01-15T10:30:45.123Z [ERROR] body (the original format)',
  parseChunk: parseIsoBracketChunk,
  isEntryStart(buf, pos, end) {
    let lineEnd = buf.indexOf(10, pos);
    if (lineEnd < 0 || lineEnd > end) {
      // Not a whole line yet: decide only when the timestamp part is all there.
      if (end - pos < 40) return undefined;
      lineEnd = end;
    }
    if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
    return entryTimestamp(buf, pos, lineEnd) > 0;
  },
  detect(sample) {
    let lines = 0;
    let hits = 0;
    let pos = 0;
    while (pos < sample.length && lines < 50) {
      let nl = sample.indexOf(10, pos);
      if (nl < 0) nl = sample.length;
      if (nl > pos) {
        lines++;
        if (entryTimestamp(sample, pos, nl) > 0) hits++;
      }
      pos = nl + 1;
    }
    return lines === 0 ? 0 : hits / lines;
  },
};
