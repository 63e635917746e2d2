/**
 * Database and cache servers' own logs.
 *
 * PostgreSQL (default log_line_prefix '%m [%p] '): `2025-08-13 01:45:01.123 PDT [12345] ERROR:  msg`.
 *   The zone is an abbreviation from the table in zones.ts or a numeric offset (`+03`); one not
 *   in the table is read in --timezone. DETAIL/HINT/CONTEXT/STATEMENT/QUERY/LOCATION lines
 *   belong to the entry above them, as do the indented lines of a multi-line statement.
 * MySQL / MariaDB error log: `2024-01-15T10:30:45.123456Z 0 [Warning] [MY-010068] [Server] msg`
 *   (8.0), `2024-01-15 10:30:45 12345 [Note] msg` (5.6, 5.7), `240115 10:30:45 [ERROR] msg` (5.5): a
 *   thread id after an ISO timestamp is required, which keeps `... [ERROR] msg` lines for iso-bracket.
 * Redis: `4242:M 15 Jan 2024 10:30:45.123 * msg`, and year-less forms (`4242:M 15 Jan
 *   10:30:45.123 #`, `[4242] 15 Jan 10:30:45.123 *` from Redis 2.x), local time.
 */
import type { ParseContext } from '../context.js';
import { CONTINUATION, ENTRY, KNOWN_CONTINUATION, type LineFormat, type LineKind, type LineOut, MALFORMED } from '../format.js';
import { TAG_DEBUG, TAG_ERROR, TAG_FATAL, TAG_INFO, TAG_WARN } from '../levels.js';
import { civilUs, fractionAt, frac, isDigitByte, monthAt, num2, num4, padded2, validDate, validTime } from '../time-parts.js';
import { looksLikeDate } from '../iso-bracket.js';
import { type IsoParse, parseIsoBytes } from '../timestamp.js';
import { type ZoneParse, zoneAt } from '../zones.js';

const ts: IsoParse = { us: 0, precision: 0, hasZone: false };
const zone: ZoneParse = { offsetMinutes: 0, length: 0 };

const PG_WORDS: [string, number][] = [
  ['LOG', TAG_INFO], ['INFO', TAG_INFO], ['NOTICE', TAG_INFO], ['WARNING', TAG_WARN], ['ERROR', TAG_ERROR], ['FATAL', TAG_FATAL],
  ['PANIC', TAG_FATAL], ['DEBUG', TAG_DEBUG], ['DEBUG1', TAG_DEBUG], ['DEBUG2', TAG_DEBUG], ['DEBUG3', TAG_DEBUG], ['DEBUG4', TAG_DEBUG],
  ['DEBUG5', TAG_DEBUG], ['DETAIL', -2], ['HINT', -2], ['CONTEXT', -2], ['STATEMENT', -2], ['QUERY', -2], ['LOCATION', -2],
];
const PG_BY_LENGTH: { bytes: Uint8Array; level: number }[][] = [];
for (const [w, level] of PG_WORDS) (PG_BY_LENGTH[w.length] ??= []).push({ bytes: Uint8Array.from(w, (c) => c.charCodeAt(0)), level });

/** PostgreSQL severities (upper-case word before `:`): level id, or -2 for a detail line, -1 otherwise. */
function postgresSeverity(buf: Uint8Array, s: number, e: number): number {
  const list = PG_BY_LENGTH[e - s];
  if (list === undefined) return -1;
  outer: for (let k = 0; k < list.length; k++) {
    const w = list[k]!.bytes;
    for (let i = 0; i < w.length; i++) if (buf[s + i] !== w[i]) continue outer;
    return list[k]!.level;
  }
  return -1;
}

function isUpperOrDigit(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

function postgresLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const c = buf[start]!;
  if (c < 48 || c > 57) return CONTINUATION;
  const n = parseIsoBytes(buf, start, end, ts);
  if (n === 0) {
    if (looksLikeDate(buf, start, end)) {
      out.reason = 'invalid timestamp';
      return MALFORMED;
    }
    return CONTINUATION;
  }
  let p = start + n;
  let us = ts.us;
  let hasZone = ts.hasZone;
  if (!hasZone && buf[p] === 32) {
    zoneAt(buf, p + 1, end, zone);
    if (zone.length > 0) {
      us -= zone.offsetMinutes * 60_000_000;
      hasZone = true;
      p += 1 + zone.length;
    } else {
      // An abbreviation not in the table: skip it, read the time in --timezone.
      let q = p + 1;
      while (q < end && q - p <= 6 && buf[q]! >= 65 && buf[q]! <= 90) q++;
      if (q > p + 1 && buf[q] === 32) p = q;
    }
  }
  // The severity word, ending in ':', within the next few tokens (pid, user@db, app...).
  const limit = Math.min(end, p + 160);
  let q = p;
  let severity = -1;
  let after = -1;
  for (let token = 0; token < 6 && q < limit; token++) {
    while (q < limit && buf[q] === 32) q++;
    const w = q;
    while (q < limit && isUpperOrDigit(buf[q]!)) q++;
    if (q > w && buf[q] === 58) {
      severity = postgresSeverity(buf, w, q);
      if (severity !== -1) {
        after = q + 1;
        break;
      }
    }
    while (q < limit && buf[q] !== 32) q++;
  }
  if (severity === -1) return CONTINUATION;
  while (after < end && buf[after] === 32) after++;
  out.bodyEnd = end;
  if (severity === -2) return KNOWN_CONTINUATION;
  out.us = hasZone ? us : ctx.local(us);
  out.precision = ts.precision;
  out.tag = severity;
  out.bodyStart = after;
  out.joinNext = false;
  return ENTRY;
}

/** `[Note]`-style MySQL level at p: level id and the index after `] `, or -1. */
const mysqlLevelEnd = { at: 0 };
function mysqlLevel(buf: Uint8Array, p: number, end: number): number {
  if (buf[p] !== 91) return -1;
  let close = p + 1;
  while (close < end && close - p < 10 && buf[close] !== 93) close++;
  if (buf[close] !== 93) return -1;
  const len = close - p - 1;
  const a = buf[p + 1]! | 0x20;
  let level = -1;
  if (len === 4 && a === 110) level = TAG_INFO; // Note
  else if (len === 6 && a === 115) level = TAG_INFO; // System
  else if (len === 7 && a === 119) level = TAG_WARN; // Warning
  else if (len === 5 && a === 101) level = TAG_ERROR; // ERROR / Error
  mysqlLevelEnd.at = buf[close + 1] === 32 ? close + 2 : close + 1;
  return level;
}

function mysqlLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const c = buf[start]!;
  if (c < 48 || c > 57) return CONTINUATION;
  let p: number;
  const n = parseIsoBytes(buf, start, end, ts);
  if (n > 0) {
    out.us = ts.hasZone ? ts.us : ctx.local(ts.us);
    out.precision = ts.precision;
    p = start + n;
  } else {
    // yymmdd hh:mm:ss, the hour space-padded
    if (end - start < 15 || buf[start + 6] !== 32 || buf[start + 9] !== 58 || buf[start + 12] !== 58) return CONTINUATION;
    const year = 2000 + num2(buf, start);
    const month = num2(buf, start + 2);
    const day = num2(buf, start + 4);
    const hour = padded2(buf, start + 7);
    const minute = num2(buf, start + 10);
    const second = num2(buf, start + 13);
    if (!validDate(year, month, day) || !validTime(hour, minute, second)) return CONTINUATION;
    out.us = ctx.local(civilUs(year, month, day, hour, minute, second, 0));
    out.precision = 0;
    p = start + 15;
  }
  if (buf[p] !== 32) return CONTINUATION;
  p++;
  // The thread id: always there after an ISO timestamp (5.6 on), never after yymmdd (5.5).
  if (n > 0) {
    const d = p;
    while (p < end && isDigitByte(buf[p])) p++;
    if (p === d || buf[p] !== 32) return CONTINUATION;
    p++;
  }
  const level = mysqlLevel(buf, p, end);
  if (level < 0) return CONTINUATION;
  out.tag = level;
  out.bodyStart = mysqlLevelEnd.at;
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

function redisLevel(c: number): number {
  switch (c) {
    case 46: case 45: return TAG_DEBUG; // . debug, - verbose
    case 42: return TAG_INFO; // * notice
    case 35: return TAG_WARN; // # warning
    default: return -1;
  }
}

function redisLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  let p = start;
  // pid:role or [pid]
  if (buf[p] === 91) {
    p++;
    const d = p;
    while (p < end && isDigitByte(buf[p])) p++;
    if (p === d || buf[p] !== 93) return CONTINUATION;
    p++;
  } else {
    const d = p;
    while (p < end && isDigitByte(buf[p])) p++;
    if (p === d || buf[p] !== 58) return CONTINUATION;
    const role = buf[p + 1];
    if (role !== 77 && role !== 83 && role !== 67 && role !== 88) return CONTINUATION; // M S C X
    p += 2;
  }
  if (buf[p] !== 32) return CONTINUATION;
  p++;
  // dd Mon [yyyy ]hh:mm:ss.mmm
  if (end - p < 15) return CONTINUATION;
  const day = num2(buf, p);
  const month = monthAt(buf, p + 3);
  if (buf[p + 2] !== 32 || month === 0 || buf[p + 6] !== 32) return CONTINUATION;
  let t = p + 7;
  let year: number;
  if (buf[t + 4] === 32 && isDigitByte(buf[t])) {
    year = num4(buf, t);
    t += 5;
  } else {
    year = day >= 1 && day <= 31 ? ctx.yearFor(month, day) : -1;
  }
  if (buf[t + 2] !== 58 || buf[t + 5] !== 58) return CONTINUATION;
  const hour = num2(buf, t);
  const minute = num2(buf, t + 3);
  const second = num2(buf, t + 6);
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) {
    out.reason = 'invalid timestamp';
    return MALFORMED;
  }
  const i = fractionAt(buf, t + 8, end);
  const level = redisLevel(buf[i + 1] ?? 0);
  if (buf[i] !== 32 || level < 0) return CONTINUATION;
  out.us = ctx.local(civilUs(year, month, day, hour, minute, second, frac.micros));
  out.precision = frac.precision;
  out.tag = level;
  out.bodyStart = Math.min(end, i + 3);
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

export const postgresFormat: LineFormat = {
  name: 'postgres',
  description: "PostgreSQL's server log with the default prefix (%m [%p])",
  example: '2025-08-13 01:45:01.123 PDT [12345] ERROR:  relation "orders" does not exist at character 15',
  levelRule: 'the severity: DEBUG1-5 DEBUG, LOG/INFO/NOTICE INFO, WARNING WARN, ERROR ERROR, FATAL/PANIC FATAL; DETAIL, HINT, CONTEXT, STATEMENT lines join the entry above',
  decideBytes: 200,
  parseLine: postgresLine,
};

export const mysqlFormat: LineFormat = {
  name: 'mysql',
  description: 'MySQL / MariaDB error log (8.0, 5.x and older forms)',
  example: '2024-01-15T10:30:45.123456Z 0 [Warning] [MY-010068] [Server] CA certificate ca.pem is self signed.',
  levelRule: 'the bracketed label: Note/System INFO, Warning WARN, ERROR ERROR',
  decideBytes: 64,
  parseLine: mysqlLine,
};

export const redisFormat: LineFormat = {
  name: 'redis',
  description: "Redis server log (with or without the year), local time",
  example: '4242:M 15 Jan 2024 10:30:45.123 # WARNING overcommit_memory is set to 0! Background save may fail under low memory condition.',
  levelRule: 'the level mark: . and - DEBUG, * INFO, # WARN',
  decideBytes: 48,
  parseLine: redisLine,
};

