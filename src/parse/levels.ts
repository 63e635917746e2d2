/**
 * Tags and levels.
 *
 * Every entry carries one tag id in the low 5 bits of its meta byte (the high 3 bits hold the
 * timestamp precision, see meta.ts). Ids 0..5 are the normalized levels, 6 means the line had
 * no tag, 7..30 are custom tags interned per process (AUDIT, SQL, ...), 31 is the overflow
 * bucket once 24 custom tags exist (the tag text then stays in the body, nothing is lost).
 */

export const TAG_TRACE = 0;
export const TAG_DEBUG = 1;
export const TAG_INFO = 2;
export const TAG_WARN = 3;
export const TAG_ERROR = 4;
export const TAG_FATAL = 5;
export const TAG_NONE = 6;
export const FIRST_CUSTOM_TAG = 7;
export const TAG_OTHER = 31;
export const TAG_COUNT = 32;
/** Not stored: a format's "custom tag, name in the line" marker (see LineOut). */
export const TAG_CUSTOM = 254;

export const LEVEL_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

/** Spellings seen in the wild, upper-cased, mapped to the normalized level id. */
const LEVEL_ALIASES: Record<string, number> = {
  TRACE: TAG_TRACE, TRC: TAG_TRACE, VERBOSE: TAG_TRACE, FINEST: TAG_TRACE, FINER: TAG_TRACE,
  DEBUG: TAG_DEBUG, DBG: TAG_DEBUG, FINE: TAG_DEBUG,
  INFO: TAG_INFO, INF: TAG_INFO, INFORMATION: TAG_INFO, NOTICE: TAG_INFO,
  WARN: TAG_WARN, WARNING: TAG_WARN, WRN: TAG_WARN,
  ERROR: TAG_ERROR, ERR: TAG_ERROR, SEVERE: TAG_ERROR, EROR: TAG_ERROR,
  FATAL: TAG_FATAL, CRITICAL: TAG_FATAL, CRIT: TAG_FATAL, EMERG: TAG_FATAL,
  EMERGENCY: TAG_FATAL, ALERT: TAG_FATAL, PANIC: TAG_FATAL, FTL: TAG_FATAL,
  // zap: dpanic logs at error level in production (it panics only in development).
  DPANIC: TAG_ERROR,
};

/** The level id for a tag spelling (case-insensitive), or -1 when it is not a level. */
export function levelFromName(name: string): number {
  const id = LEVEL_ALIASES[name.toUpperCase()];
  return id === undefined ? -1 : id;
}

const MAX_TAG_BYTES = 24;
const scratch = new Uint8Array(MAX_TAG_BYTES);

/**
 * The level id for tag bytes buf[start, end), or -1 when they are not a level spelling.
 * Runs once per line on the hot path: upper-cases into a scratch buffer and switches on the
 * length first so most lines cost a handful of byte compares, no string is built.
 */
export function levelFromBytes(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len < 3 || len > 11) return -1;
  for (let i = 0; i < len; i++) {
    const c = buf[start + i]!;
    scratch[i] = c >= 97 && c <= 122 ? c - 32 : c;
  }
  const s = scratch;
  // Fast path for the four spellings that make up nearly every line.
  if (len === 5) {
    if (s[0] === 69 && s[1] === 82 && s[2] === 82 && s[3] === 79 && s[4] === 82) return TAG_ERROR; // ERROR
    if (s[0] === 84 && s[1] === 82 && s[2] === 65 && s[3] === 67 && s[4] === 69) return TAG_TRACE; // TRACE
    if (s[0] === 68 && s[1] === 69 && s[2] === 66 && s[3] === 85 && s[4] === 71) return TAG_DEBUG; // DEBUG
    if (s[0] === 70 && s[1] === 65 && s[2] === 84 && s[3] === 65 && s[4] === 76) return TAG_FATAL; // FATAL
  } else if (len === 4) {
    if (s[0] === 73 && s[1] === 78 && s[2] === 70 && s[3] === 79) return TAG_INFO; // INFO
    if (s[0] === 87 && s[1] === 65 && s[2] === 82 && s[3] === 78) return TAG_WARN; // WARN
  }
  // Every other spelling: an int32 hash of the upper-cased bytes, then a byte compare. Building
  // a string per call made WARNING-heavy logs (Python) parse at half the speed.
  let h = len;
  for (let i = 0; i < len; i++) h = (Math.imul(h, 31) + s[i]!) | 0;
  const candidates = ALIAS_BY_HASH.get(h);
  if (candidates === undefined) return -1;
  outer: for (let k = 0; k < candidates.length; k++) {
    const c = candidates[k]!;
    if (c.bytes.length !== len) continue;
    for (let i = 0; i < len; i++) if (c.bytes[i] !== s[i]) continue outer;
    return c.id;
  }
  return -1;
}

const ALIAS_BY_HASH = new Map<number, { bytes: Uint8Array; id: number }[]>();
for (const [name, id] of Object.entries(LEVEL_ALIASES)) {
  const bytes = Uint8Array.from(name, (ch) => ch.charCodeAt(0));
  let h = bytes.length;
  for (const b of bytes) h = (Math.imul(h, 31) + b) | 0;
  const list = ALIAS_BY_HASH.get(h) ?? [];
  list.push({ bytes, id });
  ALIAS_BY_HASH.set(h, list);
}

/** Interns custom tag names to ids 7..30; later names share TAG_OTHER. */
export class TagDictionary {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [...LEVEL_NAMES, 'NONE'];
  /** A custom tag found no room: its name was not kept (its entries carry OTHER). */
  overflowed = false;

  /** The id for a custom tag, interning it if there is room. */
  intern(name: string): number {
    const upper = name.toUpperCase();
    const level = levelFromName(upper);
    if (level >= 0) return level;
    const known = this.ids.get(upper);
    if (known !== undefined) return known;
    const next = FIRST_CUSTOM_TAG + this.ids.size;
    if (next >= TAG_OTHER) {
      this.overflowed = true;
      return TAG_OTHER;
    }
    this.ids.set(upper, next);
    this.names[next] = upper;
    return next;
  }

  /** The id of a known tag name (level alias or interned custom tag), or -1. */
  lookup(name: string): number {
    const level = levelFromName(name);
    if (level >= 0) return level;
    const upper = name.toUpperCase();
    if (upper === 'NONE') return TAG_NONE;
    if (upper === 'OTHER') return TAG_OTHER;
    return this.ids.get(upper) ?? -1;
  }

  name(id: number): string {
    if (id === TAG_OTHER) return 'OTHER';
    return this.names[id] ?? 'OTHER';
  }

  /** Custom tags seen so far, in interning order. */
  customTags(): string[] {
    return [...this.ids.keys()];
  }
}

/*
 * Level scales of the formats that carry a number or a letter instead of a word. Each maps
 * onto TRACE..FATAL; the README's format table names the scale each format uses.
 */

/** Syslog severity 0..7 (RFC 5424 PRI & 7, journald PRIORITY): emerg/alert/crit FATAL, err ERROR, warning WARN, notice/info INFO, debug DEBUG. */
export function syslogSeverityLevel(severity: number): number {
  if (severity <= 2) return severity >= 0 ? TAG_FATAL : TAG_NONE;
  if (severity === 3) return TAG_ERROR;
  if (severity === 4) return TAG_WARN;
  if (severity <= 6) return TAG_INFO;
  return severity === 7 ? TAG_DEBUG : TAG_NONE;
}

/** pino/bunyan numbers: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; between two steps, the lower. */
export function pinoLevel(n: number): number {
  if (!(n >= 0)) return TAG_NONE;
  if (n < 20) return TAG_TRACE;
  if (n < 30) return TAG_DEBUG;
  if (n < 40) return TAG_INFO;
  if (n < 50) return TAG_WARN;
  if (n < 60) return TAG_ERROR;
  return TAG_FATAL;
}

/** OpenTelemetry SeverityNumber: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL; 0 unspecified. */
export function otelSeverityLevel(n: number): number {
  if (!(n >= 1 && n <= 24)) return TAG_NONE;
  return Math.min(TAG_FATAL, Math.floor((n - 1) / 4));
}

/** HTTP status class: 5xx ERROR, 4xx WARN, 1xx-3xx INFO; anything else (haproxy's -1: no response) ERROR. */
export function httpStatusLevel(status: number): number {
  if (status >= 500 && status <= 599) return TAG_ERROR;
  if (status >= 400) return status <= 499 ? TAG_WARN : TAG_NONE;
  if (status >= 100) return TAG_INFO;
  return status === -1 ? TAG_ERROR : TAG_NONE;
}

/** Single-letter levels (klog/glog I W E F; logrus-text and zerolog console D/T; Android V). */
export function letterLevel(c: number): number {
  switch (c | 0x20) {
    case 116: case 118: return TAG_TRACE; // t, v
    case 100: return TAG_DEBUG; // d
    case 105: return TAG_INFO; // i
    case 119: return TAG_WARN; // w
    case 101: return TAG_ERROR; // e
    case 102: return TAG_FATAL; // f
    default: return TAG_NONE;
  }
}
