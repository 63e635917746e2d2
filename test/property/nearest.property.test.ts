/**
 * findNearest against a brute-force scan (test/helpers/brute-force.ts), with inputs that reach
 * the order rules (issue 18): query times drawn from the data (on an entry, next to one, at
 * the midpoint between two timestamps, beyond either end), deliberate equal timestamps within
 * and across sources, chunks small enough to seal every few entries plus explicit seals, and
 * late lines. Each property also counts how many of its queries a tie rule decided and fails
 * when too few did: a generator that stops producing ties makes the test fail, not pass.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findNearest, neighbours, type Direction, type Hit, type SourceIndex } from '../../src/index/index.js';
import { metaTag } from '../../src/parse/meta.js';
import { type Row, bruteForce } from '../helpers/brute-force.js';
import {
  buildSource, maxDistanceArb, maxDistanceFrom, shapeArb, type Shape, TieTally, tiesUsed, timeFrom, timePickArb,
} from '../helpers/index-data.js';

const key = (ts: number, line: number, rank: number): string => `${rank}:${line}@${ts}`;

function expectAgrees(sources: readonly SourceIndex[], rows: readonly Row[], hits: readonly Hit[], expected: readonly Row[], what: string): void {
  expect(hits.map((h) => key(h.ts, h.line, h.source.rank)), what).toEqual(expected.map((r) => key(r.ts, r.line, r.rank)));
  const byKey = new Map(rows.map((r) => [key(r.ts, r.line, r.rank), r]));
  for (const h of hits) {
    const row = byKey.get(key(h.ts, h.line, h.source.rank))!;
    expect(h.source).toBe(sources[row.rank]);
    expect(metaTag(h.seg.meta[h.i]!), what).toBe(row.tag);
    expect(h.seg.bodyPosAt(h.i), what).toBe(row.bodyPos);
  }
}

const queryArb = fc.record({
  time: timePickArb,
  tags: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 5 }).map((t) => [t]) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }) },
  ),
  count: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.integer({ min: 2, max: 12 }) }, { weight: 1, arbitrary: fc.constant(400) }),
  direction: fc.constantFrom<Direction>('nearest', 'nearest', 'before', 'after'),
  maxDistance: maxDistanceArb,
});

type Query = typeof queryArb extends fc.Arbitrary<infer Q> ? Q : never;

/** Runs each query against the index and the brute force; tallies the ties that decided answers. */
function checkQueries(shapes: readonly Shape[], queries: readonly Query[], tally: TieTally, countOne: TieTally): void {
  const built = shapes.map((shape, rank) => buildSource(shape, rank));
  const sources = built.map((b) => b.index);
  const rows = built.flatMap((b) => b.rows);
  for (const q of queries) {
    const t = timeFrom(rows, q.time, q.tags);
    const maxDistance = maxDistanceFrom(rows, t, q.maxDistance);
    const spec = { t, tags: q.tags, count: q.count, direction: q.direction, maxDistance };
    const expected = bruteForce(rows, t, q.tags, q.count, q.direction, maxDistance);
    expectAgrees(sources, rows, findNearest(sources, spec), expected, JSON.stringify({ ...spec, maxDistance: String(maxDistance) }));
    const use = tiesUsed(rows, t, q.tags, q.count, q.direction, maxDistance);
    tally.add(use, expected.length);
    if (q.count === 1) countOne.add(use, expected.length);
  }
}

/** The inputs reach every tie rule, in the general merge and in the count=1 paths (issue 18: 0 of 6,000 inputs of the old generators had an equal-distance tie on both sides). */
function expectTiesReached(tally: TieTally, countOne: TieTally, minimum: { distance: number; source: number; line: number }, maxEmpty = 0.25): void {
  expect(tally.queries).toBeGreaterThan(1_500);
  expect(tally.share('empty')).toBeLessThan(maxEmpty);
  for (const t of [tally, countOne]) {
    expect(t.share('distance')).toBeGreaterThan(minimum.distance);
    expect(t.share('source')).toBeGreaterThan(minimum.source);
    expect(t.share('line')).toBeGreaterThan(minimum.line);
  }
}

describe('findNearest agrees with a brute-force scan', () => {
  it('for every direction, tag filter, count and distance limit, over 1 to 3 sources', () => {
    const tally = new TieTally();
    const countOne = new TieTally();
    fc.assert(
      fc.property(
        fc.array(shapeArb(), { minLength: 1, maxLength: 3 }),
        fc.array(queryArb, { minLength: 8, maxLength: 16 }),
        (shapes, queries) => checkQueries(shapes, queries, tally, countOne),
      ),
      { numRuns: 300 },
    );
    expectTiesReached(tally, countOne, { distance: 0.05, source: 0.02, line: 0.08 });
  });

  it('the same when the sources share one clock (equal timestamps across sources in every query)', () => {
    const tally = new TieTally();
    const countOne = new TieTally();
    fc.assert(
      fc.property(
        shapeArb(),
        fc.integer({ min: 2, max: 3 }),
        fc.array(queryArb, { minLength: 8, maxLength: 16 }),
        // Same seed: the sources' timestamps coincide, their tags and lines differ by rank.
        (shape, n, queries) => checkQueries(Array.from({ length: n }, () => shape), queries, tally, countOne),
      ),
      { numRuns: 150 },
    );
    // Empty answers: 20-24 % of the queries over 8 seeds here (13-17 % in the test above), so
    // the 25 % bound of the other properties failed about 1 run in 9.
    expectTiesReached(tally, countOne, { distance: 0.05, source: 0.1, line: 0.08 }, 0.35);
  });

  it('context neighbours are the adjacent entries of the same source in (time, line) order', () => {
    fc.assert(
      fc.property(shapeArb(), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 6 }), (shape, picks, n) => {
        const { rows, index } = buildSource(shape, 0);
        if (rows.length === 0) return;
        const sorted = [...rows].sort((x, y) => x.ts - y.ts || x.line - y.line);
        for (const pick of picks) {
          const at = pick % sorted.length;
          const target = sorted[at]!;
          const hit = findNearest([index], { t: target.ts, tags: null, count: sorted.length, direction: 'after', maxDistance: 0 }).find((h) => h.line === target.line);
          expect(hit).toBeDefined();
          expect(neighbours(hit!, n, true).map((h) => h.line)).toEqual(sorted.slice(at + 1, at + 1 + n).map((r) => r.line));
          expect(neighbours(hit!, n, false).map((h) => h.line)).toEqual(sorted.slice(Math.max(0, at - n), at).map((r) => r.line));
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** Chunk starts that continue a run of equal timestamps from the chunk before. */
function tieRunsAcrossChunks(index: SourceIndex): number {
  const main = index.main;
  let n = 0;
  for (let s = main.firstSegment + 1; s < main.segmentCount; s++) {
    const prev = main.segment(s - 1);
    if (prev.count > 0 && main.segment(s).ts[0] === prev.ts[prev.count - 1]) n++;
  }
  return n;
}

describe('the count=1 fast paths (one in-order source, nearest) agree with a brute-force scan', () => {
  it('unfiltered and single-tag, sealed chunks included', () => {
    const tally = new TieTally();
    let crossChunk = 0;
    fc.assert(
      fc.property(
        shapeArb({ late: false }),
        fc.array(fc.record({ time: timePickArb, tag: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }), maxDistance: maxDistanceArb }), { minLength: 10, maxLength: 20 }),
        (shape, queries) => {
          const { rows, index } = buildSource(shape, 0);
          expect(index.late.entries).toBe(0);
          if (tieRunsAcrossChunks(index) > 0) crossChunk++;
          for (const q of queries) {
            const tags = q.tag === null ? null : [q.tag];
            const t = timeFrom(rows, q.time, tags);
            const maxDistance = maxDistanceFrom(rows, t, q.maxDistance);
            const expected = bruteForce(rows, t, tags, 1, 'nearest', maxDistance);
            expectAgrees([index], rows, findNearest([index], { t, tags, count: 1, direction: 'nearest', maxDistance }), expected, JSON.stringify({ t, tags, maxDistance: String(maxDistance) }));
            tally.add(tiesUsed(rows, t, tags, 1, 'nearest', maxDistance), expected.length);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(tally.queries).toBeGreaterThan(3_000);
    expect(tally.share('distance')).toBeGreaterThan(0.08);
    expect(tally.share('line')).toBeGreaterThan(0.05);
    // Runs of equal timestamps crossing a chunk start (the fast paths hand those to the
    // general path) occur in many inputs.
    expect(crossChunk).toBeGreaterThan(20);
  });
});
