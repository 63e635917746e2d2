/**
 * Container runtime wrappers around an application's own lines.
 *
 * Kubernetes CRI (containerd, CRI-O): `<RFC3339Nano> <stdout|stderr> <P|F> <message>`. A `P`
 * (partial) record is joined with the records after it up to the `F` that ends the line
 * (the runtime splits lines over 16 KiB). The body runs from the first record's message to
 * the end of the last one, so for a joined line it holds the later records' prefixes too;
 * with the default 2 KiB body cap a reader sees only the first record's text anyway.
 *
 * Docker json-file: `{"log":"<message>\n","stream":"stdout","time":"<RFC3339Nano>"}`. The body
 * is the `log` value as stored (JSON-escaped, the trailing `\n` left out); a record whose
 * value does not end in `\n` is a fragment (Docker splits lines over 16 KiB) and is joined
 * with the next record, as for CRI.
 *
 * In both, a message that continues the application's previous line (a stack trace line:
 * indented, `Caused by:`, `Traceback (`, `goroutine N [`) joins the entry above instead of
 * making an entry of its own, and the level is the message's own (level-sniff.ts): stream
 * stderr is not a level.
 */
import type { ParseContext } from '../context.js';
import { CONTINUATION, ENTRY, KNOWN_CONTINUATION, type LineFormat, type LineKind, type LineOut, MALFORMED } from '../format.js';
import { JSON_STRING, ascii, bytesEqual, member, objectEnd, objectStart, readMember, readMemberBack } from '../json-scan.js';
import { newTail, recordTail, tailMatch } from './json-layout.js';
import { sniffLevel } from '../level-sniff.js';
import { type IsoParse, parseIsoBytes } from '../timestamp.js';
import { parseIsoValue } from './time-value.js';

const ts: IsoParse = { us: 0, precision: 0, hasZone: false };
const CAUSED_BY = ascii('Caused by:');
const TRACEBACK = ascii('Traceback (');
const GOROUTINE = ascii('goroutine ');

function startsWith(buf: Uint8Array, p: number, end: number, prefix: Uint8Array): boolean {
  return end - p >= prefix.length && bytesEqual(buf, p, p + prefix.length, prefix);
}

/** Whether a message continues the application's previous line (see the header). */
export function continuesTrace(buf: Uint8Array, p: number, end: number): boolean {
  if (p >= end) return false;
  const c = buf[p]!;
  if (c === 32 || c === 9) return true;
  if (c === 92 && buf[p + 1] === 116) return true; // an escaped tab in JSON: \t
  return startsWith(buf, p, end, CAUSED_BY) || startsWith(buf, p, end, TRACEBACK) || startsWith(buf, p, end, GOROUTINE);
}

function criLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const c = buf[start]!;
  if (c < 48 || c > 57) return CONTINUATION;
  const n = parseIsoBytes(buf, start, end, ts);
  if (n === 0 || buf[start + n] !== 32) return CONTINUATION;
  let p = start + n + 1;
  // stdout | stderr
  if (!(end - p >= 7 && buf[p] === 115 && buf[p + 1] === 116 && buf[p + 2] === 100 && buf[p + 6] === 32)) return CONTINUATION;
  p += 7;
  // Tags: P or F, possibly more joined with ':'.
  const tagStart = p;
  while (p < end && buf[p] !== 32) p++;
  if (p === tagStart || p - tagStart > 16) {
    out.reason = 'CRI record without a P/F tag';
    return MALFORMED;
  }
  const partial = buf[tagStart] === 80;
  const body = p < end ? p + 1 : end;
  out.bodyEnd = end;
  if (continuesTrace(buf, body, end)) return KNOWN_CONTINUATION;
  out.us = ts.hasZone ? ts.us : ctx.local(ts.us);
  out.precision = ts.precision;
  out.tag = sniffLevel(buf, body, end);
  out.bodyStart = body;
  out.joinNext = partial;
  return ENTRY;
}

const LOG = ascii('log');
const TIME = ascii('time');

const LOG_OPEN = ascii('{"log":"');
const STREAM = ascii('stream');

/**
 * Docker writes its fields in one order (log, stream, time, then optional attrs): read time and
 * stream from the end and the log value is what lies between, unwalked. Fills logRange; false
 * when the record is laid out otherwise (the general walk then reads it).
 */
const logRange = { start: 0, end: 0 };
/** Docker's time and stream members as last read (see dockerTail). */
const dockerLayout = newTail();

/** Forgets them, so the next record is read the ordinary way (tests compare the two). */
export function forgetDockerLayout(): void {
  dockerLayout.n = 0;
}
function dockerTail(buf: Uint8Array, start: number, end: number): boolean {
  if (!startsWith(buf, start, end, LOG_OPEN)) return false;
  let q = objectEnd(buf, start, end);
  if (q < 0) return false;
  // The time and stream members as the line before had them (json-layout's tail replay: the same
  // bytes around a time of the same length), else read and checked (docker-json 0.32-0.36x of the
  // original format's speed without it, three runs, load ~10, 2026-12-02).
  let r = dockerLayout.n >= 1 ? tailMatch(dockerLayout, buf, start, q, 0) : -1;
  if (r < 0) {
    r = readMemberBack(buf, start, q);
    if (r < 0 || member.kind !== JSON_STRING || !bytesEqual(buf, member.keyStart, member.keyEnd, TIME)) return false;
    recordTail(dockerLayout, buf, 0, r, q, 1);
  }
  q = r;
  // The time's second is cached (time-value.ts): parseIsoBytes was 13 % of docker-json's profile.
  if (parseIsoValue(buf, member.valStart, member.valEnd, ts) === 0) return false;
  r = dockerLayout.n >= 2 ? tailMatch(dockerLayout, buf, start, q, 1) : -1;
  if (r < 0) {
    r = readMemberBack(buf, start, q);
    if (r < 0 || member.kind !== JSON_STRING || !bytesEqual(buf, member.keyStart, member.keyEnd, STREAM)) return false;
    recordTail(dockerLayout, buf, 1, r, q, 2);
  }
  q = r;
  // q is the comma after the log value's closing quote.
  if (buf[q - 1] !== 34 || q - 1 < start + LOG_OPEN.length) return false;
  logRange.start = start + LOG_OPEN.length;
  logRange.end = q - 1;
  return true;
}

function dockerLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  if (dockerTail(buf, start, end)) return dockerEntry(buf, logRange.start, logRange.end, out, ctx);
  let p = objectStart(buf, start, end);
  if (p < 0) return CONTINUATION;
  let logStart = -1;
  let logEnd = -1;
  let haveTime = false;
  while ((logStart < 0 || !haveTime) && (p = readMember(buf, p, end)) >= 0) {
    if (member.kind !== JSON_STRING) continue;
    if (bytesEqual(buf, member.keyStart, member.keyEnd, LOG)) {
      logStart = member.valStart;
      logEnd = member.valEnd;
    } else if (bytesEqual(buf, member.keyStart, member.keyEnd, TIME)) {
      const n = parseIsoValue(buf, member.valStart, member.valEnd, ts);
      haveTime = n > 0;
    }
  }
  if (logStart < 0 || !haveTime) {
    out.reason = 'JSON line without the log and time fields of Docker json-file';
    return MALFORMED;
  }
  return dockerEntry(buf, logStart, logEnd, out, ctx);
}

/** The entry of a Docker record whose time is in `ts` and log value at [logStart, logEnd). */
function dockerEntry(buf: Uint8Array, logStart: number, logEnd: number, out: LineOut, ctx: ParseContext): LineKind {
  // The trailing newline, escaped: \n (or \r\n).
  let e = logEnd;
  const whole = e - logStart >= 2 && buf[e - 2] === 92 && buf[e - 1] === 110;
  if (whole) {
    e -= 2;
    if (e - logStart >= 2 && buf[e - 2] === 92 && buf[e - 1] === 114) e -= 2;
  }
  out.bodyEnd = e;
  if (continuesTrace(buf, logStart, e)) return KNOWN_CONTINUATION;
  out.us = ts.hasZone ? ts.us : ctx.local(ts.us);
  out.precision = ts.precision;
  out.tag = sniffLevel(buf, logStart, e);
  out.bodyStart = logStart;
  out.joinNext = !whole;
  return ENTRY;
}

const WRAPPED_LEVEL = "the message's own: a leading [LEVEL], LEVEL or level:, a klog letter, level= or a JSON level field, also after a leading timestamp; none: NONE";

export const criFormat: LineFormat = {
  name: 'cri',
  description: 'Kubernetes container log (CRI: containerd, CRI-O), P partial records joined',
  example: '2024-01-15T10:30:45.123456789Z stderr F 2024-01-15 10:30:45,123 ERROR [db] query failed',
  levelRule: WRAPPED_LEVEL,
  joins: true,
  decideBytes: 48,
  parseLine: criLine,
};

export const dockerFormat: LineFormat = {
  name: 'docker-json',
  description: "Docker's json-file log driver, fragments joined",
  example: '{"log":"[ERROR] request failed: connection timeout\\n","stream":"stderr","time":"2024-01-15T10:30:45.123456789Z"}',
  levelRule: WRAPPED_LEVEL,
  joins: true,
  decideBytes: Infinity,
  parseLine: dockerLine,
};
