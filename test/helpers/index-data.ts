/**
 * Index data for the search properties (issue 18): rows with deliberate ties, chunks small
 * enough to seal many times (and explicit seals, as checkpoints do), late lines, and query
 * times drawn from the data itself: an entry's time, a few units either side, the midpoint
 * between two neighbouring timestamps (equal distance on both sides), and beyond either end.
 * Random query times almost never land on a tie; these do by construction.
 *
 * Rows come from a seeded PRNG so fast-check shrinks a handful of knobs, not 400 records.
 */
import fc from 'fast-check';
import { SourceIndex, type Direction } from '../../src/index/index.js';
import { packMeta } from '../../src/parse/meta.js';
import { type Row, bruteForce } from './brute-force.js';

/** mulberry32. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Shape {
  seed: number;
  /** Entries of this source, in file order. */
  rows: number;
  /** Share of steps that repeat the previous timestamp (ties within a source). */
  tieShare: number;
  /** Share of entries stamped earlier than the clock (late lines: main-run inserts or the late store). */
  lateShare: number;
  /** How far back a late line may go, in clock units. */
  lateReach: number;
  /** Largest forward step in clock units (the clock moves by multiples of 2). */
  maxStep: number;
  chunkCapacity: number;
  /** Probability per append of sealing the active chunk (what a checkpoint does). */
  sealRate: number;
}

export const shapeArb = (options: { maxRows?: number; late?: boolean } = {}): fc.Arbitrary<Shape> =>
  fc.record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    rows: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: options.maxRows ?? 400 })),
    tieShare: fc.constantFrom(0, 0.2, 0.5, 0.8),
    lateShare: options.late === false ? fc.constant(0) : fc.constantFrom(0, 0, 0.05, 0.3),
    lateReach: fc.constantFrom(4, 40, 4000),
    maxStep: fc.constantFrom(1, 3, 50),
    chunkCapacity: fc.constantFrom(1, 2, 3, 5, 8, 64, 1 << 16),
    sealRate: fc.constantFrom(0, 0, 0.02, 0.2),
  });

/**
 * Rows of one source in file order and the index built from them. Timestamps are even
 * integers from a common origin, so two sources share timestamps and every midpoint between
 * two timestamps is an integer.
 */
export function buildSource(shape: Shape, rank: number): { rows: Row[]; index: SourceIndex } {
  const rand = prng(shape.seed * 31 + rank * 7919);
  const index = new SourceIndex(`s${rank}`, rank, shape.chunkCapacity);
  const rows: Row[] = [];
  let clock = 1_000;
  let line = 0;
  for (let n = 0; n < shape.rows; n++) {
    let ts: number;
    if (rows.length > 0 && rand() < shape.lateShare) {
      ts = Math.max(0, clock - 2 * Math.floor(rand() * shape.lateReach));
    } else {
      if (rows.length > 0 && rand() >= shape.tieShare) clock += 2 * (1 + Math.floor(rand() * shape.maxStep));
      ts = clock;
    }
    line += 1 + Math.floor(rand() * 2);
    // Common and rare tags: 2 to 5 are rarer than 1 in 8, so sealed chunks keep keyed lists
    // for several of them (tag-keys.ts), and 5 has one or two entries in many chunks.
    const tag = TAG_PICK[Math.floor(rand() * TAG_PICK.length)]!;
    const row = { ts, tag, line, rank, bodyPos: rank * 1e7 + n * 13 };
    rows.push(row);
    index.append(row.ts, packMeta(row.tag, 3), row.line, row.bodyPos, 10);
    if (rand() < shape.sealRate) index.main.sealActive();
  }
  return { rows, index };
}

/** Tag shares: 0 55 %, 1 20 %, 2 10 %, 3 8 %, 4 4 %, 5 3 %. */
const TAG_PICK: readonly number[] = [
  ...Array<number>(55).fill(0), ...Array<number>(20).fill(1), ...Array<number>(10).fill(2),
  ...Array<number>(8).fill(3), ...Array<number>(4).fill(4), ...Array<number>(3).fill(5),
];

/** How a query time is drawn from the data. */
export type TimeMode = 'entry' | 'near' | 'midpoint' | 'outside' | 'anywhere';

export interface TimePick {
  mode: TimeMode;
  /** Which entry (or pair of neighbouring distinct timestamps), modulo the choices. */
  pick: number;
  /** Offset for 'near' and 'outside', in clock units. */
  k: number;
}

export const timePickArb: fc.Arbitrary<TimePick> = fc.record({
  mode: fc.constantFrom<TimeMode>('entry', 'entry', 'near', 'midpoint', 'midpoint', 'midpoint', 'outside', 'anywhere'),
  pick: fc.nat(),
  k: fc.integer({ min: -6, max: 6 }),
});

/**
 * The query time a pick names in these rows; with tags, among the rows a tag filter keeps
 * (a midpoint between two ERROR lines is a tie for an ERROR query, rarely for any other).
 */
export function timeFrom(all: readonly Row[], p: TimePick, tags: readonly number[] | null = null): number {
  const kept = tags === null ? all : all.filter((r) => tags.includes(r.tag));
  const rows = kept.length > 0 ? kept : all;
  if (rows.length === 0) return 1_000 + p.k;
  const distinct = [...new Set(rows.map((r) => r.ts))].sort((a, b) => a - b);
  const lo = distinct[0]!;
  const hi = distinct[distinct.length - 1]!;
  switch (p.mode) {
    case 'entry':
      return rows[p.pick % rows.length]!.ts;
    case 'near':
      return rows[p.pick % rows.length]!.ts + p.k;
    case 'midpoint': {
      if (distinct.length < 2) return lo;
      const i = p.pick % (distinct.length - 1);
      return (distinct[i]! + distinct[i + 1]!) / 2;
    }
    case 'outside':
      return p.k < 0 ? lo + 2 * p.k : hi + 2 * Math.max(1, p.k);
    case 'anywhere':
      return lo - 20 + (p.pick % (hi - lo + 41));
  }
}

/** A distance limit drawn from the data: none, exactly an answer's distance, or one short of it. */
export const maxDistanceArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant<null | { pick: number; less: boolean }>(null) },
  { weight: 1, arbitrary: fc.record({ pick: fc.nat(), less: fc.boolean() }) },
);

export function maxDistanceFrom(rows: readonly Row[], t: number, spec: null | { pick: number; less: boolean }): number {
  if (spec === null || rows.length === 0) return Infinity;
  const d = Math.abs(rows[spec.pick % rows.length]!.ts - t);
  return spec.less ? Math.max(0, d - 1) : d;
}

/**
 * Which tie rules decide this query's answer: for each rule, whether the brute-force order of
 * the whole candidate list has two consecutive entries, one of them inside the first `count`,
 * that only that rule separates. Counting these proves a property exercised the rules.
 */
export interface TieUse {
  /** Equal |distance|, different timestamps (nearest only): earlier first. */
  distance: boolean;
  /** Equal timestamps in different sources: source order. */
  source: boolean;
  /** Equal timestamps in one source: line order. */
  line: boolean;
}

export function tiesUsed(rows: readonly Row[], t: number, tags: readonly number[] | null, count: number, direction: Direction, maxDistance: number): TieUse {
  const all = bruteForce(rows, t, tags, rows.length, direction, maxDistance);
  const use: TieUse = { distance: false, source: false, line: false };
  for (let i = 0; i + 1 < all.length && i < count; i++) {
    const a = all[i]!;
    const b = all[i + 1]!;
    if (a.ts === b.ts) {
      if (a.rank !== b.rank) use.source = true;
      else use.line = true;
    } else if (direction === 'nearest' && Math.abs(a.ts - t) === Math.abs(b.ts - t)) {
      use.distance = true;
    }
  }
  return use;
}

/** Counts of queries whose answer a tie rule decided. */
export class TieTally {
  queries = 0;
  distance = 0;
  source = 0;
  line = 0;
  /** Queries with an empty answer. */
  empty = 0;

  add(use: TieUse, answered: number): void {
    this.queries++;
    if (use.distance) this.distance++;
    if (use.source) this.source++;
    if (use.line) this.line++;
    if (answered === 0) this.empty++;
  }

  share(kind: 'distance' | 'source' | 'line' | 'empty'): number {
    return this.queries === 0 ? 0 : this[kind] / this.queries;
  }
}
