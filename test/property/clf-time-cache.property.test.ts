/**
 * Access log lines reuse the time of the line before when their `dd/Mon/yyyy:HH:MM:SS ±zzzz]`
 * bytes are the same (web.ts `last`): the cached reading must equal the full one, line for
 * line, on timestamps that repeat, differ in one byte (the zone's minutes, the seconds, the
 * month), carry fractions or no zone, in several --timezone contexts, with bytes mutated.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseContext } from '../../src/parse/context.js';
import { ENTRY, newLineOut } from '../../src/parse/format.js';
import { combinedFormat, commonFormat } from '../../src/parse/formats/web.js';
import { type LineResult, lineResult } from '../helpers/line-results.js';

const CONTEXTS = [new ParseContext({ timezone: 'UTC' }), new ParseContext({ timezone: 'America/New_York' })];
const STAMP = fc.tuple(
  fc.constantFrom('15/Jan/2024:10:30:45', '15/Jan/2024:10:30:46', '15/Feb/2024:10:30:45', '29/Feb/2024:23:59:59', '10/Mar/2024:02:30:00'),
  fc.constantFrom('', '.123', '.5', '.12345'),
  fc.constantFrom(' +0000', ' +0030', ' +0100', ' -0500', ' +0000', ' GMT', ''),
).map(([t, f, z]) => `${t}${f}${z}`);
/** A line's stamp: mostly the one of the line before (null), as in a busy access log. */
const LINE = fc.tuple(
  fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: STAMP }),
  fc.constantFrom(200, 404, 503),
  fc.option(fc.tuple(fc.nat(), fc.constantFrom(...'0:]+ "/'.split('')))),
);

function render(lines: [string | null, number, [number, string] | null][], first: string): string[] {
  let stamp = first;
  return lines.map(([s, status, mutation]) => {
    stamp = s ?? stamp;
    let line = `10.0.0.1 - - [${stamp}] "GET /x HTTP/1.1" ${status} 12`;
    if (mutation !== null) {
      const i = 14 + (mutation[0] % 30);
      line = line.slice(0, i) + mutation[1] + line.slice(i + 1);
    }
    return line;
  });
}

type Result = LineResult;

describe('access log time cache', () => {
  it('reads every line exactly as without the cache', () => {
    let hits = 0;
    fc.assert(
      fc.property(STAMP, fc.array(LINE, { minLength: 2, maxLength: 20 }), fc.array(fc.nat(1)), fc.boolean(), (first, specs, zones, combined) => {
        const lines = render(specs, first);
        const format = combined ? combinedFormat : commonFormat;
        const buf = Buffer.from(lines.join('\n'));
        const ranges: [number, number][] = [];
        for (let pos = 0; pos <= buf.length; ) {
          let nl = buf.indexOf(10, pos);
          if (nl < 0) nl = buf.length;
          ranges.push([pos, nl]);
          pos = nl + 1;
        }
        const out = newLineOut();
        // The reference reads each line right after a line of another time, so nothing is reused.
        const other = Buffer.from('10.0.0.1 - - [01/Jan/2000:00:00:00 +0000] "GET / HTTP/1.1" 200 1');
        const parse = (cached: boolean): Result[] => {
          format.parseLine(other, 0, other.length, out, CONTEXTS[0]!);
          return ranges.map(([s, e], i) => {
            if (!cached) format.parseLine(other, 0, other.length, out, CONTEXTS[0]!);
            // The zone may change between lines (a context per file): a cached time is the old zone's.
            return lineResult(format.parseLine(buf, s, e, out, CONTEXTS[(zones[i] ?? 0) % 2]!), out);
          });
        };
        const fast = parse(true);
        for (let i = 1; i < lines.length; i++) if (fast[i]![0] === ENTRY && lines[i]!.slice(0, 44) === lines[i - 1]!.slice(0, 44)) hits++;
        expect(fast).toEqual(parse(false));
      }),
      { numRuns: 1000 },
    );
    // Repeated timestamps happened (the cache was used), or the test proves nothing.
    expect(hits).toBeGreaterThan(100);
  });
});
