/**
 * The late store under load: more than 1,024 entries that arrive too late for the main run
 * (so the sorted buffer overflows into runs, and runs merge) must still answer every query
 * mode exactly like a brute-force scan. Checkpoints seal the active chunk at random points.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceIndex, countInRange, findNearest, neighbours, type Direction } from '../../src/index/index.js';
import { metaTag, packMeta } from '../../src/parse/meta.js';
import { type Row, bruteForce } from '../helpers/brute-force.js';


/** mulberry32: the big arrays come from a seed so fast-check shrinks the knobs, not 5,000 rows. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shape {
  seed: number;
  inOrder: number;
  late: number;
  /** Share of appends that are late (the rest move the clock forward). */
  lateShare: number;
  /** Timestamps are multiples of this (a coarse grid makes many ties). */
  grid: number;
  chunkCapacity: number;
  /** Seal the active chunk (a checkpoint) with this probability per append. */
  sealRate: number;
}

/** Rows in file order for one source, and the index built from them. */
function build(shape: Shape, rank: number): { rows: Row[]; index: SourceIndex } {
  const rand = prng(shape.seed + rank * 7919);
  const index = new SourceIndex(`s${rank}`, rank, shape.chunkCapacity);
  const rows: Row[] = [];
  let clock = 0;
  let inOrder = shape.inOrder;
  let late = shape.late;
  let line = 0;
  while (inOrder + late > 0) {
    const isLate = late > 0 && (inOrder === 0 || rand() < shape.lateShare);
    let ts: number;
    if (isLate) {
      late--;
      // Anywhere in the past, mostly far behind the last 1,024 entries.
      ts = Math.floor(rand() * (clock + 1) / shape.grid) * shape.grid;
    } else {
      inOrder--;
      clock += Math.floor(rand() * 4) * shape.grid;
      ts = clock;
    }
    line += 1 + Math.floor(rand() * 2);
    const tag = rand() < 0.03 ? 5 : Math.floor(rand() * 5);
    const row = { ts, tag, line, rank, bodyPos: rank * 1e9 + rows.length * 10 };
    rows.push(row);
    index.append(row.ts, packMeta(row.tag, 3), row.line, row.bodyPos, 10);
    if (rand() < shape.sealRate) index.main.sealActive();
  }
  return { rows, index };
}

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  inOrder: fc.integer({ min: 0, max: 3000 }),
  late: fc.integer({ min: 1100, max: 4000 }),
  lateShare: fc.double({ min: 0.05, max: 0.9, noNaN: true }),
  grid: fc.constantFrom(1, 10, 1000),
  chunkCapacity: fc.constantFrom(64, 500, 4096, 1 << 16),
  sealRate: fc.constantFrom(0, 0, 0.001, 0.01),
});

const key = (ts: number, line: number, rank: number): string => `${rank}:${line}@${ts}`;

describe('late store with more than 1,024 late entries', () => {
  it('really builds several runs (the scenario is not vacuous)', () => {
    const { index } = build({ seed: 1, inOrder: 3000, late: 5000, lateShare: 0.5, grid: 1, chunkCapacity: 4096, sealRate: 0 }, 0);
    expect(index.late.entries).toBeGreaterThan(1024 * 2);
    expect(index.late.sequences().length).toBeGreaterThanOrEqual(2);
    expect(index.entries).toBe(8000);
  });

  it('findNearest agrees with brute force in every direction, tag filter and distance', () => {
    fc.assert(
      fc.property(
        shapeArb,
        fc.boolean(),
        fc.array(
          fc.record({
            at: fc.double({ min: -0.05, max: 1.05, noNaN: true }),
            tags: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }), { nil: null }),
            count: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(100)),
            direction: fc.constantFrom<Direction>('nearest', 'before', 'after'),
            maxDistance: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: null }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (shape, twoSources, queries) => {
          const built = [build(shape, 0), ...(twoSources ? [build({ ...shape, seed: shape.seed ^ 0x5bd1e995 }, 1)] : [])];
          const sources = built.map((b) => b.index);
          const rows = built.flatMap((b) => b.rows);
          const byKey = new Map(rows.map((r) => [key(r.ts, r.line, r.rank), r]));
          const span = Math.max(...rows.map((r) => r.ts));
          for (const q of queries) {
            const t = Math.round(q.at * span);
            const maxDistance = q.maxDistance ?? Infinity;
            const hits = findNearest(sources, { t, tags: q.tags, count: q.count, direction: q.direction, maxDistance });
            const expected = bruteForce(rows, t, q.tags, q.count, q.direction, maxDistance);
            expect(hits.map((h) => key(h.ts, h.line, h.source.rank))).toEqual(expected.map((r) => key(r.ts, r.line, r.rank)));
            for (const h of hits) {
              const row = byKey.get(key(h.ts, h.line, h.source.rank))!;
              expect(metaTag(h.seg.meta[h.i]!)).toBe(row.tag);
              expect(h.seg.bodyPosAt(h.i)).toBe(row.bodyPos);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('countInRange agrees with brute force, with and without tags', () => {
    fc.assert(
      fc.property(
        shapeArb,
        fc.array(fc.tuple(fc.double({ min: -0.05, max: 1.05, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 2 }), { nil: null })), { minLength: 1, maxLength: 10 }),
        (shape, ranges) => {
          const { rows, index } = build(shape, 0);
          const span = Math.max(...rows.map((r) => r.ts));
          expect(countInRange([index], -Infinity, Infinity, null)).toBe(rows.length);
          for (const [at, width, tags] of ranges) {
            const from = Math.round(at * span);
            const to = from + Math.round(width * span) + 1;
            const expected = rows.filter((r) => r.ts >= from && r.ts < to && (tags === null || tags.includes(r.tag))).length;
            expect(countInRange([index], from, to, tags)).toBe(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('context neighbours walk main and late runs together in (time, line) order', () => {
    fc.assert(
      fc.property(shapeArb, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 20 }), (shape, picks, n) => {
        const { rows, index } = build(shape, 0);
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
      { numRuns: 40 },
    );
  });

  it('appends after a checkpoint sealed the active chunk are still found (regression: sealed chunk kept taking appends)', () => {
    const index = new SourceIndex('s0', 0, 1 << 16);
    const rows: Row[] = [];
    const add = (ts: number): void => {
      const row = { ts, tag: 2, line: rows.length + 1, rank: 0, bodyPos: rows.length * 10 };
      rows.push(row);
      index.append(ts, packMeta(2, 3), row.line, row.bodyPos, 10);
    };
    for (let i = 0; i < 1000; i++) add(i * 10);
    index.main.sealActive(); // builds the radix table over [0, 9990]
    for (let i = 1000; i < 3000; i++) add(i * 10);
    add(9995); // slightly late, lands among the sealed entries
    for (const t of [5, 9990, 10_000, 15_000, 29_990, 9995]) {
      const hits = findNearest([index], { t, tags: null, count: 3, direction: 'nearest', maxDistance: Infinity });
      const expected = bruteForce(rows, t, null, 3, 'nearest', Infinity);
      expect(hits.map((h) => key(h.ts, h.line, 0)), `t=${t}`).toEqual(expected.map((r) => key(r.ts, r.line, 0)));
    }
    expect(countInRange([index], 15_000, 20_000, null)).toBe(500);
  });
});
