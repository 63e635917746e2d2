/**
 * Pieces the format parsers build timestamps from, all on bytes and allocation-free: two- and
 * four-digit fields, month names, fractions of a second (kept to the microsecond, digits past
 * the sixth dropped), and a civil-time to epoch conversion with a one-day cache.
 */
import { daysFromCivil } from './timestamp.js';

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digit value at buf[i], or a large negative number so any sum it joins fails range checks. */
export function dig(buf: Uint8Array, i: number): number {
  const d = buf[i]! - 48;
  return d >= 0 && d <= 9 ? d : -100000;
}

export function num2(buf: Uint8Array, i: number): number {
  return dig(buf, i) * 10 + dig(buf, i + 1);
}

export function num4(buf: Uint8Array, i: number): number {
  return dig(buf, i) * 1000 + dig(buf, i + 1) * 100 + dig(buf, i + 2) * 10 + dig(buf, i + 3);
}

/** A day-of-month or hour that may be space-padded (`Jan  5`, ` 9:30`): value or -1. */
export function padded2(buf: Uint8Array, i: number): number {
  const a = buf[i]!;
  const b = dig(buf, i + 1);
  if (b < 0) return -1;
  if (a === 32) return b;
  const v = dig(buf, i) * 10 + b;
  return v < 0 ? -1 : v;
}

export function isDigitByte(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

/** Month 1..12 from a three-letter English abbreviation at buf[i] (any case), or 0. */
export function monthAt(buf: Uint8Array, i: number): number {
  const a = buf[i]! | 0x20;
  const b = buf[i + 1]! | 0x20;
  const c = buf[i + 2]! | 0x20;
  switch (a) {
    case 106: // j
      if (b === 97 && c === 110) return 1; // jan
      if (b === 117 && c === 110) return 6; // jun
      if (b === 117 && c === 108) return 7; // jul
      return 0;
    case 102: return b === 101 && c === 98 ? 2 : 0; // feb
    case 109: // m
      if (b === 97 && c === 114) return 3; // mar
      if (b === 97 && c === 121) return 5; // may
      return 0;
    case 97: // a
      if (b === 112 && c === 114) return 4; // apr
      if (b === 117 && c === 103) return 8; // aug
      return 0;
    case 115: return b === 101 && c === 112 ? 9 : 0; // sep
    case 111: return b === 99 && c === 116 ? 10 : 0; // oct
    case 110: return b === 111 && c === 118 ? 11 : 0; // nov
    case 100: return b === 101 && c === 99 ? 12 : 0; // dec
    default: return 0;
  }
}

/** True when the three bytes at buf[i] are an English weekday abbreviation (any case). */
export function isWeekdayAt(buf: Uint8Array, i: number): boolean {
  const w = ((buf[i]! | 0x20) << 16) | ((buf[i + 1]! | 0x20) << 8) | (buf[i + 2]! | 0x20);
  // mon tue wed thu fri sat sun
  return w === 0x6d6f6e || w === 0x747565 || w === 0x776564 || w === 0x746875 || w === 0x667269 || w === 0x736174 || w === 0x73756e;
}

/** Whether the date exists (leap years included). */
export function validDate(year: number, month: number, day: number): boolean {
  if (year < 0 || year > 9999 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month]!) return false;
  return month !== 2 || day !== 29 || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
}

export function validTime(hour: number, minute: number, second: number): boolean {
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 60;
}

let cachedDayKey = -1;
let cachedDayUs = 0;

/** Epoch microseconds of a civil date and time read as UTC (callers apply offsets). */
export function civilUs(year: number, month: number, day: number, hour: number, minute: number, second: number, micros: number): number {
  const key = year * 10000 + month * 100 + day;
  if (key !== cachedDayKey) {
    cachedDayKey = key;
    cachedDayUs = daysFromCivil(year, month, day) * 86_400_000_000;
  }
  return cachedDayUs + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros;
}

/** Result slots of fractionAt. */
export const frac = { micros: 0, precision: 0 };

/**
 * Reads `[.,]digits` at buf[i]: sets frac (microseconds, digits kept up to 6) and returns the
 * index after it; returns i unchanged (frac zeroed) when there is no fraction. Digits past the
 * ninth are consumed too (nanoseconds and beyond are truncated, never rounded).
 */
export function fractionAt(buf: Uint8Array, i: number, end: number): number {
  frac.micros = 0;
  frac.precision = 0;
  if (i >= end || (buf[i] !== 46 && buf[i] !== 44) || !isDigitByte(buf[i + 1])) return i;
  let j = i + 1;
  let micros = 0;
  while (j < end) {
    const d = buf[j]! - 48;
    if (d < 0 || d > 9) break;
    if (j - i <= 6) micros = micros * 10 + d;
    j++;
  }
  const digits = Math.min(6, j - i - 1);
  for (let k = digits; k < 6; k++) micros *= 10;
  frac.micros = micros;
  frac.precision = digits;
  return j;
}

/** Result slots of epochAt. */
export const epoch = { us: 0, precision: 0 };

/**
 * Reads an epoch number at buf[i]: digits, optionally `.fraction`. The unit comes from the
 * count of integer digits: 9-11 seconds, 12-14 milliseconds, 15-17 microseconds, 18-20
 * nanoseconds (truncated to the microsecond). Returns the index after it, or -1 when the
 * bytes are not such a number or it falls outside 1973..2286 (a pid or a count is not a time).
 * Exact: no float arithmetic on more than 15 digits.
 */
export function epochAt(buf: Uint8Array, i: number, end: number): number {
  let j = i;
  let lead = 0;
  let digits = 0;
  while (j < end) {
    const d = buf[j]! - 48;
    if (d < 0 || d > 9) break;
    // The first 16 digits hold up to 9.99e15: exact in a double.
    if (digits < 16) lead = lead * 10 + d;
    digits++;
    j++;
  }
  if (digits < 9 || digits > 20) return -1;
  let us: number;
  let precision: number;
  let unitDigits: number; // decimal digits of the unit below a second
  if (digits <= 11) {
    us = lead * 1_000_000;
    precision = 0;
    unitDigits = 0;
  } else if (digits <= 14) {
    us = lead * 1000;
    precision = 3;
    unitDigits = 3;
  } else if (digits <= 17) {
    us = digits <= 16 ? lead : lead * 10 ** (digits - 16);
    precision = 6;
    unitDigits = 6;
  } else {
    us = Math.floor(lead / 10 ** (16 - (digits - 3)));
    precision = 6;
    unitDigits = 9;
  }
  // Fraction of the unit: kept down to the microsecond.
  if (j < end && buf[j] === 46 && isDigitByte(buf[j + 1])) {
    j++;
    const room = Math.max(0, 6 - unitDigits);
    let f = 0;
    let n = 0;
    while (j < end) {
      const d = buf[j]! - 48;
      if (d < 0 || d > 9) break;
      if (n < room) {
        f = f * 10 + d;
        n++;
      }
      j++;
    }
    if (room > 0) {
      for (let k = n; k < room; k++) f *= 10;
      us += f;
      precision = Math.min(6, unitDigits + n);
    }
  }
  // 1973-03-03 (1e8 s) .. 2286-11-20 (1e10 s): anything else is not a log time.
  if (!(us >= 1e14 && us < 1e16)) return -1;
  epoch.us = us;
  epoch.precision = precision;
  return j;
}
