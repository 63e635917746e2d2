/**
 * json-scan reads a record's members backwards (readMemberBack: bunyan's time, Docker's
 * stream and time come after a long message) exactly as readMember reads them forwards: the
 * same keys and value ranges, last member first, for string values with quotes and
 * backslashes escaped at every offset (the backward quote search skips bytes four at a time).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { member, objectEnd, objectStart, readMember, readMemberBack } from '../../src/parse/json-scan.js';

const text = fc.array(fc.oneof(fc.constantFrom('"', '\\', 'a', ' ', ':', ',', '{'), fc.string({ maxLength: 3 })), { maxLength: 12 }).map((a) => a.join(''));
const value = fc.oneof(text, fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.constantFrom(true, null));
const record = fc.array(fc.tuple(text, value), { minLength: 1, maxLength: 6 });

type Read = [number, number, number, number, number];
const read = (): Read => [member.keyStart, member.keyEnd, member.valStart, member.valEnd, member.kind];

describe('readMemberBack', () => {
  it('reads the same members as readMember, from the end', () => {
    fc.assert(
      fc.property(record, fc.integer({ min: 0, max: 5 }), (members, pad) => {
        const line = ' '.repeat(pad) + '{' + members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',') + '}';
        const buf = Buffer.from(line);
        const forward: Read[] = [];
        let p = objectStart(buf, 0, buf.length);
        while ((p = readMember(buf, p, buf.length)) >= 0) forward.push(read());
        expect(forward).toHaveLength(members.length);
        const backward: Read[] = [];
        let q = objectEnd(buf, 0, buf.length);
        while (q > pad) {
          q = readMemberBack(buf, pad, q);
          expect(q).toBeGreaterThanOrEqual(pad);
          backward.push(read());
        }
        expect(backward.reverse()).toEqual(forward);
      }),
      { numRuns: 500 },
    );
  });
});
