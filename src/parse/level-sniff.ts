/**
 * The level of a message some wrapper carries (a CRI or Docker record, a syslog message, a Go
 * `log` line): the message's own level where it states one up front. Looked for, in order:
 *   - a bracketed level word, any case: `[ERROR] ...`, `[warn] ...`
 *   - an upper-case level word: `ERROR ...`, `WARN: ...`
 *   - a lower-case level word with a colon: `error: ...`, `warning: ...`
 *   - a klog header: `E0115 10:30:45.123456 ...`
 *   - a structured message: `level=` / `lvl=` (logfmt) or a JSON `level`-like field
 *   - an ISO timestamp first (a whole log line inside the wrapper): the rules above after it.
 * Nothing else: a level word in the middle of a sentence is not the line's level.
 */
import { JSON_NUMBER, JSON_OBJECT, JSON_STRING, member, objectStart, readMember } from './json-scan.js';
import { TAG_NONE, letterLevel, levelFromBytes, pinoLevel } from './levels.js';

/** Index after the level token found by the last sniffLevel (its body may start there). */
export const sniffed = { after: 0 };

function isWordByte(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Level of the message at buf[start, end) per the rules above, or TAG_NONE. */
export function sniffLevel(buf: Uint8Array, start: number, end: number): number {
  return sniffAt(buf, start, end, true);
}

function sniffAt(buf: Uint8Array, start: number, end: number, deep: boolean): number {
  sniffed.after = start;
  if (start >= end) return TAG_NONE;
  const c = buf[start]!;
  if (c === 91) {
    // [LEVEL]
    let close = start + 1;
    const limit = Math.min(end, start + 14);
    while (close < limit && buf[close] !== 93) close++;
    if (close < limit) {
      const level = levelFromBytes(buf, start + 1, close);
      if (level >= 0) {
        sniffed.after = close + 1 < end && buf[close + 1] === 32 ? close + 2 : close + 1;
        return level;
      }
    }
    return TAG_NONE;
  }
  if (isWordByte(c)) {
    let w = start;
    let upper = true;
    while (w < end && w - start <= 11 && isWordByte(buf[w]!)) {
      if (buf[w]! >= 97) upper = false;
      w++;
    }
    const len = w - start;
    const next = w < end ? buf[w]! : 32;
    if (len === 1 && (c === 73 || c === 87 || c === 69 || c === 70) && deep) {
      // klog: Lmmdd hh:mm:ss
      if (end - start >= 14 && isDigit(buf[start + 1]) && isDigit(buf[start + 4]) && buf[start + 5] === 32 && buf[start + 8] === 58) return letterLevel(c);
      return TAG_NONE;
    }
    if (len >= 3 && (next === 32 || next === 58 || next === 9) && (upper || next === 58)) {
      const level = levelFromBytes(buf, start, w);
      if (level >= 0) {
        let a = w;
        if (a < end && buf[a] === 58) a++;
        if (a < end && buf[a] === 32) a++;
        sniffed.after = a;
        return level;
      }
    }
    if (deep && next === 61) return logfmtLevel(buf, start, Math.min(end, start + 256));
    return TAG_NONE;
  }
  if (c === 123 && deep) {
    // JSON escaped inside JSON (a Docker record's log value): {\"level\":\"error\"...
    if (buf[start + 1] === 92) return escapedJsonLevel(buf, start, Math.min(end, start + 512));
    return jsonLevel(buf, start, Math.min(end, start + 1024));
  }
  if (deep && c >= 48 && c <= 57 && end - start >= 19 && buf[start + 4] === 45 && buf[start + 7] === 45) {
    // A leading date and time (`2024-01-15T10:30:45.123Z`, `2024-01-15 10:30:45,123`): skipped
    // by shape, not parsed: only what follows matters here.
    let p = start + 10;
    if (buf[p] === 32) p++;
    while (p < end && buf[p] !== 32 && buf[p] !== 9) p++;
    while (p < end && (buf[p] === 32 || buf[p] === 9)) p++;
    return sniffAt(buf, p, end, false);
  }
  return TAG_NONE;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

/** `level=error` / `lvl=warn` within the first bytes of a logfmt message. */
function logfmtLevel(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i + 4 < end; i++) {
    if (buf[i] !== 108 || (i > start && buf[i - 1] !== 32)) continue; // 'l' at a word start
    let v = -1;
    if (buf[i + 1] === 101 && buf[i + 2] === 118 && buf[i + 3] === 101 && buf[i + 4] === 108 && buf[i + 5] === 61) v = i + 6; // level=
    else if (buf[i + 1] === 118 && buf[i + 2] === 108 && buf[i + 3] === 61) v = i + 4; // lvl=
    if (v < 0) continue;
    if (buf[v] === 34) v++;
    let w = v;
    while (w < end && isWordByte(buf[w]!)) w++;
    const level = levelFromBytes(buf, v, w);
    return level >= 0 ? level : TAG_NONE;
  }
  return TAG_NONE;
}

/** A `level` / `severity` / `lvl` field of a JSON message (string or pino number). */
function jsonLevel(buf: Uint8Array, start: number, end: number): number {
  let p = objectStart(buf, start, end);
  while (p >= 0 && (p = readMember(buf, p, end)) >= 0) {
    const k0 = member.keyStart;
    const len = member.keyEnd - k0;
    const isLevelKey =
      (len === 5 && buf[k0] === 108 && buf[k0 + 1] === 101 && buf[k0 + 4] === 108) || // level
      (len === 3 && buf[k0] === 108 && buf[k0 + 1] === 118) || // lvl
      (len === 8 && buf[k0] === 115 && buf[k0 + 1] === 101 && buf[k0 + 7] === 121); // severity
    if (!isLevelKey) continue;
    if (member.kind === JSON_STRING) {
      const level = levelFromBytes(buf, member.valStart, member.valEnd);
      return level >= 0 ? level : TAG_NONE;
    }
    if (member.kind === JSON_NUMBER) return pinoLevel(smallInt(buf, member.valStart, member.valEnd));
    if (member.kind === JSON_OBJECT) return TAG_NONE;
  }
  return TAG_NONE;
}

const ESCAPED_LEVEL = [92, 34, 108, 101, 118, 101, 108, 92, 34, 58]; // \"level\":

/** `\"level\":\"error\"` or `\"level\":50` in an escaped JSON message. */
function escapedJsonLevel(buf: Uint8Array, start: number, end: number): number {
  outer: for (let i = start; i + ESCAPED_LEVEL.length < end; i++) {
    for (let k = 0; k < ESCAPED_LEVEL.length; k++) if (buf[i + k] !== ESCAPED_LEVEL[k]) continue outer;
    let v = i + ESCAPED_LEVEL.length;
    if (buf[v] === 92 && buf[v + 1] === 34) {
      v += 2;
      let w = v;
      while (w < end && isWordByte(buf[w]!)) w++;
      const level = levelFromBytes(buf, v, w);
      return level >= 0 ? level : TAG_NONE;
    }
    let w = v;
    while (w < end && isDigit(buf[w])) w++;
    return pinoLevel(smallInt(buf, v, w));
  }
  return TAG_NONE;
}

/** A non-negative integer of up to 6 digits, or -1. */
export function smallInt(buf: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 6) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
