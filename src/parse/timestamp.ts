/**
 * Timestamps: a fixed-format byte parser for the hot path, the user-facing parser for tool
 * and CLI arguments, and the ISO formatter for output.
 *
 * Internally every timestamp is an integer number of microseconds since the Unix epoch held
 * in a double (exact up to 2^53 us, year 2255), so microsecond precision survives storage.
 */

/** Result slots of parseIsoBytes, reused so the hot path allocates nothing. */
export interface IsoParse {
  /** Epoch microseconds. */
  us: number;
  /** Fractional digits the source had, capped at 6. */
  precision: number;
  /** False when the text carried no zone (the caller applies the configured one). */
  hasZone: boolean;
}

let cachedDayKey = -1;
let cachedDayUs = 0;

/** Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digit(buf: Uint8Array, i: number): number {
  const d = buf[i]! - 48;
  return d >= 0 && d <= 9 ? d : -100000;
}

/**
 * Parses `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM|±HHMM|±HH]` at buf[pos..end).
 * Returns the number of bytes consumed, 0 when the bytes are not such a timestamp.
 * Fixed offsets and a one-entry day cache: 28 ns/line against Date.parse's 162 ns, measured
 * when this parser replaced Date.parse (the project's performance targets).
 */
export function parseIsoBytes(buf: Uint8Array, pos: number, end: number, out: IsoParse): number {
  if (end - pos < 19) return 0;
  if (buf[pos + 4] !== 45 || buf[pos + 7] !== 45 || buf[pos + 13] !== 58 || buf[pos + 16] !== 58) return 0;
  const sep = buf[pos + 10];
  if (sep !== 84 && sep !== 32 && sep !== 116) return 0; // 'T', ' ', 't'
  const year = digit(buf, pos) * 1000 + digit(buf, pos + 1) * 100 + digit(buf, pos + 2) * 10 + digit(buf, pos + 3);
  const month = digit(buf, pos + 5) * 10 + digit(buf, pos + 6);
  const day = digit(buf, pos + 8) * 10 + digit(buf, pos + 9);
  const hour = digit(buf, pos + 11) * 10 + digit(buf, pos + 12);
  const minute = digit(buf, pos + 14) * 10 + digit(buf, pos + 15);
  const second = digit(buf, pos + 17) * 10 + digit(buf, pos + 18);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month]!) return 0;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return 0;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return 0;
  let i = pos + 19;
  let micros = 0;
  let precision = 0;
  if (i < end && (buf[i] === 46 || buf[i] === 44)) {
    // '.' or ',' then 1..9 digits; digits past the sixth are dropped (microsecond precision).
    i++;
    const fracStart = i;
    while (i < end && i - fracStart < 9) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      if (i - fracStart < 6) micros = micros * 10 + d;
      i++;
    }
    const digits = i - fracStart;
    if (digits === 0) return 0;
    precision = digits > 6 ? 6 : digits;
    for (let k = precision; k < 6; k++) micros *= 10;
  }
  let offsetMinutes = 0;
  let hasZone = false;
  if (i < end) {
    const z = buf[i];
    if (z === 90 || z === 122) {
      hasZone = true;
      i++;
    } else if ((z === 43 || z === 45) && end - i >= 3) {
      const oh = digit(buf, i + 1) * 10 + digit(buf, i + 2);
      let len = 3;
      let om = 0;
      if (end - i >= 6 && buf[i + 3] === 58) {
        om = digit(buf, i + 4) * 10 + digit(buf, i + 5);
        len = 6;
      } else if (end - i >= 5 && buf[i + 3]! >= 48 && buf[i + 3]! <= 57) {
        om = digit(buf, i + 3) * 10 + digit(buf, i + 4);
        len = 5;
      }
      if (oh >= 0 && oh <= 23 && om >= 0 && om <= 59) {
        offsetMinutes = (oh * 60 + om) * (z === 45 ? -1 : 1);
        hasZone = true;
        i += len;
      }
    }
  }
  const dayKey = year * 10000 + month * 100 + day;
  if (dayKey !== cachedDayKey) {
    cachedDayKey = dayKey;
    cachedDayUs = daysFromCivil(year, month, day) * 86_400_000_000;
  }
  out.us = cachedDayUs + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1_000_000 + micros;
  out.precision = precision;
  out.hasZone = hasZone;
  return i - pos;
}

/**
 * What the first 19 bytes of an ISO time (`YYYY-MM-DD[T ]HH:MM:SS`) read as: the day in epoch
 * microseconds and the minutes and seconds into it. isoSeconds and isoAfterSeconds are
 * parseIsoBytes in two halves, for a reader that caches the first (time-value.ts); the same
 * rules and the same arithmetic, so the same instant (test/property/iso-time-cache holds them
 * to parseIsoBytes). parseIsoBytes itself stays whole: V8 did not inline the two halves into
 * it, which cost every format that calls it 15-30 % per timestamp (microbenchmark of 200k
 * timestamps, best of 60 passes, load 11-13, 2026-12-02).
 */
export interface IsoSeconds {
  dayUs: number;
  /** hour * 60 + minute. */
  minutes: number;
  second: number;
}

/** Reads buf[pos, pos + 19) (the caller checks the length) into `into`; false when not a date and time. */
export function isoSeconds(buf: Uint8Array, pos: number, into: IsoSeconds): boolean {
  if (buf[pos + 4] !== 45 || buf[pos + 7] !== 45 || buf[pos + 13] !== 58 || buf[pos + 16] !== 58) return false;
  const sep = buf[pos + 10];
  if (sep !== 84 && sep !== 32 && sep !== 116) return false; // 'T', ' ', 't'
  const year = digit(buf, pos) * 1000 + digit(buf, pos + 1) * 100 + digit(buf, pos + 2) * 10 + digit(buf, pos + 3);
  const month = digit(buf, pos + 5) * 10 + digit(buf, pos + 6);
  const day = digit(buf, pos + 8) * 10 + digit(buf, pos + 9);
  const hour = digit(buf, pos + 11) * 10 + digit(buf, pos + 12);
  const minute = digit(buf, pos + 14) * 10 + digit(buf, pos + 15);
  const second = digit(buf, pos + 17) * 10 + digit(buf, pos + 18);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month]!) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return false;
  const dayKey = year * 10000 + month * 100 + day;
  if (dayKey !== cachedDayKey) {
    cachedDayKey = dayKey;
    cachedDayUs = daysFromCivil(year, month, day) * 86_400_000_000;
  }
  into.dayUs = cachedDayUs;
  into.minutes = hour * 60 + minute;
  into.second = second;
  return true;
}

/**
 * The second half (see IsoSeconds): the fraction and zone after the seconds at buf[pos + 19..end),
 * and the instant with `s` (what the first 19 bytes read as). Returns the bytes consumed from
 * pos, 0 when a fraction has no digit.
 */
export function isoAfterSeconds(buf: Uint8Array, pos: number, end: number, s: IsoSeconds, out: IsoParse): number {
  let i = pos + 19;
  let micros = 0;
  let precision = 0;
  if (i < end && (buf[i] === 46 || buf[i] === 44)) {
    // '.' or ',' then 1..9 digits; digits past the sixth are dropped (microsecond precision).
    i++;
    const fracStart = i;
    while (i < end && i - fracStart < 9) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      if (i - fracStart < 6) micros = micros * 10 + d;
      i++;
    }
    const digits = i - fracStart;
    if (digits === 0) return 0;
    precision = digits > 6 ? 6 : digits;
    for (let k = precision; k < 6; k++) micros *= 10;
  }
  let offsetMinutes = 0;
  let hasZone = false;
  if (i < end) {
    const z = buf[i];
    if (z === 90 || z === 122) {
      hasZone = true;
      i++;
    } else if ((z === 43 || z === 45) && end - i >= 3) {
      const oh = digit(buf, i + 1) * 10 + digit(buf, i + 2);
      let len = 3;
      let om = 0;
      if (end - i >= 6 && buf[i + 3] === 58) {
        om = digit(buf, i + 4) * 10 + digit(buf, i + 5);
        len = 6;
      } else if (end - i >= 5 && buf[i + 3]! >= 48 && buf[i + 3]! <= 57) {
        om = digit(buf, i + 3) * 10 + digit(buf, i + 4);
        len = 5;
      }
      if (oh >= 0 && oh <= 23 && om >= 0 && om <= 59) {
        offsetMinutes = (oh * 60 + om) * (z === 45 ? -1 : 1);
        hasZone = true;
        i += len;
      }
    }
  }
  out.us = s.dayUs + ((s.minutes - offsetMinutes) * 60 + s.second) * 1_000_000 + micros;
  out.precision = precision;
  out.hasZone = hasZone;
  return i - pos;
}

/**
 * Offsets for zone-less timestamps in an IANA zone, DST-correct. The offset is looked up
 * through Intl once per 15 minutes of local time and cached (every real transition falls on
 * a quarter hour), so the hot path pays one compare per line, a Map hit when the quarter
 * changes.
 *
 * Local times that do not name exactly one instant are resolved like Temporal's
 * 'compatible' disambiguation (also java.time's and Python's fold=0 default):
 *   - skipped (spring forward: 02:30 on 2024-03-10 in America/New_York does not exist): read
 *     with the offset in force before the change, which moves it forward by the gap
 *     (02:30 EST = 07:30Z, shown as 03:30 EDT), so it sorts after the 01:59 line above it;
 *   - repeated (fall back: 01:30 on 2024-11-03 happens twice): the earlier instant, the first
 *     pass (01:30 EDT = 05:30Z). Lines from the second pass land an hour early; a zone-less
 *     log cannot tell the two passes apart, so log with an offset where that hour matters.
 */
export class ZoneResolver {
  private readonly formatter: Intl.DateTimeFormat | null;
  private readonly cache = new Map<number, number>();
  private lastKey = Number.NaN;
  private lastOffsetUs = 0;

  constructor(readonly timeZone: string) {
    this.formatter =
      timeZone === 'UTC' || timeZone === 'Etc/UTC'
        ? null
        : new Intl.DateTimeFormat('en-US', {
            timeZone,
            hourCycle: 'h23',
            year: 'numeric', month: '2-digit', day: '2-digit',
            hour: '2-digit', minute: '2-digit', second: '2-digit',
          });
  }

  /** Throws RangeError for a zone name Intl does not know. */
  static validate(timeZone: string): void {
    // The first Intl.DateTimeFormat of a process loads ICU's zone data: 12 to 97 ms measured
    // here, paid by every start for the default zone, which needs no lookup.
    if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return;
    new Intl.DateTimeFormat('en-US', { timeZone });
  }

  /** Converts a wall-clock time read as UTC (epoch us) into true epoch us in this zone. */
  toUtc(wallUs: number): number {
    if (this.formatter === null) return wallUs;
    const key = Math.floor(wallUs / QUARTER_US);
    if (key === this.lastKey) return wallUs - this.lastOffsetUs;
    let offsetUs = this.cache.get(key);
    if (offsetUs === undefined) {
      offsetUs = this.resolve(key * QUARTER_US);
      if (this.cache.size > 4096) this.cache.clear();
      this.cache.set(key, offsetUs);
    }
    this.lastKey = key;
    this.lastOffsetUs = offsetUs;
    return wallUs - offsetUs;
  }

  /** The offset (us) that turns the wall time into an instant, per the rules above. */
  private resolve(wallUs: number): number {
    const wallMs = Math.floor(wallUs / 1000);
    // Past what Date can hold (Intl would throw): no zone rules there anyway.
    if (!(Math.abs(wallMs) < 8e15)) return 0;
    // Offsets a day either side bracket any transition near this wall time.
    const before = this.offsetAt(wallMs - 86_400_000);
    const after = this.offsetAt(wallMs + 86_400_000);
    if (before === after) return before;
    const early = wallMs - before / 1000;
    const late = wallMs - after / 1000;
    const earlyValid = this.offsetAt(early) === before;
    const lateValid = this.offsetAt(late) === after;
    if (earlyValid && lateValid) return early <= late ? before : after; // repeated: the earlier instant
    if (earlyValid) return before;
    if (lateValid) return after;
    return before; // skipped: the offset before the change moves the time forward by the gap
  }

  /** Zone offset in microseconds at an instant (epoch ms). */
  private offsetAt(epochMs: number): number {
    const parts = this.formatter!.formatToParts(new Date(epochMs));
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
    // daysFromCivil, not Date.UTC: Date.UTC reads years 0..99 as 1900..1999.
    const wall = daysFromCivil(get('year'), get('month'), get('day')) * 86_400_000 + ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000;
    return (wall - Math.floor(epochMs / 1000) * 1000) * 1000;
  }
}

const QUARTER_US = 900_000_000;

const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

/**
 * ISO 8601 UTC with `precision` fractional digits (0..6), e.g. 2024-01-15T10:30:45.123Z.
 * Without a precision: milliseconds, or microseconds when the time has a sub-millisecond part.
 */
export function formatTimestamp(us: number, precision = us % 1000 === 0 ? 3 : 6): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const head =
    (year >= 0 && year <= 9999 ? String(year).padStart(4, '0') : (year < 0 ? '-' : '+') + String(Math.abs(year)).padStart(6, '0')) +
    '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()) +
    'T' + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds());
  if (precision <= 0) return head + 'Z';
  const micros = us - Math.floor(us / 1_000_000) * 1_000_000;
  return head + '.' + String(micros).padStart(6, '0').slice(0, Math.min(precision, 6)) + 'Z';
}

export type TimestampInput = string | number;

/** Outcome of reading a user-supplied timestamp: epoch us, or a message saying what is accepted. */
export type ParsedTimestamp = { ok: true; us: number } | { ok: false; message: string };

const ACCEPTED =
  'accepted: an ISO 8601 / RFC 3339 string with Z or an offset (2024-01-15T10:30:45.123Z, ' +
  '2024-01-15T12:30:45+02:00) or an integer epoch in milliseconds (1705314645123)';

/**
 * The instants a JavaScript Date can hold: +-8.64e15 ms (years -271821 to 275760). Past them
 * an answer printed `+000NaN-NaN-NaNTNaN:NaN:NaN.991232Z` (issue 15, item 9).
 */
export const MAX_EPOCH_MS = 8.64e15;
const RANGE = `epoch milliseconds from -${MAX_EPOCH_MS} to ${MAX_EPOCH_MS} (years -271821 to 275760)`;

function inRange(us: number, shown: string): ParsedTimestamp {
  if (Math.abs(us) > MAX_EPOCH_MS * 1000) return { ok: false, message: `${shown} is out of range; accepted: ${RANGE}` };
  return { ok: true, us };
}

/** Reads a timestamp given by a user or a client: ISO with a zone, or integer epoch ms. */
export function parseTimestampInput(value: TimestampInput): ParsedTimestamp {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      return { ok: false, message: `${value} is not an integer epoch in milliseconds; ${ACCEPTED}` };
    }
    return inRange(value * 1000, String(value));
  }
  const text = value.trim();
  if (/^-?\d{1,16}$/.test(text)) return inRange(Number(text) * 1000, text);
  const bytes = Buffer.from(text, 'latin1');
  const out: IsoParse = { us: 0, precision: 0, hasZone: false };
  const used = parseIsoBytes(bytes, 0, bytes.length, out);
  if (used === 0 || used !== bytes.length) {
    return { ok: false, message: `'${text.slice(0, 64)}' is not a timestamp; ${ACCEPTED}` };
  }
  if (!out.hasZone) {
    return {
      ok: false,
      message: `'${text.slice(0, 64)}' has no time zone, so the instant is ambiguous; add Z or an offset such as +02:00, or pass epoch milliseconds`,
    };
  }
  return inRange(out.us, `'${text.slice(0, 64)}'`);
}
