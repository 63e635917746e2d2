/**
 * Timestamps in and out: what a client may send (ISO with a zone, or epoch ms), how an instant
 * is printed at a given precision, and the day arithmetic under the byte parser.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IsoParse, daysFromCivil, formatTimestamp, parseIsoBytes, parseTimestampInput } from '../../src/parse/timestamp.js';

const ms = (iso: string): number => Date.parse(iso);

describe('parseTimestampInput', () => {
  it('accepts ISO 8601 with Z or an offset, to the microsecond', () => {
    expect(parseTimestampInput('2024-01-15T10:30:45.123Z')).toEqual({ ok: true, us: ms('2024-01-15T10:30:45.123Z') * 1000 });
    expect(parseTimestampInput('2024-01-15T12:30:45+02:00')).toEqual({ ok: true, us: ms('2024-01-15T10:30:45Z') * 1000 });
    expect(parseTimestampInput('2024-01-15T05:00:45.5-0530')).toEqual({ ok: true, us: ms('2024-01-15T10:30:45.5Z') * 1000 });
    expect(parseTimestampInput('  2024-01-15 10:30:45.123456Z  ')).toEqual({ ok: true, us: ms('2024-01-15T10:30:45.123Z') * 1000 + 456 });
    expect(parseTimestampInput('2024-01-15T10:30:45.123456789Z')).toEqual({ ok: true, us: ms('2024-01-15T10:30:45.123Z') * 1000 + 456 });
  });

  it('accepts integer epoch milliseconds as a number or a string of digits', () => {
    expect(parseTimestampInput(1705314645123)).toEqual({ ok: true, us: 1705314645123000 });
    expect(parseTimestampInput('1705314645123')).toEqual({ ok: true, us: 1705314645123000 });
    expect(parseTimestampInput(0)).toEqual({ ok: true, us: 0 });
    expect(parseTimestampInput(-1000)).toEqual({ ok: true, us: -1_000_000 });
  });

  it('rejects a zone-less timestamp with a message saying the zone is missing', () => {
    const r = parseTimestampInput('2024-01-15T10:30:45.123');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toMatch(/no time zone/);
    expect(r.message).toMatch(/add Z or an offset/);
  });

  it('rejects fractional or non-finite epochs and garbage with the accepted forms listed', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 'yesterday', '2024-01-15', '2024-01-15T10:30:45Z trailing', '2024-13-01T00:00:00Z', '']) {
      const r = parseTimestampInput(bad);
      expect(r.ok, String(bad)).toBe(false);
      if (!r.ok) expect(r.message, String(bad)).toMatch(/accepted: an ISO 8601/);
    }
  });
});

describe('formatTimestamp', () => {
  const t = ms('2024-01-15T10:30:45.123Z') * 1000 + 456;

  it('prints exactly the requested number of fractional digits, 0..6', () => {
    expect(formatTimestamp(t, 0)).toBe('2024-01-15T10:30:45Z');
    expect(formatTimestamp(t, 1)).toBe('2024-01-15T10:30:45.1Z');
    expect(formatTimestamp(t, 3)).toBe('2024-01-15T10:30:45.123Z');
    expect(formatTimestamp(t, 6)).toBe('2024-01-15T10:30:45.123456Z');
    expect(formatTimestamp(t, 9)).toBe('2024-01-15T10:30:45.123456Z');
  });

  it('defaults to milliseconds, or microseconds when there is a sub-millisecond part', () => {
    expect(formatTimestamp(ms('2024-01-15T10:30:45.120Z') * 1000)).toBe('2024-01-15T10:30:45.120Z');
    expect(formatTimestamp(t)).toBe('2024-01-15T10:30:45.123456Z');
  });

  it('handles instants before 1970 and far years', () => {
    expect(formatTimestamp(ms('1969-12-31T23:59:59.999Z') * 1000 + 500, 6)).toBe('1969-12-31T23:59:59.999500Z');
    expect(formatTimestamp(ms('0001-01-01T00:00:00Z') * 1000, 3)).toBe('0001-01-01T00:00:00.000Z');
    expect(formatTimestamp(ms('+010000-01-01T00:00:00Z') * 1000, 0)).toBe('+010000-01-01T00:00:00Z');
  });

  it('round-trips through parseTimestampInput at microsecond precision', () => {
    // Epoch microseconds are exact in a double up to 2^53 (years 1685..2255).
    fc.assert(
      fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (us) => {
        const text = formatTimestamp(us, 6);
        expect(parseTimestampInput(text)).toEqual({ ok: true, us });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('daysFromCivil', () => {
  /** Days since the epoch by the JS Date (setUTCFullYear: Date.UTC maps years 0..99 to 19xx). */
  function byDate(year: number, month: number, day: number): number {
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    return Math.round(d.getTime() / 86_400_000);
  }

  it('agrees with Date on every valid date over ±270,000 years', () => {
    fc.assert(
      fc.property(fc.integer({ min: -270_000, max: 270_000 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (year, month, rawDay) => {
        const dim = new Date(0);
        dim.setUTCFullYear(year, month, 0); // day 0 of the next month = last day of this one
        const day = Math.min(rawDay, dim.getUTCDate());
        expect(daysFromCivil(year, month, day)).toBe(byDate(year, month, day));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with Date on the days around leap days and century years', () => {
    for (const year of [1600, 1700, 1900, 1970, 2000, 2024, 2100, 2400, 0, -1, -400]) {
      for (const [m, d] of [[2, 28], [2, 29], [3, 1], [12, 31], [1, 1]] as const) {
        if (d === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) continue;
        expect(daysFromCivil(year, m, d), `${year}-${m}-${d}`).toBe(byDate(year, m, d));
      }
    }
  });

  it('drives parseIsoBytes: every date from 0000 to 9999 parses to the instant Date gives', () => {
    const out: IsoParse = { us: 0, precision: 0, hasZone: false };
    fc.assert(
      fc.property(fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
        const text = d.toISOString();
        const bytes = Buffer.from(text);
        expect(parseIsoBytes(bytes, 0, bytes.length, out)).toBe(bytes.length);
        expect(out.us).toBe(d.getTime() * 1000);
        expect(out.hasZone).toBe(true);
        expect(out.precision).toBe(3);
      }),
      { numRuns: 3000 },
    );
  });
});
