/**
 * The reference designs the performance targets were set against, rebuilt here so they run side by side with ours in one run:
 *
 * - plain: a lower bound over one Float64Array of every timestamp, then the closer of the two
 *   neighbours (the "naive Node.js lower-bound search" row);
 * - original: the Go service's design in JS: a sorted array of one object per line
 *   ({ts, level, message}), sort.Search-style lower bound, a tag filter that scans outward
 *   from there, and a batch insert that appends then re-sorts the whole array.
 */

export function plainLowerBound(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the nearest timestamp (ties: the earlier). */
export function plainNearest(a: Float64Array, t: number): number {
  const i = plainLowerBound(a, t);
  if (i === 0) return 0;
  if (i === a.length) return i - 1;
  return t - a[i - 1]! <= a[i]! - t ? i - 1 : i;
}

export interface OriginalEntry {
  ts: number;
  level: string;
  message: string;
}

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

export class OriginalDesign {
  readonly entries: OriginalEntry[] = [];

  constructor(timestamps: Float64Array, levels: Uint8Array, count: number) {
    for (let i = 0; i < count; i++) {
      // A message string per entry, as the original kept the whole line in its struct.
      this.entries.push({ ts: timestamps[i]!, level: LEVELS[levels[i]!] ?? 'INFO', message: `request ${i} handled in ${i % 997}ms by worker-${i % 32}` });
    }
  }

  private search(t: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.ts < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  nearest(t: number): OriginalEntry | undefined {
    const e = this.entries;
    const i = this.search(t);
    if (i === 0) return e[0];
    if (i === e.length) return e[i - 1];
    return t - e[i - 1]!.ts <= e[i]!.ts - t ? e[i - 1] : e[i];
  }

  /** The original's tag filter: from the lower bound, step outward until the tag shows up. */
  nearestWithLevel(t: number, level: string): OriginalEntry | undefined {
    const e = this.entries;
    const i = this.search(t);
    let lo = i - 1;
    let hi = i;
    while (lo >= 0 || hi < e.length) {
      const a = lo >= 0 ? e[lo]! : undefined;
      const b = hi < e.length ? e[hi]! : undefined;
      if (a !== undefined && (b === undefined || t - a.ts <= b.ts - t)) {
        if (a.level === level) return a;
        lo--;
      } else if (b !== undefined) {
        if (b.level === level) return b;
        hi++;
      }
    }
    return undefined;
  }

  /** Appends a batch and re-sorts everything, as the original's batch insert did. */
  insertBatch(batch: OriginalEntry[]): void {
    this.entries.push(...batch);
    this.entries.sort((x, y) => x.ts - y.ts);
  }
}
