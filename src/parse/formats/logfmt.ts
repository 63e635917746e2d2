/**
 * logfmt: `time=2024-01-15T10:30:45.123Z level=error msg="request failed" duration=3ms`
 * (Go kit, logrus's text formatter without a TTY, Heroku, Grafana). Values are bare or
 * double-quoted with backslash escapes. The body is the whole line, so every field stays
 * readable and findable.
 */
import type { ParseContext } from '../context.js';
import { CONTINUATION, ENTRY, type LineFormat, type LineKind, type LineOut, MALFORMED } from '../format.js';
import { stringEnd } from '../json-scan.js';
import { TAG_NONE, levelFromBytes } from '../levels.js';
import { timeValue } from './time-value.js';

function isKeyByte(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45 || c === 64;
}

/** Role of the key buf[s, e): 1 time, 2 level, 0 other. */
function keyRole(buf: Uint8Array, s: number, e: number): number {
  const len = e - s;
  const c = buf[s]!;
  if (c === 116) {
    if (len === 4 && buf[s + 1] === 105 && buf[s + 2] === 109 && buf[s + 3] === 101) return 1; // time
    if (len === 2 && buf[s + 1] === 115) return 1; // ts
    if (len === 1) return 1; // t
    if (len === 9 && buf[s + 1] === 105 && buf[s + 5] === 115 && buf[s + 8] === 112) return 1; // timestamp
    return 0;
  }
  if (c === 108) {
    if (len === 5 && buf[s + 1] === 101 && buf[s + 2] === 118 && buf[s + 3] === 101 && buf[s + 4] === 108) return 2; // level
    if (len === 3 && buf[s + 1] === 118 && buf[s + 2] === 108) return 2; // lvl
    return 0;
  }
  if (c === 115 && len === 8 && buf[s + 1] === 101 && buf[s + 7] === 121) return 2; // severity
  if (c === 64 && len === 10 && buf[s + 1] === 116) return 1; // @timestamp
  return 0;
}

function parseLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  let p = start;
  if (!isKeyByte(buf[p]!)) return CONTINUATION;
  let haveTime = false;
  let tag = TAG_NONE;
  let pairs = 0;
  let haveLevel = false;
  while (p < end && !(haveTime && haveLevel)) {
    while (p < end && buf[p] === 32) p++;
    const keyStart = p;
    while (p < end && isKeyByte(buf[p]!)) p++;
    const keyEnd = p;
    if (keyEnd === keyStart || buf[p] !== 61) break;
    p++;
    let vs = p;
    let ve: number;
    if (buf[p] === 34) {
      const q = stringEnd(buf, p + 1, end);
      if (q < 0) break;
      vs = p + 1;
      ve = q;
      p = q + 1;
    } else {
      while (p < end && buf[p] !== 32) p++;
      ve = p;
    }
    pairs++;
    const role = keyRole(buf, keyStart, keyEnd);
    if (role === 1 && !haveTime) haveTime = timeValue(buf, vs, ve, out, ctx);
    else if (role === 2 && !haveLevel) {
      const level = levelFromBytes(buf, vs, ve);
      if (level >= 0) tag = level;
      haveLevel = true;
    }
  }
  if (!haveTime) {
    // key=value text without a time: a continuation unless it clearly meant to be a record.
    if (pairs >= 2) {
      out.reason = 'logfmt line without a time field (time=, ts=)';
      return MALFORMED;
    }
    return CONTINUATION;
  }
  let e = end;
  while (e > start && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
  out.tag = tag;
  out.bodyStart = start;
  out.bodyEnd = e;
  out.joinNext = false;
  return ENTRY;
}

export const logfmtFormat: LineFormat = {
  name: 'logfmt',
  description: 'logfmt key=value lines with time= (or ts=) and level=',
  example: 'time=2024-01-15T10:30:45.123Z level=error msg="request failed" request_id=r-42 duration=3ms',
  levelRule: 'level= (or lvl=, severity=), a level word; none: NONE',
  decideBytes: Infinity,
  parseLine,
};
