/**
 * Query planning over the columnar index: the k entries nearest to a time, optionally only
 * some tags, in one direction, within a distance, across sources; and the unfiltered
 * neighbours (context) of an entry.
 *
 * Every source, run and tag gets a cursor positioned by binary search; a k-way merge then
 * takes entries in the contract's order:
 *   nearest: |distance| ascending, then earlier first, then source order, then line;
 *   before:  newest first (ts <= T); after: oldest first (ts >= T);
 *   equal timestamps always in source order, then line order.
 */
import { ALL_TAGS, Cursor } from './cursor.js';
import { nearestOne } from './nearest-one.js';
import { Hit } from './hit.js';
import type { SourceIndex } from './source-index.js';

export { Hit };

export type Direction = 'nearest' | 'before' | 'after';

export interface NearestSpec {
  /** Query time, epoch microseconds. */
  t: number;
  /** Tag ids to keep; null keeps every entry. */
  tags: readonly number[] | null;
  count: number;
  direction: Direction;
  /** Largest |entry - query| kept, microseconds (Infinity for no limit). */
  maxDistance: number;
}

function hitOf(source: SourceIndex, c: Cursor): Hit {
  return new Hit(source, c.seg, c.i, c.ts);
}

/** What the result order looks at: an entry's time, its source's rank and its line. */
export interface Ordered {
  readonly ts: number;
  readonly sourceRank: number;
  readonly line: number;
}

/**
 * True when a's entry comes before b's in the result order (distance, earlier first, source
 * rank, line). The one statement of the rule: the text search's merge (text-scan.ts) uses it too.
 */
export function before(a: Ordered, b: Ordered, direction: Direction, t: number): boolean {
  if (direction === 'nearest') {
    const da = Math.abs(a.ts - t);
    const db = Math.abs(b.ts - t);
    if (da !== db) return da < db;
    if (a.ts !== b.ts) return a.ts < b.ts;
  } else if (a.ts !== b.ts) {
    return direction === 'before' ? a.ts > b.ts : a.ts < b.ts;
  }
  if (a.sourceRank !== b.sourceRank) return a.sourceRank < b.sourceRank;
  return a.line < b.line;
}

export function findNearest(sources: readonly SourceIndex[], spec: NearestSpec): Hit[] {
  const { t, direction } = spec;
  if (spec.count === 1) {
    const hit = nearestOne(sources, t, spec.tags, direction, spec.maxDistance);
    return hit === null ? [] : [hit];
  }
  const cursors: Cursor[] = [];
  const owners: SourceIndex[] = [];
  const tags = spec.tags ?? [ALL_TAGS];
  for (const source of sources) {
    for (const seq of source.sequences()) {
      for (const tag of tags) {
        if (direction !== 'before') {
          cursors.push(new Cursor(seq, tag, true, true, source.rank).seek(t, true));
          owners.push(source);
        }
        if (direction !== 'after') {
          cursors.push(new Cursor(seq, tag, false, true, source.rank).seek(t, direction === 'before'));
          owners.push(source);
        }
      }
    }
  }
  const hits: Hit[] = [];
  while (hits.length < spec.count) {
    let best = -1;
    for (let c = 0; c < cursors.length; c++) {
      const cursor = cursors[c]!;
      if (cursor.valid && (best < 0 || before(cursor, cursors[best]!, direction, t))) best = c;
    }
    if (best < 0) break;
    const cursor = cursors[best]!;
    // Every order puts the closest remaining entry first: if it is too far, all are.
    if (Math.abs(cursor.ts - t) > spec.maxDistance) break;
    hits.push(hitOf(owners[best]!, cursor));
    cursor.advance();
  }
  return hits;
}

/** Up to n unfiltered entries of the hit's source just before (oldest first) or after it. */
export function neighbours(hit: Hit, n: number, after: boolean): Hit[] {
  if (n <= 0) return [];
  const source = hit.source;
  const cursors = source.sequences().map((seq) => new Cursor(seq, ALL_TAGS, after, false, source.rank).seekPast(hit.ts, hit.line));
  const out: Hit[] = [];
  while (out.length < n) {
    let best: Cursor | undefined;
    for (const c of cursors) {
      if (!c.valid) continue;
      if (best === undefined) best = c;
      else if (after ? c.ts < best.ts || (c.ts === best.ts && c.line < best.line) : c.ts > best.ts || (c.ts === best.ts && c.line > best.line)) best = c;
    }
    if (best === undefined) break;
    out.push(hitOf(source, best));
    best.advance();
  }
  if (!after) out.reverse();
  return out;
}
