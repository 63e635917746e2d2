import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceIndex, findNearest, neighbours, type Direction, type Hit } from '../../src/index/index.js';
import { packMeta, metaTag } from '../../src/parse/meta.js';
import { type Row, bruteForce } from '../helpers/brute-force.js';

/** Builds one SourceIndex per source from rows in file order (line order). */
function build(rowsBySource: Row[][], chunkCapacity: number): SourceIndex[] {
  return rowsBySource.map((rows, rank) => {
    const index = new SourceIndex(`s${rank}`, rank, chunkCapacity);
    for (const r of rows) index.append(r.ts, packMeta(r.tag, 3), r.line, r.bodyPos, 10);
    return index;
  });
}


const key = (h: { ts: number; line: number }, rank: number): string => `${rank}:${h.line}@${h.ts}`;

/** Rows for one source: mostly increasing timestamps with ties, gaps and late lines. */
const sourceRows = (rank: number): fc.Arbitrary<Row[]> =>
  fc
    .array(
      fc.record({
        step: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 })),
        late: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }) }),
        tag: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constant(5) }),
        lineGap: fc.integer({ min: 1, max: 3 }),
      }),
      { maxLength: 300 },
    )
    .map((steps) => {
      let clock = 1_000;
      let line = 0;
      return steps.map((s, i) => {
        clock += s.step;
        line += s.lineGap;
        return { ts: clock - s.late, tag: s.tag, line, rank, bodyPos: rank * 1e6 + i * 7 };
      });
    });

describe('findNearest agrees with a brute-force scan', () => {
  it('for every direction, tag filter, count and distance limit', () => {
    fc.assert(
      fc.property(
        fc.tuple(sourceRows(0), sourceRows(1)),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 64, max: 100 })),
        fc.integer({ min: 0, max: 3000 }),
        fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }), { nil: null }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom<Direction>('nearest', 'before', 'after'),
        fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
        fc.boolean(),
        ([a, b], capacity, t, tags, count, direction, maxDistance, oneSource) => {
          const bySource = oneSource ? [a] : [a, b];
          const sources = build(bySource, capacity);
          const hits = findNearest(sources, { t, tags, count, direction, maxDistance: maxDistance ?? Infinity });
          const expected = bruteForce(bySource.flat(), t, tags, count, direction, maxDistance ?? Infinity);
          expect(hits.map((h) => key(h, h.source.rank))).toEqual(expected.map((r) => key(r, r.rank)));
          for (const h of hits) {
            const row = bySource[h.source.rank]!.find((r) => r.line === h.line)!;
            expect(metaTag(h.seg.meta[h.i]!)).toBe(row.tag);
            expect(h.seg.bodyPosAt(h.i)).toBe(row.bodyPos);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it('context neighbours are the adjacent entries of the same source in (time, line) order', () => {
    fc.assert(
      fc.property(sourceRows(0), fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 64, max: 100 })), fc.nat(), fc.integer({ min: 0, max: 6 }), (rows, capacity, pick, n) => {
        if (rows.length === 0) return;
        const [source] = build([rows], capacity);
        const sorted = [...rows].sort((x, y) => x.ts - y.ts || x.line - y.line);
        const at = pick % sorted.length;
        const target = sorted[at]!;
        const [hit] = findNearest([source!], { t: target.ts, tags: null, count: sorted.length, direction: 'after', maxDistance: Infinity })
          .filter((h) => h.line === target.line);
        expect(hit).toBeDefined();
        const after = neighbours(hit as Hit, n, true).map((h) => h.line);
        const before = neighbours(hit as Hit, n, false).map((h) => h.line);
        expect(after).toEqual(sorted.slice(at + 1, at + 1 + n).map((r) => r.line));
        expect(before).toEqual(sorted.slice(Math.max(0, at - n), at).map((r) => r.line));
      }),
      { numRuns: 400 },
    );
  });
});

describe('the count=1 fast paths (one in-order source) agree with a brute-force scan', () => {
  /** In-order rows with many equal timestamps and equal distances on both sides. */
  const inOrder = fc
    .array(fc.record({ step: fc.oneof(fc.constant(0), fc.constant(2), fc.integer({ min: 0, max: 9 })), tag: fc.integer({ min: 0, max: 5 }) }), { maxLength: 400 })
    .map((steps) => {
      let clock = 100;
      return steps.map((s, i) => ((clock += s.step), { ts: clock, tag: s.tag, line: i + 1, rank: 0, bodyPos: i * 3 }));
    });

  it('unfiltered and single-tag nearest', () => {
    fc.assert(
      fc.property(
        inOrder,
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 64, max: 100 })),
        fc.integer({ min: 0, max: 2000 }),
        fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
        fc.option(fc.integer({ min: 0, max: 30 }), { nil: null }),
        (rows, capacity, t, tag, maxDistance) => {
          const sources = build([rows], capacity);
          expect(sources[0]!.late.entries).toBe(0);
          const tags = tag === null ? null : [tag];
          const hits = findNearest(sources, { t, tags, count: 1, direction: 'nearest', maxDistance: maxDistance ?? Infinity });
          const expected = bruteForce(rows, t, tags, 1, 'nearest', maxDistance ?? Infinity);
          expect(hits.map((h) => key(h, 0))).toEqual(expected.map((r) => key(r, 0)));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
