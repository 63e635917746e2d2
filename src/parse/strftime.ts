/**
 * strftime-like timestamp patterns for custom formats (`%Y-%m-%d %H:%M:%S.%f %z`), compiled
 * once at start-up into a list of steps that read bytes. Supported:
 *   %Y year (4 digits)   %y year (2 digits, 69-99 -> 19xx)   %m month   %d day   %e day (space-padded)
 *   %H hour   %I hour (12h, with %p AM/PM)   %M minute   %S second   %f fraction (1-9 digits, kept to us)
 *   %b %h month abbreviation   %B month name   %a %A weekday name (read, ignored)
 *   %z offset (Z, +HH:MM, +HHMM, +HH)   %Z zone abbreviation (zones.ts)   %s epoch seconds
 *   %T = %H:%M:%S   %F = %Y-%m-%d   %D = %m/%d/%y   %% a percent sign
 * Other characters match themselves; a space also matches a run of spaces. Without %Y/%y/%s the
 * year comes from the file's modification time; without %z/%Z/%s the zone is --timezone.
 */
import type { ParseContext } from './context.js';
import { civilUs, epoch, epochAt, isDigitByte, monthAt, validDate, validTime } from './time-parts.js';
import { type ZoneParse, zoneAt } from './zones.js';

const enum Op { Lit, Year4, Year2, Month, Day, DaySpace, Hour, Hour12, AmPm, Minute, Second, Frac, MonAbbr, MonName, WeekdayName, Offset, ZoneName, Epoch, Space }

interface Step {
  op: Op;
  byte: number;
}

export interface TimePattern {
  readonly source: string;
  readonly steps: readonly Step[];
  readonly hasYear: boolean;
  readonly hasZone: boolean;
  readonly hasDate: boolean;
}

/** A pattern that cannot be compiled; the message says what is wrong. */
export class PatternError extends Error {
  override name = 'PatternError';
}

const EXPAND: Record<string, string> = { T: '%H:%M:%S', F: '%Y-%m-%d', D: '%m/%d/%y' };
const OPS: Record<string, Op> = {
  Y: Op.Year4, y: Op.Year2, m: Op.Month, d: Op.Day, e: Op.DaySpace, H: Op.Hour, I: Op.Hour12, p: Op.AmPm, M: Op.Minute,
  S: Op.Second, f: Op.Frac, b: Op.MonAbbr, h: Op.MonAbbr, B: Op.MonName, a: Op.WeekdayName, A: Op.WeekdayName,
  z: Op.Offset, Z: Op.ZoneName, s: Op.Epoch,
};

export function compileTimePattern(source: string): TimePattern {
  let text = source;
  for (const [k, v] of Object.entries(EXPAND)) text = text.split(`%${k}`).join(v);
  const steps: Step[] = [];
  const seen = new Set<Op>();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== '%') {
      const code = ch.charCodeAt(0);
      if (code > 126) throw new PatternError(`'${source}': only ASCII is allowed outside directives`);
      steps.push({ op: ch === ' ' ? Op.Space : Op.Lit, byte: code });
      continue;
    }
    const d = text[++i];
    if (d === '%') {
      steps.push({ op: Op.Lit, byte: 37 });
      continue;
    }
    const op = d === undefined ? undefined : OPS[d];
    if (op === undefined) {
      throw new PatternError(`'${source}': unknown directive %${d ?? ''}; supported: %Y %y %m %d %e %H %I %p %M %S %f %b %B %a %z %Z %s %T %F %D %%`);
    }
    seen.add(op);
    steps.push({ op, byte: 0 });
  }
  const has = (...ops: Op[]): boolean => ops.some((o) => seen.has(o));
  if (has(Op.Epoch)) {
    if (seen.size > 1) throw new PatternError(`'${source}': %s stands alone (it reads a fraction itself: 1705314645.123)`);
  } else {
    if (!has(Op.Month, Op.MonAbbr, Op.MonName) || !has(Op.Day, Op.DaySpace)) throw new PatternError(`'${source}': needs a month (%m, %b or %B) and a day (%d or %e)`);
    if (!has(Op.Hour, Op.Hour12) || !has(Op.Minute)) throw new PatternError(`'${source}': needs an hour (%H or %I) and minutes (%M)`);
    if (has(Op.Hour12) !== has(Op.AmPm)) throw new PatternError(`'${source}': %I and %p go together`);
  }
  return {
    source,
    steps,
    hasYear: has(Op.Year4, Op.Year2, Op.Epoch),
    hasZone: has(Op.Offset, Op.ZoneName, Op.Epoch),
    hasDate: !has(Op.Epoch),
  };
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const zone: ZoneParse = { offsetMinutes: 0, length: 0 };

/** Result slots of readTime. */
export const timeRead = { us: 0, precision: 0 };

/** Reads `digits` (min..max) at p into num.v; returns the index after, or -1. */
const num = { v: 0 };
function digits(buf: Uint8Array, p: number, end: number, min: number, max: number): number {
  let v = 0;
  let q = p;
  while (q < end && q - p < max && isDigitByte(buf[q])) v = v * 10 + buf[q++]! - 48;
  if (q - p < min) return -1;
  num.v = v;
  return q;
}

/**
 * Reads buf[start, end) with the pattern: sets timeRead and returns true when the whole
 * range matched and names a real instant.
 */
export function readTime(pattern: TimePattern, buf: Uint8Array, start: number, end: number, ctx: ParseContext): boolean {
  let year = -1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micros = 0;
  let precision = 0;
  let pm = -1;
  let offset = Number.NaN;
  let p = start;
  for (const step of pattern.steps) {
    if (p < 0) return false;
    switch (step.op) {
      case Op.Lit:
        if (buf[p] !== step.byte) return false;
        p++;
        break;
      case Op.Space:
        if (buf[p] !== 32) return false;
        while (p < end && buf[p] === 32) p++;
        break;
      case Op.Year4: p = digits(buf, p, end, 4, 4); year = num.v; break;
      case Op.Year2: p = digits(buf, p, end, 2, 2); year = num.v < 69 ? 2000 + num.v : 1900 + num.v; break;
      case Op.Month: p = digits(buf, p, end, 1, 2); month = num.v; break;
      case Op.Day: p = digits(buf, p, end, 1, 2); day = num.v; break;
      case Op.DaySpace:
        if (buf[p] === 32) p++;
        p = digits(buf, p, end, 1, 2);
        day = num.v;
        break;
      case Op.Hour: case Op.Hour12: p = digits(buf, p, end, 1, 2); hour = num.v; break;
      case Op.Minute: p = digits(buf, p, end, 2, 2); minute = num.v; break;
      case Op.Second: p = digits(buf, p, end, 2, 2); second = num.v; break;
      case Op.Frac: {
        let q = p;
        let f = 0;
        while (q < end && isDigitByte(buf[q])) {
          if (q - p < 6) f = f * 10 + buf[q]! - 48;
          q++;
        }
        if (q === p) return false;
        precision = Math.min(6, q - p);
        for (let k = precision; k < 6; k++) f *= 10;
        micros = f;
        p = q;
        break;
      }
      case Op.AmPm: {
        const a = buf[p]! | 0x20;
        if ((a !== 97 && a !== 112) || (buf[p + 1]! | 0x20) !== 109) return false;
        pm = a === 112 ? 1 : 0;
        p += 2;
        break;
      }
      case Op.MonAbbr:
        if (end - p < 3) return false;
        month = monthAt(buf, p);
        if (month === 0) return false;
        p += 3;
        break;
      case Op.MonName: {
        if (end - p < 3) return false;
        month = monthAt(buf, p);
        if (month === 0) return false;
        const name = MONTHS[month - 1]!;
        let q = p + 3;
        while (q < end && q - p < name.length && (buf[q]! | 0x20) === name.charCodeAt(q - p)) q++;
        p = q;
        break;
      }
      case Op.WeekdayName: {
        let q = p;
        while (q < end && q - p < 9 && ((buf[q]! | 0x20) >= 97 && (buf[q]! | 0x20) <= 122)) q++;
        if (q - p < 3) return false;
        p = q;
        break;
      }
      case Op.Offset:
        if (buf[p] === 90 || buf[p] === 122) {
          offset = 0;
          p++;
          break;
        }
        zoneAt(buf, p, end, zone);
        if (zone.length === 0 || (buf[p] !== 43 && buf[p] !== 45)) return false;
        offset = zone.offsetMinutes;
        p += zone.length;
        break;
      case Op.ZoneName:
        zoneAt(buf, p, end, zone);
        if (zone.length === 0) return false;
        offset = zone.offsetMinutes;
        p += zone.length;
        break;
      case Op.Epoch: {
        const q = epochAt(buf, p, end);
        if (q < 0) return false;
        timeRead.us = epoch.us;
        timeRead.precision = epoch.precision;
        p = q;
        break;
      }
    }
  }
  if (p !== end) return false;
  if (!pattern.hasDate) return true;
  if (pm >= 0) {
    if (hour < 1 || hour > 12) return false;
    hour = (hour % 12) + (pm === 1 ? 12 : 0);
  }
  if (year < 0) year = month >= 1 && month <= 12 && day >= 1 && day <= 31 ? ctx.yearFor(month, day) : -1;
  if (!validDate(year, month, day) || !validTime(hour, minute, second)) return false;
  const wall = civilUs(year, month, day, hour, minute, second, micros);
  timeRead.us = offset === offset ? wall - offset * 60_000_000 : ctx.local(wall);
  timeRead.precision = precision;
  return true;
}
