/**
 * What a format's line function may need besides the bytes, prepared once per chunk from the
 * plain ParseOptions: the zone for zone-less times, the reference instant for year-less
 * dates, and the compiled custom format when one is in use.
 */
import type { ParseOptions } from './parsed-chunk.js';
import { ZoneResolver, daysFromCivil } from './timestamp.js';

const DAY_US = 86_400_000_000;
const resolvers = new Map<string, ZoneResolver>();

function resolverFor(timeZone: string): ZoneResolver | null {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return null;
  let r = resolvers.get(timeZone);
  if (r === undefined) {
    r = new ZoneResolver(timeZone);
    resolvers.set(timeZone, r);
  }
  return r;
}

export function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

export class ParseContext {
  readonly zone: ZoneResolver | null;
  /** The file's modification time (epoch us): no line of it can be much later. */
  readonly refUs: number;
  readonly refYear: number;
  readonly options: ParseOptions;

  constructor(options: ParseOptions) {
    this.options = options;
    this.zone = resolverFor(options.timezone);
    const mtime = options.mtimeMs;
    const refMs = mtime !== undefined && Number.isFinite(mtime) && Math.abs(mtime) < 8e15 ? mtime : Date.now();
    this.refUs = refMs * 1000;
    this.refYear = new Date(refMs).getUTCFullYear();
  }

  /** A zone-less wall time (read as UTC, epoch us) as a true instant in --timezone. */
  local(wallUs: number): number {
    return this.zone === null ? wallUs : this.zone.toUtc(wallUs);
  }

  /**
   * The year of a year-less date (RFC 3164, klog, old Redis): the file's modification year,
   * or the year before when the date would fall more than a day after the modification time
   * (a December line in a file last written in January). Across the turn of the year inside
   * a file this puts December in the old year and January in the new one. Feb 29 goes to the
   * latest leap year not after that.
   */
  yearFor(month: number, day: number): number {
    const key = month * 32 + day;
    if (key === this.lastKey) return this.lastYear;
    let year = this.refYear;
    const dayUs = daysFromCivil(year, month, day) * DAY_US;
    if (dayUs > this.refUs + DAY_US) year--;
    if (month === 2 && day === 29) while (!isLeapYear(year)) year--;
    this.lastKey = key;
    this.lastYear = year;
    return year;
  }

  // One-entry cache: consecutive lines share a day.
  private lastKey = -1;
  private lastYear = 0;
}

/** The default context (UTC, year from the clock): for entry-start checks and detection. */
export const DEFAULT_CONTEXT = new ParseContext({ timezone: 'UTC' });
