/**
 * Lines that start with a bare time and carry little else.
 *
 * Go's standard `log`: `2024/01/15 10:30:45[.123456] msg` (local time; no level of its own, so
 *   the message's leading level word if it has one, else NONE).
 * klog / glog (Kubernetes components): `E0115 10:30:45.123456    1234 file.go:12] msg`: the
 *   letter is the level, the year comes from the file's modification time, local time.
 * Epoch prefixes: `1705314645.123 msg`, `1705314645123 msg`, microseconds, nanoseconds (the unit
 *   from the digit count, see epochAt), optionally in brackets (dmesg-style).
 * TAI64N (daemontools multilog, s6, runit svlogd -tt): `@4000000065a5022d075bcd15 msg`.
 */
import type { ParseContext } from '../context.js';
import { CONTINUATION, ENTRY, type LineFormat, type LineKind, type LineOut, MALFORMED } from '../format.js';
import { sniffLevel, sniffed } from '../level-sniff.js';
import { TAG_NONE, letterLevel } from '../levels.js';
import { civilUs, epoch, epochAt, fractionAt, frac, isDigitByte, num2, num4, validDate, validTime } from '../time-parts.js';

/** The body after an optional leading level token (which then is not repeated in it). */
function levelAndBody(buf: Uint8Array, p: number, end: number, out: LineOut): void {
  while (p < end && (buf[p] === 32 || buf[p] === 9)) p++;
  const tag = sniffLevel(buf, p, end);
  out.tag = tag;
  out.bodyStart = tag === TAG_NONE ? p : sniffed.after;
  out.bodyEnd = end;
  out.joinNext = false;
}

function goLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const p = start;
  if (end - p < 19 || buf[p + 4] !== 47 || buf[p + 7] !== 47 || buf[p + 10] !== 32 || buf[p + 13] !== 58 || buf[p + 16] !== 58) return CONTINUATION;
  const year = num4(buf, p);
  if (year < 0) return CONTINUATION;
  const month = num2(buf, p + 5);
  const day = num2(buf, p + 8);
  const hour = num2(buf, p + 11);
  const minute = num2(buf, p + 14);
  const second = num2(buf, p + 17);
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) {
    out.reason = 'invalid timestamp';
    return MALFORMED;
  }
  const i = fractionAt(buf, p + 19, end);
  if (i < end && buf[i] !== 32) return CONTINUATION;
  out.us = ctx.local(civilUs(year, month, day, hour, minute, second, frac.micros));
  out.precision = frac.precision;
  levelAndBody(buf, i, end, out);
  return ENTRY;
}

function klogLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const p = start;
  const tag = letterLevel(buf[p]!);
  if (tag === TAG_NONE || end - p < 21 || buf[p + 5] !== 32 || buf[p + 8] !== 58 || buf[p + 11] !== 58 || buf[p + 14] !== 46) return CONTINUATION;
  const L = buf[p]!;
  if (L !== 73 && L !== 87 && L !== 69 && L !== 70) return CONTINUATION; // I W E F
  const month = num2(buf, p + 1);
  const day = num2(buf, p + 3);
  const hour = num2(buf, p + 6);
  const minute = num2(buf, p + 9);
  const second = num2(buf, p + 12);
  if (month < 0 || day < 0) return CONTINUATION;
  const year = month >= 1 && month <= 12 && day >= 1 && day <= 31 ? ctx.yearFor(month, day) : -1;
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) {
    out.reason = 'invalid klog timestamp';
    return MALFORMED;
  }
  const i = fractionAt(buf, p + 14, end);
  // threadid file:line]
  let q = i;
  while (q < end && buf[q] === 32) q++;
  const tid = q;
  while (q < end && isDigitByte(buf[q])) q++;
  if (q === tid || buf[q] !== 32) return CONTINUATION;
  while (q < end && q - tid < 300 && buf[q] !== 93) q++;
  if (buf[q] !== 93) return CONTINUATION;
  out.us = ctx.local(civilUs(year, month, day, hour, minute, second, frac.micros));
  out.precision = frac.precision;
  out.tag = tag;
  out.bodyStart = buf[q + 1] === 32 ? q + 2 : Math.min(end, q + 1);
  out.bodyEnd = end;
  out.joinNext = false;
  return ENTRY;
}

function epochLine(buf: Uint8Array, start: number, end: number, out: LineOut): LineKind {
  let p = start;
  const bracketed = buf[p] === 91;
  if (bracketed) {
    p++;
    while (p < end && buf[p] === 32) p++;
  }
  if (!isDigitByte(buf[p])) return CONTINUATION;
  const after = epochAt(buf, p, end);
  if (after < 0) return CONTINUATION;
  let q = after;
  if (bracketed) {
    if (buf[q] !== 93) return CONTINUATION;
    q++;
  }
  if (q < end && buf[q] !== 32 && buf[q] !== 9) return CONTINUATION;
  out.us = epoch.us;
  out.precision = epoch.precision;
  levelAndBody(buf, q, end, out);
  return ENTRY;
}

function hexValue(buf: Uint8Array, i: number, digits: number): number {
  let v = 0;
  for (let k = 0; k < digits; k++) {
    const c = buf[i + k]!;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function tai64nLine(buf: Uint8Array, start: number, end: number, out: LineOut): LineKind {
  const p = start;
  if (buf[p] !== 64 || end - p < 9 || hexValue(buf, p + 1, 8) < 0) return CONTINUATION;
  const high = hexValue(buf, p + 1, 8);
  const low = end - p >= 25 ? hexValue(buf, p + 9, 8) : -1;
  const nanos = end - p >= 25 ? hexValue(buf, p + 17, 8) : -1;
  if (low < 0 || nanos < 0 || (p + 25 < end && buf[p + 25] !== 32)) {
    out.reason = 'TAI64N label must be @ and 24 hex digits';
    return MALFORMED;
  }
  // Label = 2^62 + TAI seconds; multilog writes 2^62 + 10 + Unix time (libtai's TAI - UTC
  // of 10 s, leap seconds not counted), so Unix time = low word - 10 while the high word is 2^30.
  if (high !== 0x40000000 || nanos > 999_999_999) {
    out.reason = 'TAI64N label out of range';
    return MALFORMED;
  }
  out.us = (low - 10) * 1_000_000 + Math.floor(nanos / 1000);
  out.precision = 6;
  levelAndBody(buf, p + 25, end, out);
  return ENTRY;
}

const LEADING = "the message's own leading level word ([ERROR], ERROR, error:), if any; else NONE";

export const goLogFormat: LineFormat = {
  name: 'go-log',
  description: "Go's standard log package (2024/01/15 10:30:45[.123456] msg), local time",
  example: '2024/01/15 10:30:45.123456 http: TLS handshake error from 10.0.0.7:51234: EOF',
  levelRule: LEADING,
  decideBytes: 40,
  parseLine: goLine,
};

export const klogFormat: LineFormat = {
  name: 'klog',
  description: 'klog / glog (Kubernetes components): Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg',
  example: 'E0115 10:30:45.123456    4242 reflector.go:138] failed to list *v1.Pod: connection refused',
  levelRule: 'the leading letter: I INFO, W WARN, E ERROR, F FATAL',
  decideBytes: 48,
  parseLine: klogLine,
};

export const epochFormat: LineFormat = {
  name: 'epoch',
  description: 'an epoch timestamp first (seconds, ms, us or ns by digit count; fraction allowed)',
  example: '1705314645.123 ERROR request failed: connection timeout',
  levelRule: LEADING,
  decideBytes: 40,
  parseLine: (buf, start, end, out) => epochLine(buf, start, end, out),
};

export const tai64nFormat: LineFormat = {
  name: 'tai64n',
  description: 'TAI64N labels (daemontools multilog, s6-log, svlogd -tt)',
  example: '@4000000065a5095f075bcd15 ERROR request failed: connection timeout',
  levelRule: LEADING,
  decideBytes: 40,
  parseLine: (buf, start, end, out) => tai64nLine(buf, start, end, out),
};

