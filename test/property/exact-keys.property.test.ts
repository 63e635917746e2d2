/**
 * Exact keys (src/index/tag-keys.ts): chunks whose timestamps are their first plus multiples
 * of a unit answer count-1 nearest queries from keyed run starts and exactly keyed tag lists
 * (src/index/nearest-main.ts) without reading the time column. Proven against brute force on
 * data made for it: multiples of a unit (1 us, 7 us, 1 ms), runs of equal timestamps (some
 * across chunk boundaries), bursts and short gaps, so that most sealed chunks get exact keys
 * and run starts; every query mode runs too, since the general path shares these chunks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceIndex, type Direction } from '../../src/index/index.js';
import { exactKeyUnit, exactLowerBound, exactTagLowerBound, keyAtOrAfter, keyOf } from '../../src/index/tag-keys.js';
import type { TimeChunk } from '../../src/index/time-chunk.js';
import { packMeta } from '../../src/parse/meta.js';
import { type Row, expectNearestAsBruteForce } from '../helpers/brute-force.js';

/** Sorted timestamps in steps of `unit`: runs of 1 to 30 equal values, mostly short steps. */
const timestamps = (maxLength: number): fc.Arbitrary<{ values: number[]; unit: number }> =>
  fc
    .tuple(
      fc.array(
        fc.record({
          step: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 4, max: 200 }) }),
          repeat: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 4, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
        }),
        { minLength: 1, maxLength: maxLength / 4, size: 'max' },
      ),
      fc.constantFrom(1, 7, 1000),
    )
    .map(([runs, unit]) => {
      let clock = 1_700_000_000_000_000;
      const values: number[] = [];
      for (const run of runs) {
        clock += run.step * unit;
        for (let k = 0; k < run.repeat && values.length < maxLength; k++) values.push(clock);
      }
      return { values, unit };
    });

/** Query times: exact, +-1 us, +-half a unit, midpoints between distinct times, outside. */
function queryTimes(ts: readonly number[], picks: readonly number[], unit: number): number[] {
  const out: number[] = [ts[0]! - 1, ts[ts.length - 1]! + 1];
  for (const p of picks) {
    const v = ts[p % ts.length]!;
    out.push(v, v - 1, v + 1, v - unit / 2, v + unit / 2);
    const next = ts.find((x) => x > v);
    if (next !== undefined) out.push((v + next) / 2, Math.floor((v + next) / 2), next - 0.5);
  }
  return out;
}

describe('exact keys', () => {
  it('the unit divides every offset, and the key bound finds the first key at or after any time', () => {
    fc.assert(
      fc.property(timestamps(2000), fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), ({ values, unit }, picks) => {
        const ts = Float64Array.from(values);
        const n = ts.length;
        const u = exactKeyUnit(ts, n);
        if (n < 2 || ts[0] === ts[n - 1]) return;
        expect(u % unit).toBe(0);
        for (const v of values) expect((v - values[0]!) % u).toBe(0);
        // One value per distinct timestamp, keyed as the chunk keys its run starts.
        const distinct = [...new Set(values)];
        const keyed = Uint32Array.from(distinct.map((v, j) => ((v - values[0]!) / u) * 65536 + j));
        const maxKey = (values[n - 1]! - values[0]!) / u;
        for (const t of queryTimes(values, picks, unit)) {
          const d = t - values[0]!;
          if (!(d > 0)) continue;
          const key = keyAtOrAfter(d, u);
          expect(key * u >= d && (key - 1) * u < d, `d=${d}`).toBe(true);
          if (key > maxKey) continue;
          let expected = 0;
          while (expected < distinct.length && distinct[expected]! < t) expected++;
          const j = exactLowerBound(keyed, keyed.length, key, maxKey);
          expect(j, `t=${t}`).toBe(expected);
          expect(values[0]! + keyOf(keyed[j]!) * u).toBe(distinct[j]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a tag's keyed list: the windowed search around the guess finds the first key at or after any key", () => {
    // Stretches of different densities (ties included) put the interpolated guess anywhere
    // from on the answer to thousands of slots off: inside the window, and beyond it both ways.
    // The chunk's last key (maxKey) may lie past the tag's last entry. Lists of about the
    // window's size (128) are common: a list shorter than the window must not read past its end.
    const stretches = fc.array(
      fc.record({ count: fc.integer({ min: 1, max: 400 }), gap: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 3, max: 60 })) }),
      { minLength: 1, maxLength: 12 },
    );
    const lengths = fc.oneof(fc.integer({ min: 100, max: 160 }), fc.integer({ min: 0, max: 3000 }));
    fc.assert(
      fc.property(stretches, lengths, fc.integer({ min: 0, max: 300 }), fc.array(fc.nat(), { maxLength: 200 }), (parts, length, past, picks) => {
        const keys: number[] = [];
        let key = 0;
        // The stretches repeat until the list has its length (or the keys their 16 bits).
        while (keys.length < length && key < 65536) {
          for (const { count, gap } of parts) {
            for (let k = 0; k < count && key < 65536 && keys.length < length; k++) {
              keys.push(key);
              key += k % 3 === 0 ? gap : Math.min(gap, 1);
            }
          }
        }
        const n = keys.length;
        if (n === 0) return;
        const keyed = Uint32Array.from(keys.map((k, j) => k * 65536 + j));
        const maxKey = Math.min(65535, keys[n - 1]! + past);
        const queries = maxKey <= 4000 ? Array.from({ length: maxKey + 1 }, (_, k) => k) : picks.map((p) => p % (maxKey + 1));
        let expected = 0;
        for (const q of queries.sort((a, b) => a - b)) {
          while (expected < n && keys[expected]! < q) expected++;
          expect(exactTagLowerBound(keyed, n, q, maxKey), `key ${q} of ${maxKey}, n ${n}`).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('nearest queries over chunks with exact keys agree with brute force, every mode', () => {
    fc.assert(
      fc.property(
        timestamps(1500),
        fc.array(fc.nat(), { minLength: 7, maxLength: 64 }),
        fc.integer({ min: 100, max: 400 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        fc.constantFrom<number[] | null>(null, null, [4], [5], [0], [4, 5]),
        fc.constantFrom<Direction>('nearest', 'nearest', 'nearest', 'before', 'after'),
        fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 5 }) }),
        fc.option(fc.integer({ min: 0, max: 3000 }), { nil: null }),
        ({ values, unit }, tagSeeds, capacity, picks, tags, direction, count, maxDistance) => {
          // A rare tag (5), a 1-in-20 tag (4); half the rows take their tag from their time,
          // so equal timestamps share tags (ties among tagged entries).
          const rows: Row[] = values.map((ts, i) => {
            const r = tagSeeds[(tagSeeds[i % tagSeeds.length]! % 2 === 0 ? Math.floor(ts / unit) : i) % tagSeeds.length]!;
            const tag = r % 97 === 0 ? 5 : r % 20 === 0 ? 4 : r % 4;
            return { ts, tag, line: i + 1, rank: 0, bodyPos: i * 11 };
          });
          const index = new SourceIndex('s0', 0, capacity);
          for (const r of rows) index.append(r.ts, packMeta(r.tag, 6), r.line, r.bodyPos, 10);
          index.main.sealActive();
          // The path under test is there: a sealed chunk with runs of ~10 equal timestamps and
          // a span under 65,536 units has exact keys and keyed run starts.
          const c = index.main.segment(0) as TimeChunk;
          if (c.count === capacity && c.lastTs > c.firstTs) {
            expect(c.keyUnit > 0 && c.keyUnit % unit === 0).toBe(true);
            if (new Set(c.ts.subarray(0, c.count)).size * 4 <= c.count) expect(c.runKeys).toBeDefined();
          }
          const limit = maxDistance ?? Infinity;
          const boundaries: number[] = [];
          for (let i = capacity; i < values.length; i += capacity) boundaries.push(i - 1, i);
          for (const t of queryTimes(values, [...picks, ...boundaries], unit)) {
            expectNearestAsBruteForce(index, rows, t, tags, count, direction, limit);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
