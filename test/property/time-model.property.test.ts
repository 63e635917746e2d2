/**
 * The sealed chunk's search structures (src/index/time-model.ts, src/index/tag-keys.ts) and
 * the fast paths built on them (src/index/nearest-main.ts), proven against brute force.
 *
 * Query times are drawn from the data: exact entry times, one microsecond either side,
 * midpoints between neighbouring distinct times (where both neighbours are equally near),
 * and points outside the range. Timestamps come in runs of equal values, bursts and gaps,
 * and chunk sizes make several chunks seal (each gets a model and keyed lists).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceIndex, type Direction } from '../../src/index/index.js';
import { keyScaleOf, keyedLowerBound, buildKeyedList } from '../../src/index/tag-keys.js';
import { buildTimeModel, modelLowerBound, modelWindow } from '../../src/index/time-model.js';
import { packMeta } from '../../src/parse/meta.js';
import { type Row, expectNearestAsBruteForce } from '../helpers/brute-force.js';

/**
 * Sorted timestamps: steady steps, runs of equal values (some long enough to cross a chunk
 * boundary), bursts of tiny steps and long gaps.
 */
const timestamps = (maxLength: number): fc.Arbitrary<number[]> =>
  fc
    .array(
      fc.record({
        step: fc.oneof(
          { weight: 5, arbitrary: fc.integer({ min: 1, max: 20 }) },
          { weight: 1, arbitrary: fc.integer({ min: 500, max: 100_000 }) },
        ),
        repeat: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 4, max: 60 }) }),
      }),
      // size 'max': fast-check's default sizes stay near 10 elements, too few to seal chunks.
      { minLength: 1, maxLength: maxLength / 4, size: 'max' },
    )
    .chain((runs) =>
      // A burst: a stretch of runs whose steps are 0 or 1 (timestamps much denser).
      fc.tuple(fc.constant(runs), fc.nat(runs.length), fc.nat(runs.length)).map(([r, a, b]) => {
        let clock = 1_700_000_000_000_000;
        const out: number[] = [];
        r.forEach((run, i) => {
          clock += i >= Math.min(a, b) && i < Math.max(a, b) ? run.step % 2 : run.step;
          for (let k = 0; k < run.repeat && out.length < maxLength; k++) out.push(clock);
        });
        return out;
      }),
    );

/** Query times drawn from sorted data: exact, +-1 us, midpoints, outside the range. */
function queryTimes(ts: readonly number[], picks: readonly number[]): number[] {
  const out: number[] = [ts[0]! - 1, ts[ts.length - 1]! + 1];
  for (const p of picks) {
    const i = p % ts.length;
    const v = ts[i]!;
    out.push(v, v - 1, v + 1);
    const next = ts.find((x) => x > v);
    if (next !== undefined) out.push((v + next) / 2, Math.floor((v + next) / 2));
  }
  return out;
}

const lowerBound = (ts: ArrayLike<number>, n: number, t: number): number => {
  let i = 0;
  while (i < n && ts[i]! < t) i++;
  return i;
};

describe('the time model', () => {
  it('finds the lower bound of every query time, inside the window its error bound promises', () => {
    fc.assert(
      fc.property(timestamps(3000), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (values, picks) => {
        const ts = Float64Array.from(values);
        const n = ts.length;
        const model = buildTimeModel(ts, n);
        if (model === null) {
          expect(n < 2 || ts[0] === ts[n - 1]).toBe(true);
          return;
        }
        for (const t of queryTimes(values, picks)) {
          if (t <= ts[0]! || t > ts[n - 1]!) continue;
          const expected = lowerBound(ts, n, t);
          const w = modelWindow(model, t);
          // The bound is exact: the window holds the answer, so its fallback never runs.
          expect(w.lo <= expected && expected <= w.hi, `t=${t} window [${w.lo}, ${w.hi}] answer ${expected}`).toBe(true);
          expect(modelLowerBound(model.knots, model.min, model.scale, ts, t)).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keyed tag lists find the first tagged entry at or after any time', () => {
    fc.assert(
      fc.property(timestamps(2000), fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 40 }), fc.nat(), (values, picks, every, seed) => {
        const ts = Float64Array.from(values);
        const n = ts.length;
        // Every `every`-th entry, shifted by the seed, plus each entry of a run's first line.
        const list: number[] = [];
        for (let i = 0; i < n; i++) if ((i + seed) % every === 0) list.push(i);
        const keyed = buildKeyedList(ts, list, list.length, ts[0]!, keyScaleOf(ts[0]!, ts[n - 1]!));
        for (const t of queryTimes(values, picks)) {
          let expected = 0;
          while (expected < list.length && ts[list[expected]!]! < t) expected++;
          expect(keyedLowerBound(keyed, list.length, ts[0]!, keyScaleOf(ts[0]!, ts[n - 1]!), ts, t), `t=${t}`).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('nearest queries over sealed chunks agree with brute force', () => {
  /**
   * In-order rows (the fast paths' case) with a rare tag (5) and a 1-in-20 tag (4). Half the
   * rows take their tag from their timestamp, so runs of equal times share tags: ties among
   * tagged entries, within a chunk and across its boundaries.
   */
  const rowsOf = (values: readonly number[], tagSeeds: readonly number[]): Row[] =>
    values.map((ts, i) => {
      const r = tagSeeds[(tagSeeds[i % tagSeeds.length]! % 2 === 0 ? ts : i) % tagSeeds.length]!;
      const tag = r % 97 === 0 ? 5 : r % 20 === 0 ? 4 : r % 4;
      return { ts, tag, line: i + 1, rank: 0, bodyPos: i * 11 };
    });

  it('count 1 and count k, every direction and tag mode, query times from the data', () => {
    fc.assert(
      fc.property(
        timestamps(1500),
        fc.array(fc.nat(), { minLength: 7, maxLength: 64 }),
        fc.integer({ min: 100, max: 400 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        fc.constantFrom<number[] | null>(null, [4], [5], [0], [4, 5], [2, 4]),
        fc.constantFrom<Direction>('nearest', 'nearest', 'before', 'after'),
        fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 6 })),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
        (values, tagSeeds, capacity, picks, tags, direction, count, maxDistance) => {
          const rows = rowsOf(values, tagSeeds);
          const index = new SourceIndex('s0', 0, capacity);
          for (const r of rows) index.append(r.ts, packMeta(r.tag, 6), r.line, r.bodyPos, 10);
          index.main.sealActive();
          expect(index.late.entries).toBe(0);
          // The paths under test are there: every sealed chunk of distinct times has a model,
          // and the rare tags have keyed lists where they are rarer than 1 in 8.
          const first = index.main.segment(0);
          if (first.firstTs < first.lastTs) expect(first.model).not.toBeNull();
          const rare = first.tagCount(5);
          if (rare > 0 && rare * 8 < first.count && [0, 1, 2, 3, 4].every((tag) => first.tagCount(tag) > rare)) expect(first.keyedList(5)).toBeDefined();
          const limit = maxDistance ?? Infinity;
          // Query times from the data, and around every chunk boundary (ties across chunks).
          const boundaries: number[] = [];
          for (let i = capacity; i < values.length; i += capacity) boundaries.push(i - 1, i);
          for (const t of queryTimes(values, [...picks, ...boundaries])) {
            expectNearestAsBruteForce(index, rows, t, tags, count, direction, limit);
          }
        },
      ),
      { numRuns: 250 },
    );
  });

  it('count 1 nearest (the straight-line paths), unfiltered and one tag, around chunk boundaries', () => {
    fc.assert(
      fc.property(
        timestamps(1200),
        fc.array(fc.nat(), { minLength: 7, maxLength: 64 }),
        fc.integer({ min: 100, max: 300 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom<number[] | null>(null, [4], [5], [0]),
        fc.integer({ min: 1, max: 8 }),
        (raw, tagSeeds, capacity, picks, tags, spread) => {
          // A run of equal timestamps across every chunk boundary (sorted order is kept).
          const values = [...raw];
          for (let b = capacity; b < values.length; b += capacity) {
            const from = Math.max(0, b - spread);
            for (let i = from; i < Math.min(values.length, b + spread); i++) values[i] = values[from]!;
          }
          const rows = rowsOf(values, tagSeeds);
          const index = new SourceIndex('s0', 0, capacity);
          for (const r of rows) index.append(r.ts, packMeta(r.tag, 6), r.line, r.bodyPos, 10);
          if (values.length % 2 === 0) index.main.sealActive();
          const boundaries: number[] = [];
          for (let i = capacity; i < values.length; i += capacity) boundaries.push(i - 1, i);
          for (const t of queryTimes(values, [...picks, ...boundaries])) {
            expectNearestAsBruteForce(index, rows, t, tags, 1, 'nearest', Infinity);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
