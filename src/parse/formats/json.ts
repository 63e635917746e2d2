/**
 * JSON lines: one object per line, its time and level found by scanning the bytes (json-scan)
 * for the field names loggers use, with no JSON.parse. The body is the whole object, verbatim:
 * the message and every other field (err.stack, request_id, trace_id) stay together, escaped
 * as the logger wrote them, so a reader (or a later `fields` search, through json-scan) finds
 * them in the stored bytes.
 *
 * Time fields: time, ts, timestamp, @timestamp, @t, date, datetime, timeUnixNano,
 * __REALTIME_TIMESTAMP (observedTimeUnixNano when no other): ISO 8601 strings, or epoch
 * numbers / digit strings in s, ms, us or ns (by digit count).
 * Level fields: level, lvl, severity, levelname, loglevel, log.level, @l, severityText (words),
 * severityNumber (OpenTelemetry scale), PRIORITY (syslog scale), a numeric level (pino/bunyan
 * scale from 10, syslog severity below 8), and ECS's nested `"log":{"level":...}`.
 *
 * The named variants (pino, bunyan, zap, ecs, otel, journald) parse the same way; each one's
 * `signature` lets detection name the logger that wrote the file.
 */
import type { ParseContext } from '../context.js';
import { CONTINUATION, ENTRY, type LineFormat, type LineKind, type LineOut, MALFORMED } from '../format.js';
import {
  JSON_NUMBER, JSON_OBJECT, JSON_STRING, ascii, findMember, member, objectEnd, objectStart, readMember, readMemberBack, readValue, stringEnd,
} from '../json-scan.js';
import { smallInt } from '../level-sniff.js';
import { TAG_NONE, levelFromBytes, otelSeverityLevel, pinoLevel, syslogSeverityLevel } from '../levels.js';
import { layout, matching, record, recordKey, recordTail, tail, tailMatch } from './json-layout.js';
import { timeValue } from './time-value.js';

const MESSAGE = 7;
const TIME = 1;
const TIME_FALLBACK = 2;
const LEVEL = 3;
const LEVEL_OTEL = 4;
const LEVEL_SYSLOG = 5;
const LEVEL_NESTED = 6;

const KEYS: [string, number][] = [
  ['time', TIME], ['ts', TIME], ['timestamp', TIME], ['@timestamp', TIME], ['@t', TIME], ['date', TIME], ['datetime', TIME],
  ['timeUnixNano', TIME], ['__REALTIME_TIMESTAMP', TIME], ['observedTimeUnixNano', TIME_FALLBACK],
  ['level', LEVEL], ['lvl', LEVEL], ['severity', LEVEL], ['levelname', LEVEL], ['loglevel', LEVEL], ['log.level', LEVEL],
  ['@l', LEVEL], ['severityText', LEVEL], ['severity_text', LEVEL], ['severityNumber', LEVEL_OTEL], ['PRIORITY', LEVEL_SYSLOG],
  ['log', LEVEL_NESTED],
  ['msg', MESSAGE], ['message', MESSAGE], ['MESSAGE', MESSAGE], ['@mt', MESSAGE], ['@m', MESSAGE],
];

/**
 * Candidate keys by length and first byte: most members (name, hostname, pid, v...) are turned
 * away by one table read, where a list by length alone compared bytes with every key of that
 * length (roleOf was ~40 % of bunyan's parse time in a profile, 2026-12-02).
 */
const CANDIDATE_LISTS: { key: Uint8Array; role: number }[][] = [[]];
/** Index in CANDIDATE_LISTS by (length << 8 | first byte); 0: no key. 8 KiB, stays in L1. */
const CANDIDATES = new Uint8Array(32 * 256);
for (const [name, role] of KEYS) {
  const key = ascii(name);
  const slot = (key.length << 8) | key[0]!;
  if (CANDIDATES[slot] === 0) CANDIDATES[slot] = CANDIDATE_LISTS.push([]) - 1;
  CANDIDATE_LISTS[CANDIDATES[slot]!]!.push({ key, role });
}

function roleOf(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len >= 32 || len <= 0) return 0;
  const at = CANDIDATES[(len << 8) | buf[start]!]!;
  if (at === 0) return 0;
  const list = CANDIDATE_LISTS[at]!;
  outer: for (let k = 0; k < list.length; k++) {
    const key = list[k]!.key;
    for (let i = 1; i < len; i++) if (buf[start + i] !== key[i]) continue outer;
    return list[k]!.role;
  }
  return 0;
}

const LEVEL_KEY = ascii('level');

function stringLevel(buf: Uint8Array, start: number, end: number): number {
  const level = levelFromBytes(buf, start, end);
  return level >= 0 ? level : TAG_NONE;
}

function numericLevel(n: number): number {
  if (n >= 10) return pinoLevel(n);
  return n >= 0 && n <= 7 ? syslogSeverityLevel(n) : TAG_NONE;
}

/** State of one jsonTimeAndLevel call (module level: no closure per line). */
const st = { haveTime: false, haveLevel: false, tag: TAG_NONE, fallbackStart: -1, fallbackEnd: -1 };

/** Applies the member just read (json-scan's `member`) to the state. */
function take(buf: Uint8Array, role: number, out: LineOut, ctx: ParseContext): void {
  const kind = member.kind;
  if (role === TIME) {
    if (!st.haveTime && (kind === JSON_STRING || kind === JSON_NUMBER)) st.haveTime = timeValue(buf, member.valStart, member.valEnd, out, ctx);
    return;
  }
  if (role === TIME_FALLBACK) {
    if (kind === JSON_STRING || kind === JSON_NUMBER) {
      st.fallbackStart = member.valStart;
      st.fallbackEnd = member.valEnd;
    }
    return;
  }
  if (st.haveLevel || role === MESSAGE) return;
  let tag = TAG_NONE;
  if (role === LEVEL_NESTED) {
    if (kind === JSON_OBJECT && findMember(buf, member.valStart, member.valEnd, LEVEL_KEY) && member.kind === JSON_STRING) {
      tag = stringLevel(buf, member.valStart, member.valEnd);
    }
  } else if (kind === JSON_STRING) {
    const n = role === LEVEL_SYSLOG ? smallInt(buf, member.valStart, member.valEnd) : -1;
    tag = role === LEVEL_SYSLOG ? (n >= 0 ? syslogSeverityLevel(n) : TAG_NONE) : stringLevel(buf, member.valStart, member.valEnd);
  } else if (kind === JSON_NUMBER) {
    const n = smallInt(buf, member.valStart, member.valEnd);
    tag = role === LEVEL_OTEL ? otelSeverityLevel(n) : role === LEVEL_SYSLOG ? syslogSeverityLevel(n) : numericLevel(n);
  }
  if (tag !== TAG_NONE) {
    st.tag = tag;
    st.haveLevel = true;
  }
}

/** Whether the key at p starts like a message key (m, M or @), looking at two bytes. */
function mayBeMessageKey(buf: Uint8Array, p: number, end: number): boolean {
  let c = buf[p];
  if (c === 44) c = buf[++p];
  if (c !== 34 || p + 1 >= end) return c === 32 || c === 9;
  const k = buf[p + 1];
  return k === 109 || k === 77 || k === 64;
}

/** The key of the member at p (after a `,` or `{`), in peek; false when there is none. */
const peek = { start: 0, end: 0 };
function peekKey(buf: Uint8Array, p: number, end: number): boolean {
  while (p < end && (buf[p] === 44 || buf[p] === 32 || buf[p] === 9)) p++;
  if (buf[p] !== 34) return false;
  const q = stringEnd(buf, p + 1, end);
  if (q < 0) return false;
  peek.start = p + 1;
  peek.end = q;
  return true;
}

/** Whether the slow walk would read the record backwards before the member at p (see below). */
function messageNext(buf: Uint8Array, p: number, end: number): boolean {
  return mayBeMessageKey(buf, p, end) && peekKey(buf, p, end) && roleOf(buf, peek.start, peek.end) === MESSAGE;
}

/** Reads the record from its end back towards p, taking fields, until both are found. */
function takeBackwards(buf: Uint8Array, p: number, end: number, out: LineOut, ctx: ParseContext): void {
  let q = objectEnd(buf, p, end);
  let j = 0;
  let replay = true;
  while (q > p && !(st.haveTime && st.haveLevel)) {
    if (replay && j < tail.n) {
      const r = tailMatch(tail, buf, p, q, j);
      if (r >= 0) {
        q = r;
        const role = tail.role[j]!;
        j++;
        if (role !== 0) take(buf, role, out, ctx);
        continue;
      }
      replay = false;
    }
    const r = readMemberBack(buf, p, q);
    if (r < 0) break;
    const role = roleOf(buf, member.keyStart, member.keyEnd);
    recordTail(tail, buf, j, r, q, role);
    j++;
    q = r;
    // Only the fields named in KEYS count, as forwards: a trailing `"pid":3` is not a level.
    if (role !== 0) take(buf, role, out, ctx);
  }
}

/**
 * Time and level of the object whose members start at `first`, into out; false when it has
 * no time field. Walks members forward; on reaching the message (msg, message...) with a field
 * still missing it reads the record from its end backwards first, so a long message is not
 * walked when the time comes after it (bunyan, Serilog) - 1.9M -> see the bench for bunyan.
 * Members laid out as on the line before are replayed from `layout`, the tail from `tail`
 * (bunyan 3.0M -> 3.6M -> 3.95M, ecs 3.9M -> 5.7M lines per CPU-second, best of 8 passes over
 * 200k bench lines, load ~10, 2026-12-02). Whole members sharing a slot with the member after
 * them, and the message key recorded: bunyan 3.1M -> 4.3M (median of 12 passes over the
 * bench's 400k lines, old and new code side by side in one process, load 6-7, 2026-12-02).
 */
export function jsonTimeAndLevel(buf: Uint8Array, first: number, end: number, out: LineOut, ctx: ParseContext): boolean {
  st.haveTime = false;
  st.haveLevel = false;
  st.tag = TAG_NONE;
  st.fallbackStart = -1;
  let triedBack = false;
  let p = first;
  let i = 0;
  let replay = true;
  layout.run = -1;
  while (!(st.haveTime && st.haveLevel)) {
    let next: number;
    let role: number;
    if (replay && i < layout.n && p + layout.gap[i]! < end) {
      const whole = layout.whole[i]!;
      const m = matching(buf, p, i, whole !== 0 && p + whole <= end ? whole : layout.gap[i]!);
      if (m < layout.gap[i]!) {
        replay = false;
        continue;
      }
      role = layout.role[i]!;
      if (layout.back[i] === 1 && !triedBack) {
        triedBack = true;
        takeBackwards(buf, p, end, out, ctx);
        if (st.haveTime && st.haveLevel) break;
      }
      if (m === whole) {
        next = p + layout.size[i]!;
        layout.run = p;
      } else {
        layout.run = -1;
        // Blanks after the colon are skipped as readMember skips them (`"a": 1` after `"a":1`).
        let v = p + layout.gap[i]!;
        while (buf[v] === 32 || buf[v] === 9) v++;
        next = readValue(buf, v, end);
        if (next < 0) break;
      }
      i++;
    } else {
      // Only keys that may be a message are peeked at (msg, message, MESSAGE, @mt, @m): the
      // others are read once.
      if (!triedBack && messageNext(buf, p, end)) {
        triedBack = true;
        takeBackwards(buf, p, end, out, ctx);
        if (st.haveTime && st.haveLevel) {
          // The message's key is recorded all the same, so the next line replays the read
          // backwards from here instead of peeking at the key again (bunyan: a peek a line).
          recordKey(buf, i, p, peek.end, MESSAGE, end);
          break;
        }
      }
      next = readMember(buf, p, end);
      if (next < 0) break;
      role = roleOf(buf, member.keyStart, member.keyEnd);
      // Whether the walk reads backwards here is a function of the gap's bytes alone (the key
      // and what is before it), so it holds on replay.
      i = record(buf, i, p, next, role, role === MESSAGE && messageNext(buf, p, end), end);
    }
    p = next;
    if (role !== 0) take(buf, role, out, ctx);
  }
  if (!st.haveTime && st.fallbackStart >= 0) st.haveTime = timeValue(buf, st.fallbackStart, st.fallbackEnd, out, ctx);
  out.tag = st.tag;
  return st.haveTime;
}

function parseLine(buf: Uint8Array, start: number, end: number, out: LineOut, ctx: ParseContext): LineKind {
  const first = objectStart(buf, start, end);
  // Not an object: text a runtime printed between the JSON lines (a crash trace).
  if (first < 0) return CONTINUATION;
  if (!jsonTimeAndLevel(buf, first, end, out, ctx)) {
    out.reason = 'JSON line without a time field this format reads';
    return MALFORMED;
  }
  let e = end;
  while (e > start && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
  out.bodyStart = start;
  out.bodyEnd = e;
  out.joinNext = false;
  return ENTRY;
}

/** Whether the object has a member `key` whose value is of `kind` (0: any). */
function has(buf: Uint8Array, start: number, end: number, key: Uint8Array, kind = 0): boolean {
  return findMember(buf, start, end, key) && (kind === 0 || member.kind === kind);
}

const K = {
  level: ascii('level'), time: ascii('time'), v: ascii('v'), ts: ascii('ts'), atTimestamp: ascii('@timestamp'),
  logLevel: ascii('log.level'), ecsVersion: ascii('ecs.version'), log: ascii('log'), timeUnixNano: ascii('timeUnixNano'),
  observed: ascii('observedTimeUnixNano'), severityNumber: ascii('severityNumber'), realtime: ascii('__REALTIME_TIMESTAMP'),
};

const jsonBase = { decideBytes: Infinity, parseLine } as const;
const NUMERIC = 'numbers: pino/bunyan 10 TRACE, 20 DEBUG, 30 INFO, 40 WARN, 50 ERROR, 60 FATAL';

export const jsonFormats: LineFormat[] = [
  {
    ...jsonBase,
    name: 'journald',
    description: 'journalctl -o json export (__REALTIME_TIMESTAMP in microseconds, PRIORITY 0..7)',
    example: '{"__REALTIME_TIMESTAMP":"1705314645123456","PRIORITY":"3","_HOSTNAME":"web-1","SYSLOG_IDENTIFIER":"api","MESSAGE":"request failed"}',
    levelRule: 'PRIORITY, the syslog scale: 0-2 FATAL, 3 ERROR, 4 WARN, 5-6 INFO, 7 DEBUG',
    signature: (b, s, e) => has(b, s, e, K.realtime),
  },
  {
    ...jsonBase,
    name: 'otel',
    description: 'OpenTelemetry log records as JSON (timeUnixNano / observedTimeUnixNano, severityText / severityNumber)',
    example: '{"timeUnixNano":"1705314645123456789","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"request failed"}}',
    levelRule: 'severityText, else severityNumber: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL',
    signature: (b, s, e) => has(b, s, e, K.timeUnixNano) || has(b, s, e, K.observed) || has(b, s, e, K.severityNumber),
  },
  {
    ...jsonBase,
    name: 'ecs',
    description: 'Elastic Common Schema JSON (@timestamp, log.level)',
    example: '{"@timestamp":"2024-01-15T10:30:45.123Z","log.level":"error","message":"request failed","ecs.version":"1.6.0"}',
    levelRule: 'log.level (or the nested log: {level}), a level word',
    signature: (b, s, e) => has(b, s, e, K.atTimestamp) && (has(b, s, e, K.logLevel) || has(b, s, e, K.ecsVersion) || has(b, s, e, K.log, JSON_OBJECT)),
  },
  {
    ...jsonBase,
    name: 'bunyan',
    description: 'bunyan JSON (numeric level, ISO time, "v":0)',
    example: '{"name":"api","hostname":"web-1","pid":4242,"level":50,"msg":"request failed","time":"2024-01-15T10:30:45.123Z","v":0}',
    levelRule: NUMERIC,
    signature: (b, s, e) => has(b, s, e, K.v, JSON_NUMBER) && has(b, s, e, K.level, JSON_NUMBER),
  },
  {
    ...jsonBase,
    name: 'pino',
    description: 'pino JSON (numeric level, time in epoch milliseconds)',
    example: '{"level":50,"time":1705314645123,"pid":4242,"hostname":"web-1","msg":"request failed"}',
    levelRule: NUMERIC,
    signature: (b, s, e) => has(b, s, e, K.level, JSON_NUMBER) && has(b, s, e, K.time, JSON_NUMBER),
  },
  {
    ...jsonBase,
    name: 'zap',
    description: 'zap production JSON (ts in epoch seconds as a float, or ISO)',
    example: '{"level":"error","ts":1705314645.123456,"caller":"orders/handler.go:42","msg":"request failed"}',
    levelRule: 'level word; dpanic ERROR, panic and fatal FATAL',
    signature: (b, s, e) => has(b, s, e, K.ts) && has(b, s, e, K.level, JSON_STRING),
  },
  {
    ...jsonBase,
    name: 'json',
    description: 'any JSON lines with a time and a level field (logrus, zerolog, slog, Serilog CLEF, GCP...)',
    example: '{"time":"2024-01-15T10:30:45.123Z","level":"error","msg":"request failed","request_id":"r-42"}',
    levelRule: 'the first level field: a word (any case), or a number (pino scale from 10, syslog severity below 8); none: NONE',
  },
];
