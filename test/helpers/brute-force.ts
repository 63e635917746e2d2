/** The reference answer of find_nearest_log: filter every row, order by the contract's rule. */
import { expect } from 'vitest';
import { type Direction, type SourceIndex, findNearest } from '../../src/index/index.js';

export interface Row {
  ts: number;
  tag: number;
  line: number;
  rank: number;
  bodyPos: number;
}

/**
 * The contract's order: nearest by |distance|, ties the earlier entry first; before newest
 * first; after oldest first; equal timestamps in source order, then line order.
 */
function compare(a: Row, b: Row, t: number, direction: Direction): number {
  if (direction === 'nearest') {
    const d = Math.abs(a.ts - t) - Math.abs(b.ts - t);
    if (d !== 0) return d;
    if (a.ts !== b.ts) return a.ts - b.ts;
  } else if (a.ts !== b.ts) {
    return direction === 'before' ? b.ts - a.ts : a.ts - b.ts;
  }
  return a.rank - b.rank || a.line - b.line;
}

export function bruteForce(rows: readonly Row[], t: number, tags: readonly number[] | null, count: number, direction: Direction, maxDistance: number): Row[] {
  const kept = rows.filter(
    (r) =>
      (tags === null || tags.includes(r.tag)) &&
      Math.abs(r.ts - t) <= maxDistance &&
      (direction === 'nearest' || (direction === 'before' ? r.ts <= t : r.ts >= t)),
  );
  if (count >= 16) return kept.sort((a, b) => compare(a, b, t, direction)).slice(0, count);
  // A few answers out of many rows: keep the best `count` in order (same comparison, no sort
  // of 100,000 rows per query).
  const best: Row[] = [];
  for (const r of kept) {
    if (best.length === count && compare(r, best[count - 1]!, t, direction) >= 0) continue;
    let i = best.length;
    while (i > 0 && compare(r, best[i - 1]!, t, direction) < 0) i--;
    best.splice(i, 0, r);
    if (best.length > count) best.pop();
  }
  return best;
}

/** One source's nearest answer for t, as `line@ts` in order, must be the brute force's. */
export function expectNearestAsBruteForce(
  index: SourceIndex, rows: readonly Row[], t: number, tags: number[] | null, count: number, direction: Direction, maxDistance: number,
): void {
  const hits = findNearest([index], { t, tags, count, direction, maxDistance });
  const expected = bruteForce(rows, t, tags, count, direction, maxDistance);
  expect(hits.map((h) => `${h.line}@${h.ts}`), `t=${t}`).toEqual(expected.map((r) => `${r.line}@${r.ts}`));
}
