/**
 * The shape every sorted piece of the index shares, so search and cursors are written once.
 *
 * A segment holds entries sorted by (timestamp, line). A sequence of segments whose
 * concatenation is sorted (the main run's chunks) is a SortedSeq; the late store is a few
 * independent one-segment sequences.
 */

/**
 * Largest body length a segment stores: longer bodies keep this length (their first 65,535
 * bytes are read back) and are reported truncated.
 */
export const MAX_BODY_LEN = 0xffff;

export interface Segment {
  /** Entries in the segment. */
  readonly count: number;
  /** Epoch microseconds, sorted ascending over [0, count). */
  readonly ts: Float64Array;
  /** Packed tag and precision (meta.ts). */
  readonly meta: Uint8Array;
  /** First index i with ts[i] >= t (count when none). */
  lowerBound(t: number): number;
  /** First index i with ts[i] > t (count when none). */
  upperBound(t: number): number;
  /** Sorted entry indexes carrying `tag`, and how many of them are valid. */
  tagList(tag: number): ArrayLike<number> | undefined;
  tagCount(tag: number): number;
  /** 1-based line of the entry's first line in its source file. */
  lineAt(i: number): number;
  /** Where the entry's body lives in the body store, and its length (saturating at 65535). */
  bodyPosAt(i: number): number;
  bodyLenAt(i: number): number;
  /**
   * Text filters of the segment's blocks of FILTER_BLOCK entries (src/text/ngram-filter.ts):
   * the offset of block b's filter in filterWordsOf, or -1 when the block has none (it must
   * be read).
   */
  blockFilter(b: number): number;
  readonly filterWordsOf: Uint32Array;
}

export interface SortedSeq {
  /** Index of the first live segment (earlier ones were dropped by retention). */
  readonly firstSegment: number;
  /** One past the last segment. */
  readonly segmentCount: number;
  segment(s: number): Segment;
  /**
   * The segment in which the lower bound of t lies, or the one just before it:
   * the last live segment whose first timestamp is < t, else the first live segment.
   */
  findSegment(t: number): number;
  /** Live segments containing `tag`, ascending: the next one at or after s, or -1. */
  nextWithTag(tag: number, s: number): number;
  /** Live segments containing `tag`: the last one at or before s, or -1. */
  prevWithTag(tag: number, s: number): number;
}

/** Plain lower bound on a sorted Float64Array over [lo, hi). */
export function lowerBoundF64(a: Float64Array, t: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Plain upper bound on a sorted Float64Array over [lo, hi). */
export function upperBoundF64(a: Float64Array, t: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index j in a sorted list of entry indexes with list[j] >= i, over [0, n). */
export function lowerBoundIndex(list: ArrayLike<number>, i: number, n: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
