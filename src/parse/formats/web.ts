/**
 * Web server logs.
 *
 * Common / Combined Log Format (Apache, nginx access logs):
 *   `10.0.0.1 - frank [15/Jan/2024:10:30:45 +0000] "GET /x HTTP/1.1" 503 512 "ref" "agent"`
 *   The level is the status class: 5xx ERROR, 4xx WARN, else INFO. The body is the whole line.
 *   A prefix before the client (vhost_combined's `host:port `) is allowed.
 * nginx error log: `2024/01/15 10:30:45 [error] 1234#0: *5 connect() failed ...` (local time).
 * Apache error log: `[Mon Jan 15 10:30:45.123456 2024] [core:error] [pid 1234] AH00124: ...`
 *   (2.4; 2.2's `[error]` without a module too), local time.
 */
import type { ParseContext } from '../context.js';
import { CONTINUATION, ENTRY, type LineFormat, type LineKind, type LineOut, MALFORMED } from '../format.js';
import { TAG_NONE, httpStatusLevel, levelFromBytes } from '../levels.js';
import { civilUs, dig, fractionAt, frac, isDigitByte, isWeekdayAt, monthAt, num2, num4, padded2, validDate, validTime } from '../time-parts.js';
import { type ZoneParse, zoneAt } from '../zones.js';

const zone: ZoneParse = { offsetMinutes: 0, length: 0 };

/**
 * The last `dd/Mon/yyyy:HH:MM:SS ±zzzz]` read (27 bytes with the bracket) and its time: access
 * logs write many lines a second, and a line whose 27 bytes are the same bytes has the same
 * time, so the date arithmetic is skipped (clf 4.8M -> 7.7M, combined 3.5M -> 4.8M lines per
 * CPU-second, best of 6 passes over 200k bench lines, load ~10, 2026-12-02).
 */
const LAST_BYTES = 27;
const last = { bytes: new Uint8Array(LAST_BYTES), view: null as DataView | null, us: 0, precision: 0, ctx: null as ParseContext | null };
last.view = new DataView(last.bytes.buffer);
let lineBuf: Uint8Array | null = null;
let lineView: DataView<ArrayBufferLike> | null = null;

/** Whether buf[p, p + 27) holds the bytes of the last timestamp cached (p + 27 <= end). */
function sameAsLast(buf: Uint8Array, p: number): boolean {
  if (buf !== lineBuf) {
    lineBuf = buf;
    lineView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const a = lineView!;
  const b = last.view!;
  return a.getUint32(p) === b.getUint32(0) && a.getUint32(p + 4) === b.getUint32(4) && a.getUint32(p + 8) === b.getUint32(8)
    && a.getUint32(p + 12) === b.getUint32(12) && a.getUint32(p + 16) === b.getUint32(16) && a.getUint32(p + 20) === b.getUint32(20)
    && a.getUint16(p + 24) === b.getUint16(24) && buf[p + 26] === 93;
}

/**
 * `dd/Mon/yyyy:HH:MM:SS[.frac] ±zzzz` at p: sets out.us / precision, returns the index after it
 * or 0. A timestamp of 26 bytes closed by `]` is read from bytes alone (its zone ends at the
 * bracket), so its time is cached for the next line (see `last`).
 */
function clfTimestamp(buf: Uint8Array, p: number, end: number, out: LineOut, ctx: ParseContext): number {
  if (last.ctx === ctx && p + LAST_BYTES <= end && sameAsLast(buf, p)) {
    out.us = last.us;
    out.precision = last.precision;
    return p + LAST_BYTES - 1;
  }
  const after = readClfTimestamp(buf, p, end, out, ctx);
  if (after === p + LAST_BYTES - 1 && buf[after] === 93) {
    for (let k = 0; k < LAST_BYTES; k++) last.bytes[k] = buf[p + k]!;
    last.us = out.us;
    last.precision = out.precision;
    last.ctx = ctx;
  } else {
    last.ctx = null;
  }
  return after;
}

function readClfTimestamp(buf: Uint8Array, p: number, end: number, out: LineOut, ctx: ParseContext): number {
  if (end - p < 20) return 0;
  if (buf[p + 2] !== 47 || buf[p + 6] !== 47 || buf[p + 11] !== 58 || buf[p + 14] !== 58 || buf[p + 17] !== 58) return 0;
  const day = num2(buf, p);
  const month = monthAt(buf, p + 3);
  const year = num4(buf, p + 7);
  const hour = num2(buf, p + 12);
  const minute = num2(buf, p + 15);
  const second = num2(buf, p + 18);
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) return 0;
  let i = fractionAt(buf, p + 20, end);
  const micros = frac.micros;
  out.precision = frac.precision;
  let us = civilUs(year, month, day, hour, minute, second, micros);
  if (buf[i] === 32) {
    zoneAt(buf, i + 1, end, zone);
    if (zone.length > 0) {
      us -= zone.offsetMinutes * 60_000_000;
      i += 1 + zone.length;
      out.us = us;
      return i;
    }
  }
  out.us = ctx.local(us);
  return i;
}

/** Index after a double-quoted field at p (backslash escapes), or -1. */
function quoted(buf: Uint8Array, p: number, end: number): number {
  if (buf[p] !== 34) return -1;
  let i = p + 1;
  // Four plain bytes a turn (no quote, no backslash): the request field's walk was the
  // largest part of a clf line's parse (profile, 2026-12-02).
  while (i + 3 < end) {
    const a = buf[i]!;
    const b = buf[i + 1]!;
    const c = buf[i + 2]!;
    const d = buf[i + 3]!;
    if (a === 34 || a === 92 || b === 34 || b === 92 || c === 34 || c === 92 || d === 34 || d === 92) break;
    i += 4;
  }
  while (i < end) {
    const c = buf[i]!;
    if (c === 34) return i + 1;
    i += c === 92 ? 2 : 1;
  }
  return -1;
}

/** Where the last access line's status ended (detection checks for the two Combined fields after it). */
const access = { afterStatus: 0 };

function hasRefererAndAgent(buf: Uint8Array, end: number): boolean {
  let q = access.afterStatus;
  while (q < end && buf[q] !== 32) q++; // bytes sent
  const refEnd = quoted(buf, q + 1, end);
  return refEnd > 0 && buf[refEnd] === 32 && quoted(buf, refEnd + 1, end) > 0;
}

function accessLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  // The date bracket comes after the client, ident and user fields: within the first 300 bytes.
  const limit = Math.min(end, start + 300);
  let open = start;
  while (open < limit && buf[open] !== 91) {
    if (buf[open] === 34) return CONTINUATION;
    open++;
  }
  if (open >= limit || open === start || buf[open - 1] !== 32) return CONTINUATION;
  const after = clfTimestamp(buf, open + 1, end, out, ctx);
  if (after === 0) {
    // `[dd/` is a date that did not parse, not some other bracket.
    if (isDigitByte(buf[open + 1]) && isDigitByte(buf[open + 2]) && buf[open + 3] === 47) {
      out.reason = 'invalid access log timestamp';
      return MALFORMED;
    }
    return CONTINUATION;
  }
  if (buf[after] !== 93 || buf[after + 1] !== 32) return CONTINUATION;
  const reqEnd = quoted(buf, after + 2, end);
  if (reqEnd < 0 || buf[reqEnd] !== 32) {
    out.reason = 'access log line without a quoted request';
    return MALFORMED;
  }
  const q = reqEnd + 1;
  const status = dig(buf, q) * 100 + dig(buf, q + 1) * 10 + dig(buf, q + 2);
  if (status < 100 || (q + 3 < end && buf[q + 3] !== 32)) {
    out.reason = 'access log line without a status code';
    return MALFORMED;
  }
  access.afterStatus = q + 4;
  out.tag = httpStatusLevel(status);
  let e = end;
  while (e > start && buf[e - 1] === 32) e--;
  out.bodyStart = start;
  out.bodyEnd = e;
  out.joinNext = false;
  return ENTRY;
}

function nginxErrorLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const p = start;
  if (end - p < 21 || buf[p + 4] !== 47 || buf[p + 7] !== 47 || buf[p + 10] !== 32 || buf[p + 13] !== 58 || buf[p + 16] !== 58) return CONTINUATION;
  const year = num4(buf, p);
  const month = num2(buf, p + 5);
  const day = num2(buf, p + 8);
  const hour = num2(buf, p + 11);
  const minute = num2(buf, p + 14);
  const second = num2(buf, p + 17);
  if (year < 0) return CONTINUATION;
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) {
    out.reason = 'invalid timestamp';
    return MALFORMED;
  }
  // ` [level] pid#tid: `
  if (buf[p + 19] !== 32 || buf[p + 20] !== 91) return CONTINUATION;
  let close = p + 21;
  while (close < end && close - p < 32 && buf[close] !== 93) close++;
  const level = levelFromBytes(buf, p + 21, close);
  if (buf[close] !== 93 || level < 0) return CONTINUATION;
  let q = close + 1;
  if (buf[q] !== 32) return CONTINUATION;
  q++;
  const pidStart = q;
  while (q < end && buf[q]! >= 48 && buf[q]! <= 57) q++;
  if (q === pidStart || buf[q] !== 35) return CONTINUATION;
  out.us = ctx.local(civilUs(year, month, day, hour, minute, second, 0));
  out.precision = 0;
  out.tag = level;
  out.bodyStart = close + 2;
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

function apacheErrorLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  // [Www Mmm dd hh:mm:ss[.uuuuuu] yyyy]
  const p = start;
  if (end - p < 26 || buf[p] !== 91 || !isWeekdayAt(buf, p + 1) || buf[p + 4] !== 32) return CONTINUATION;
  const month = monthAt(buf, p + 5);
  const day = padded2(buf, p + 9);
  if (month === 0 || buf[p + 8] !== 32 || buf[p + 11] !== 32 || buf[p + 14] !== 58 || buf[p + 17] !== 58) return CONTINUATION;
  const hour = num2(buf, p + 12);
  const minute = num2(buf, p + 15);
  const second = num2(buf, p + 18);
  const i = fractionAt(buf, p + 20, end);
  const micros = frac.micros;
  const precision = frac.precision;
  if (buf[i] !== 32 || buf[i + 5] !== 93) return CONTINUATION;
  const year = num4(buf, i + 1);
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) {
    out.reason = 'invalid timestamp';
    return MALFORMED;
  }
  out.us = ctx.local(civilUs(year, month, day, hour, minute, second, micros));
  out.precision = precision;
  let q = i + 6;
  let tag = TAG_NONE;
  if (buf[q] === 32 && buf[q + 1] === 91) {
    let close = q + 2;
    while (close < end && close - q < 48 && buf[close] !== 93) close++;
    if (buf[close] === 93) {
      // [module:level] or [level]
      let colon = close;
      while (colon > q + 2 && buf[colon - 1] !== 58) colon--;
      const from = colon > q + 2 ? colon : q + 2;
      let levelEnd = close;
      // trace1..trace8, debug: the digits do not matter
      while (levelEnd > from && buf[levelEnd - 1]! >= 48 && buf[levelEnd - 1]! <= 57) levelEnd--;
      const level = levelFromBytes(buf, from, levelEnd);
      if (level >= 0) {
        tag = level;
        q = close + 1;
      }
    }
  }
  out.tag = tag;
  out.bodyStart = buf[q] === 32 ? q + 1 : q;
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

export const combinedFormat: LineFormat = {
  name: 'combined',
  description: 'Combined Log Format (Apache/nginx access log with referer and user agent)',
  example: '10.0.0.7 - - [15/Jan/2024:10:30:45 +0000] "GET /api/v1/orders/42 HTTP/1.1" 503 512 "-" "curl/8.4.0"',
  levelRule: 'HTTP status: 5xx ERROR, 4xx WARN, 1xx-3xx INFO',
  decideBytes: 320,
  parseLine: accessLine,
  signature: (buf, _start, end) => hasRefererAndAgent(buf, end),
};

export const commonFormat: LineFormat = {
  name: 'clf',
  description: 'Common Log Format (access log without referer and user agent)',
  example: '10.0.0.7 - frank [15/Jan/2024:10:30:45 +0000] "GET /api/v1/orders/42 HTTP/1.1" 404 153',
  levelRule: 'HTTP status: 5xx ERROR, 4xx WARN, 1xx-3xx INFO',
  decideBytes: 320,
  parseLine: accessLine,
};

export const nginxErrorFormat: LineFormat = {
  name: 'nginx-error',
  description: "nginx's error log",
  example: '2024/01/15 10:30:45 [error] 1234#0: *5 connect() failed (111: Connection refused) while connecting to upstream',
  levelRule: 'the bracketed level: emerg/alert/crit FATAL, error ERROR, warn WARN, notice/info INFO, debug DEBUG',
  decideBytes: 48,
  parseLine: nginxErrorLine,
};

export const apacheErrorFormat: LineFormat = {
  name: 'apache-error',
  description: "Apache httpd's error log (2.2 and 2.4)",
  example: '[Mon Jan 15 10:30:45.123456 2024] [proxy:error] [pid 1234:tid 5678] (111)Connection refused: AH00957: backend failed',
  levelRule: 'the [module:level] field: emerg/alert/crit FATAL, error ERROR, warn WARN, notice/info INFO, debug DEBUG, trace1-8 TRACE',
  decideBytes: 64,
  parseLine: apacheErrorLine,
};
