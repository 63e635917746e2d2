/** The reference answer of find_nearest_log: filter every row, sort by the contract's order. */
import type { Direction } from '../../src/index/index.js';

export interface Row {
  ts: number;
  tag: number;
  line: number;
  rank: number;
  bodyPos: number;
}

export function bruteForce(rows: readonly Row[], t: number, tags: readonly number[] | null, count: number, direction: Direction, maxDistance: number): Row[] {
  const kept = rows.filter(
    (r) =>
      (tags === null || tags.includes(r.tag)) &&
      Math.abs(r.ts - t) <= maxDistance &&
      (direction === 'nearest' || (direction === 'before' ? r.ts <= t : r.ts >= t)),
  );
  kept.sort((a, b) => {
    if (direction === 'nearest') {
      const d = Math.abs(a.ts - t) - Math.abs(b.ts - t);
      if (d !== 0) return d;
      if (a.ts !== b.ts) return a.ts - b.ts;
    } else if (a.ts !== b.ts) {
      return direction === 'before' ? b.ts - a.ts : a.ts - b.ts;
    }
    return a.rank - b.rank || a.line - b.line;
  });
  return kept.slice(0, count);
}
