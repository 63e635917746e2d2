/**
 * The group filters the parse workers build (buildGroupFilters, unrolled four bytes a turn)
 * hold exactly the bits a needle probes: for every body, each of its trigrams' needleBits is
 * set in its group's filter (no false "cannot match"), and no other bit is set (the filter
 * is the trigram set, nothing more). Bodies of every length up to a few turns of the loop,
 * upper case and non-ASCII bytes, on a Buffer (the worker's type) at an offset.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FILTER_GROUP, FILTER_WORDS, buildGroupFilters, needleBits } from '../../src/text/ngram-filter.js';

const byte = fc.oneof(fc.constantFrom(65, 90, 97, 122, 32, 0x41 + 7), fc.integer({ min: 0, max: 255 }));
const bodies = fc.array(fc.array(byte, { maxLength: 14 }), { minLength: 1, maxLength: 700 });

describe('buildGroupFilters', () => {
  it('sets exactly the bits of every trigram of every body, in its group', () => {
    fc.assert(
      fc.property(bodies, fc.integer({ min: 0, max: 7 }), (list, pad) => {
        const buf = Buffer.alloc(pad + list.reduce((n, b) => n + b.length + 1, 0));
        const starts: number[] = [];
        const ends: number[] = [];
        let pos = pad;
        for (const b of list) {
          buf.set(b, pos);
          starts.push(pos);
          ends.push(pos + b.length);
          pos += b.length + 1;
        }
        const words = buildGroupFilters(buf, list.length, starts, ends);
        const expected = new Uint32Array(Math.ceil(list.length / FILTER_GROUP) * FILTER_WORDS);
        list.forEach((b, e) => {
          const at = Math.floor(e / FILTER_GROUP) * FILTER_WORDS;
          // needleBits of each trigram alone, as a case-sensitive query would probe it.
          for (let i = 0; i + 3 <= b.length; i++) {
            for (const bit of needleBits(Uint8Array.from(b.slice(i, i + 3)), false)) expected[at + (bit >>> 5)]! |= 1 << (bit & 31);
          }
        });
        expect(Array.from(words)).toEqual(Array.from(expected));
      }),
      { numRuns: 200 },
    );
  });
});
