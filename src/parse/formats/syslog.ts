/**
 * Syslog as files hold it.
 *
 * RFC 3164 (BSD, what rsyslog and syslog-ng write by default):
 *   `[<PRI>]Jan  5 10:30:45 host app[pid]: message`, or with an RFC 3339 timestamp instead
 *   (rsyslog's RFC3339 template). The BSD timestamp has no year (taken from the file's
 *   modification time, see ParseContext.yearFor) and no zone (read in --timezone).
 * RFC 5424: `[<PRI>]1 2024-01-15T10:30:45.123Z host app procid msgid [sd] message`.
 *
 * Level: the PRI's severity when the line has one (files usually do not); else, for haproxy's
 * HTTP log lines inside syslog, the HTTP status; else the message's own level (level-sniff).
 * The body is everything after the timestamp: host, program and message.
 */
import type { ParseContext } from '../context.js';
import { CONTINUATION, ENTRY, type LineFormat, type LineKind, type LineOut, MALFORMED } from '../format.js';
import { sniffLevel } from '../level-sniff.js';
import { TAG_NONE, httpStatusLevel, syslogSeverityLevel } from '../levels.js';
import { civilUs, fractionAt, frac, monthAt, num2, padded2, validDate, validTime, dig, isDigitByte } from '../time-parts.js';
import { type IsoParse, parseIsoBytes } from '../timestamp.js';

const ts: IsoParse = { us: 0, precision: 0, hasZone: false };

/** `<PRI>` at start: index after it, and the severity in pri.severity (-1 when absent). */
const pri = { severity: -1 };
function readPri(buf: Uint8Array, start: number, end: number): number {
  pri.severity = -1;
  if (buf[start] !== 60) return start;
  let p = start + 1;
  let n = 0;
  while (p < end && p - start <= 4 && isDigitByte(buf[p])) n = n * 10 + buf[p++]! - 48;
  if (p === start + 1 || buf[p] !== 62 || n > 191) return -1;
  pri.severity = n & 7;
  return p + 1;
}

/** `Mmm dd hh:mm:ss[.frac]` at p (day space-padded): sets out.us (local) and returns the index after, or 0. */
export function bsdTimestamp(buf: Uint8Array, p: number, end: number, out: LineOut, ctx: ParseContext): number {
  if (end - p < 15) return 0;
  const month = monthAt(buf, p);
  if (month === 0 || buf[p + 3] !== 32) return 0;
  const day = padded2(buf, p + 4);
  if (buf[p + 6] !== 32 || buf[p + 9] !== 58 || buf[p + 12] !== 58) return 0;
  const hour = num2(buf, p + 7);
  const minute = num2(buf, p + 10);
  const second = num2(buf, p + 13);
  if (day < 1 || day > 31 || !validTime(hour, minute, second)) return 0;
  let i = fractionAt(buf, p + 15, end);
  const micros = frac.micros;
  const precision = frac.precision;
  let year: number;
  // syslog-ng's "Jan 15 2024 10:30:45"-style year is not standard; a year after the time is.
  if (end - i >= 5 && buf[i] === 32 && isDigitByte(buf[i + 1]) && isDigitByte(buf[i + 4]) && (i + 5 === end || buf[i + 5] === 32)) {
    year = dig(buf, i + 1) * 1000 + dig(buf, i + 2) * 100 + dig(buf, i + 3) * 10 + dig(buf, i + 4);
    i += 5;
  } else {
    year = ctx.yearFor(month, day);
  }
  if (!validDate(year, month, day)) return 0;
  out.us = ctx.local(civilUs(year, month, day, hour, minute, second, micros));
  out.precision = precision;
  return i;
}

function isHostByte(c: number): boolean {
  return c > 32 && c < 127 && c !== 91 && c !== 93;
}

/** The message start after `host prog[pid]: ` from p (just after the timestamp's space), with the program's range. */
const prog = { start: 0, end: 0, message: 0 };
function findMessage(buf: Uint8Array, p: number, end: number): boolean {
  let h = p;
  while (h < end && isHostByte(buf[h]!)) h++;
  if (h === p || h >= end || buf[h] !== 32) return false;
  const t = h + 1;
  let q = t;
  while (q < end && q - t < 64 && buf[q] !== 32 && buf[q] !== 58 && buf[q] !== 91) q++;
  prog.start = t;
  prog.end = q;
  if (buf[q] === 91) {
    while (q < end && q - t < 96 && buf[q] !== 93) q++;
    q++;
  }
  if (q < end && buf[q] === 58) {
    prog.message = q + 1 < end && buf[q + 1] === 32 ? q + 2 : q + 1;
    return true;
  }
  prog.message = t;
  return false;
}

/** haproxy's HTTP log: `ip:port [date] fe be/srv Tq/Tw/Tc/Tr/Ta status ...`: the status, or NaN. */
function haproxyStatus(buf: Uint8Array, p: number, end: number): number {
  let q = p;
  while (q < end && buf[q] !== 32) q++; // client ip:port
  if (buf[q + 1] !== 91) return NaN;
  while (q < end && buf[q] !== 93) q++; // [accept date]
  q += 2;
  for (let field = 0; field < 2; field++) {
    while (q < end && buf[q] !== 32) q++; // frontend, backend/server
    q++;
  }
  let slashes = 0;
  while (q < end && buf[q] !== 32) if (buf[q++] === 47) slashes++;
  if (slashes !== 4) return NaN; // TCP logs have three timers and no status
  q++;
  if (buf[q] === 45 && buf[q + 1] === 49) return -1;
  const s = dig(buf, q) * 100 + dig(buf, q + 1) * 10 + dig(buf, q + 2);
  return s >= 100 && (q + 3 >= end || buf[q + 3] === 32) ? s : NaN;
}

function isHaproxy(buf: Uint8Array): boolean {
  return prog.end - prog.start === 7 && buf[prog.start] === 104 && buf[prog.start + 1] === 97 && buf[prog.start + 2] === 112 && buf[prog.start + 6] === 121;
}

function rfc3164Line(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const p = readPri(buf, start, end);
  if (p < 0) return CONTINUATION;
  let after = bsdTimestamp(buf, p, end, out, ctx);
  let structured = true;
  if (after === 0) {
    const c = buf[p];
    if (c === undefined || c < 48 || c > 57) {
      if (pri.severity >= 0 || monthAt(buf, p) !== 0) {
        out.reason = 'invalid syslog timestamp';
        return MALFORMED;
      }
      return CONTINUATION;
    }
    const n = parseIsoBytes(buf, p, end, ts);
    if (n === 0) return CONTINUATION;
    out.us = ts.hasZone ? ts.us : ctx.local(ts.us);
    out.precision = ts.precision;
    after = p + n;
    structured = false;
  }
  if (after < end && buf[after] !== 32) return CONTINUATION;
  const bodyStart = after < end ? after + 1 : end;
  const hasProgram = findMessage(buf, bodyStart, end);
  // With an ISO timestamp, `host program:` is what tells syslog from other ISO-prefixed lines.
  if (!structured && !hasProgram) return CONTINUATION;
  let tag = pri.severity >= 0 ? syslogSeverityLevel(pri.severity) : TAG_NONE;
  if (tag === TAG_NONE && hasProgram) {
    if (isHaproxy(buf)) {
      const status = haproxyStatus(buf, prog.message, end);
      if (status === status) tag = httpStatusLevel(status);
    }
    if (tag === TAG_NONE) tag = sniffLevel(buf, prog.message, end);
  }
  out.tag = tag;
  out.bodyStart = bodyStart;
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

function rfc5424Line(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  let p = readPri(buf, start, end);
  if (p < 0) return CONTINUATION;
  // VERSION: 1..999, then a space.
  if (!isDigitByte(buf[p])) return CONTINUATION;
  while (p < end && isDigitByte(buf[p]) && p - start < 8) p++;
  if (buf[p] !== 32) return CONTINUATION;
  p++;
  if (buf[p] === 45) {
    out.reason = 'RFC 5424 line without a timestamp (NILVALUE)';
    return MALFORMED;
  }
  const n = parseIsoBytes(buf, p, end, ts);
  if (n === 0 || (p + n < end && buf[p + n] !== 32)) {
    if (pri.severity >= 0) {
      out.reason = 'invalid RFC 5424 timestamp';
      return MALFORMED;
    }
    return CONTINUATION;
  }
  out.us = ts.hasZone ? ts.us : ctx.local(ts.us);
  out.precision = ts.precision;
  const bodyStart = Math.min(end, p + n + 1);
  let tag = pri.severity >= 0 ? syslogSeverityLevel(pri.severity) : TAG_NONE;
  if (tag === TAG_NONE) {
    // HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
    let q = bodyStart;
    for (let field = 0; field < 4 && q < end; field++) {
      while (q < end && buf[q] !== 32) q++;
      q++;
    }
    if (buf[q] === 45) q++;
    else {
      while (q < end && buf[q] === 91) {
        q++;
        while (q < end && buf[q] !== 93) q += buf[q] === 92 ? 2 : 1;
        q++;
      }
    }
    if (buf[q] === 32) q++;
    if (buf[q] === 0xef && buf[q + 1] === 0xbb && buf[q + 2] === 0xbf) q += 3; // BOM
    tag = sniffLevel(buf, Math.min(q, end), end);
  }
  out.tag = tag;
  out.bodyStart = bodyStart;
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

export const syslogFormat: LineFormat = {
  name: 'syslog',
  description: 'syslog RFC 3164 files (rsyslog, syslog-ng; BSD or RFC 3339 timestamp), haproxy lines included',
  example: 'Jan 15 10:30:45 web-1 sshd[4242]: error: kex_exchange_identification: connection closed',
  levelRule: "PRI severity when present (0-2 FATAL, 3 ERROR, 4 WARN, 5-6 INFO, 7 DEBUG); haproxy: HTTP status; else the message's own leading level word; none: NONE",
  decideBytes: 64,
  parseLine: rfc3164Line,
};

export const syslog5424Format: LineFormat = {
  name: 'syslog-5424',
  description: 'syslog RFC 5424 (<PRI>1 timestamp host app procid msgid [sd] msg)',
  example: '<11>1 2024-01-15T10:30:45.123Z web-1 api 4242 - - request failed: connection timeout',
  levelRule: "PRI severity (0-2 FATAL, 3 ERROR, 4 WARN, 5-6 INFO, 7 DEBUG); without PRI the message's own leading level word",
  decideBytes: 64,
  parseLine: rfc5424Line,
};
