/**
 * ISO times in field values (JSON, logfmt) reuse the first 19 bytes' reading of the time
 * before (time-value.ts `last`): the cached reading must equal the full one, value for value,
 * on times that change within the same second (fraction, zone), at the second's last digit,
 * across minute, day, month and leap-day boundaries, with `T`, `t` or a blank, in two
 * --timezone contexts (zone-less times), and with bytes mutated (malformed times included).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseContext } from '../../src/parse/context.js';
import { newLineOut } from '../../src/parse/format.js';
import { forgetTimeCache, timeValue } from '../../src/parse/formats/time-value.js';
import { type IsoParse, parseIsoBytes } from '../../src/parse/timestamp.js';

const CONTEXTS = [new ParseContext({ timezone: 'UTC' }), new ParseContext({ timezone: 'America/New_York' })];

/** Seconds that differ from each other in one byte of the 19, at every position that can. */
const SECONDS = fc.constantFrom(
  '2024-01-15T10:30:45', '2024-01-15T10:30:46', '2024-01-15T10:30:55', '2024-01-15T10:31:45', '2024-01-15T11:30:45',
  '2024-01-16T10:30:45', '2024-02-15T10:30:45', '2025-01-15T10:30:45', '2024-01-15 10:30:45', '2024-01-15t10:30:45',
  '2024-01-15T23:59:59', '2024-01-16T00:00:00', '2024-02-29T12:00:00', '2023-02-29T12:00:00', '2024-12-31T23:59:60',
  '2024-03-10T02:30:00', '2024-11-03T01:30:00', '0001-01-01T00:00:00', '2024-13-01T00:00:00', '2024-01-15T24:00:00',
);
const REST = fc.constantFrom(
  '', '.123Z', '.124Z', '.123', '.123456Z', '.123456789Z', '.1z', ',5Z', 'Z', '+02:00', '.123+02:00', '.123-05:30',
  '-0530', '+05', '.Z', '.', '+24:00', '+02:0', ' ', 'x',
);
/** A value: mostly the second of the value before (null), as in a busy log. */
const VALUE = fc.tuple(
  fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: SECONDS }),
  REST,
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...'09:-T" .Z'.split(''))) },
  ),
);

type Result = [boolean, number, number];

describe('ISO time value cache', () => {
  it('reads every time exactly as without the cache', () => {
    let hits = 0;
    fc.assert(
      fc.property(SECONDS, fc.array(VALUE, { minLength: 2, maxLength: 20 }), fc.array(fc.nat(1)), fc.nat(7), (first, specs, zones, pad) => {
        let second = first;
        const values = specs.map(([s, rest, mutation]) => {
          second = s ?? second;
          let v = second + rest;
          if (mutation !== null) {
            const i = mutation[0] % v.length;
            v = v.slice(0, i) + mutation[1] + v.slice(i + 1);
          }
          return v;
        });
        // Values at odd offsets, as they sit in a line (the cache reads 4 bytes at a time).
        const text = values.map((v) => ' '.repeat(pad) + `"${v}"`).join(',');
        const buf = Buffer.from(text);
        const ranges: [number, number][] = [];
        let pos = 0;
        for (const v of values) {
          ranges.push([pos + pad + 1, pos + pad + 1 + v.length]);
          pos += pad + v.length + 3;
        }
        const out = newLineOut();
        const read = (cached: boolean): Result[] => {
          forgetTimeCache();
          return ranges.map(([s, e], i) => {
            if (!cached) forgetTimeCache();
            const ok = timeValue(buf, s, e, out, CONTEXTS[(zones[i] ?? 0) % 2]!);
            return ok ? [ok, out.us, out.precision] : [ok, 0, 0];
          });
        };
        const fast = read(true);
        for (let i = 1; i < values.length; i++) if (fast[i]![0] && values[i]!.slice(0, 19) === values[i - 1]!.slice(0, 19)) hits++;
        const slow = read(false);
        expect(fast).toEqual(slow);
        // The uncached reading of an ISO-shaped value is parseIsoBytes's, the parser every other
        // format uses (a value shaped otherwise is read as an epoch number, not compared here).
        const iso: IsoParse = { us: 0, precision: 0, hasZone: false };
        ranges.forEach(([s, e], i) => {
          if (e - s < 9 || !(buf[s]! >= 48 && buf[s]! <= 57 && buf[s + 4] === 45)) return;
          const n = parseIsoBytes(buf, s, e, iso);
          const ctx = CONTEXTS[(zones[i] ?? 0) % 2]!;
          expect(slow[i]).toEqual(n === 0 ? [false, 0, 0] : [true, iso.hasZone ? iso.us : ctx.local(iso.us), iso.precision]);
        });
      }),
      { numRuns: 1500 },
    );
    // Repeated seconds happened (the cache was used), or the test proves nothing.
    expect(hits).toBeGreaterThan(2000);
  });

  it('reads a time as Date.parse does, cached or not', () => {
    const out = newLineOut();
    const buf = Buffer.from('"2024-02-29T23:59:59.999Z","2024-02-29T23:59:59.001+01:00","2024-02-29T23:59:58.5Z"');
    const expected = ['2024-02-29T23:59:59.999Z', '2024-02-29T22:59:59.001Z', '2024-02-29T23:59:58.500Z'];
    let pos = 1;
    for (const want of expected) {
      const end = buf.indexOf(34, pos);
      expect(timeValue(buf, pos, end, out, CONTEXTS[0]!)).toBe(true);
      expect(out.us).toBe(Date.parse(want) * 1000);
      pos = end + 3;
    }
  });
});
