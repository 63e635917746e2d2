/**
 * The single-entry query (count = 1), the one an alert triggers most, without cursor objects:
 * per sequence and tag, one seek forward and one backward into module-level scratch, then a
 * comparison. The general k-way merge (nearest.ts) allocates two cursors per sequence and
 * tag; here the only allocation is the returned Hit. (10M entries, random queries: 880 ns
 * through the cursors, see tools/bench for the figure with this path.) One in-order source
 * goes first through the straight-line paths of nearest-main.ts.
 */
import { ALL_TAGS } from './cursor.js';
import { Hit } from './hit.js';
import type { Direction } from './nearest.js';
import { nearestInMain, nearestInMainTagged } from './nearest-main.js';
import { type Segment, type SortedSeq, lowerBoundIndex } from './segment.js';
import type { SourceIndex } from './source-index.js';

// Scratch position: segment, entry index, tag-list index, tag-list length, tag list.
let S = 0;
let I = 0;
let J = 0;
let LIST: ArrayLike<number> | undefined;

/** Entry index bound for t, in segment boundSegment(): first ts >= t (lower) or first ts > t (upper). */
export function boundIn(seq: SortedSeq, t: number, upper: boolean): number {
  let s = seq.findSegment(t);
  let seg = seq.segment(s);
  let bound = upper ? seg.upperBound(t) : seg.lowerBound(t);
  // Equal timestamps may spill into the following chunks.
  while (upper && bound === seg.count && s + 1 < seq.segmentCount && seq.segment(s + 1).ts[0] === t) {
    s++;
    seg = seq.segment(s);
    bound = seg.upperBound(t);
  }
  S = s;
  return bound;
}

/** The segment the last boundIn() ended in (module scratch: no object per seek). */
export function boundSegment(): number {
  return S;
}

/** Moves the scratch to the first entry at index >= bound of segment S (in tag space). */
function settleForward(seq: SortedSeq, tag: number, bound: number): boolean {
  let s = S;
  if (tag === ALL_TAGS) {
    while (s < seq.segmentCount && bound >= seq.segment(s).count) {
      s++;
      bound = 0;
    }
    if (s >= seq.segmentCount) return false;
    S = s;
    I = bound;
    return true;
  }
  let seg = seq.segment(s);
  let n = seg.tagCount(tag);
  let list = seg.tagList(tag);
  let j = list === undefined ? 0 : lowerBoundIndex(list, bound, n);
  // A chunk listed for the tag may hold none of it any more (retention trimmed it): skip.
  while (j >= n) {
    s = seq.nextWithTag(tag, s + 1);
    if (s < 0) return false;
    seg = seq.segment(s);
    n = seg.tagCount(tag);
    list = seg.tagList(tag);
    j = 0;
  }
  S = s;
  J = j;

  LIST = list;
  I = list![j]!;
  return true;
}

/** Moves the scratch to the last entry at index < bound of segment S (in tag space). */
function settleBackward(seq: SortedSeq, tag: number, bound: number): boolean {
  let s = S;
  if (tag === ALL_TAGS) {
    let i = bound - 1;
    while (i < 0) {
      s--;
      if (s < seq.firstSegment) return false;
      i = seq.segment(s).count - 1;
    }
    S = s;
    I = i;
    return true;
  }
  let seg = seq.segment(s);
  let list = seg.tagList(tag);
  let n = seg.tagCount(tag);
  let j = (list === undefined ? 0 : lowerBoundIndex(list, bound, n)) - 1;
  while (j < 0) {
    s = seq.prevWithTag(tag, s - 1);
    if (s < 0) return false;
    seg = seq.segment(s);
    list = seg.tagList(tag);
    n = seg.tagCount(tag);
    j = n - 1;
  }
  S = s;
  J = j;

  LIST = list;
  I = list![j]!;
  return true;
}

/** Steps the scratch one entry back in tag space; false at the start. */
function stepBack(seq: SortedSeq, tag: number): boolean {
  if (tag === ALL_TAGS) {
    if (I > 0) {
      I--;
      return true;
    }
    return settleBackward(seq, tag, 0);
  }
  if (J > 0) {
    J--;
    I = LIST![J]!;
    return true;
  }
  return settleBackward(seq, tag, I);
}

/** Best so far. Its line is read only when a tie needs it: the line column is one more cache miss. */
let bestSeg: Segment | null = null;
let bestI = 0;
/**
 * The best timestamp lives in a typed array, not a module-level `let`: a double stored in a
 * module variable is boxed on every write (a heap allocation per candidate); this cut the
 * count=1 query from ~650 to ~510 ns at 1M entries.
 */
const bestTsSlot = new Float64Array(1);
let bestRank = 0;
let bestSource: SourceIndex | null = null;

function consider(source: SourceIndex, seg: Segment, i: number, direction: Direction, t: number, maxDistance: number): void {
  const ts = seg.ts[i]!;
  const d = Math.abs(ts - t);
  if (d > maxDistance) return;
  if (bestSeg !== null) {
    let better: boolean;
    const bestTs = bestTsSlot[0]!;
    const bestD = Math.abs(bestTs - t);
    if (direction === 'nearest' && d !== bestD) better = d < bestD;
    else if (ts !== bestTs) better = direction === 'before' ? ts > bestTs : ts < bestTs;
    else if (source.rank !== bestRank) better = source.rank < bestRank;
    else better = seg.lineAt(i) < bestSeg.lineAt(bestI);
    if (!better) return;
  }
  bestSeg = seg;
  bestI = i;
  bestTsSlot[0] = ts;
  bestRank = source.rank;
  bestSource = source;
}

/** The first entry in result order, or null: findNearest with count 1, faster. */
export function nearestOne(
  sources: readonly SourceIndex[],
  t: number,
  tags: readonly number[] | null,
  direction: Direction,
  maxDistance: number,
): Hit | null {
  if (sources.length === 1 && direction === 'nearest' && sources[0]!.late.entries === 0) {
    const hit =
      tags === null ? nearestInMain(sources[0]!, t, maxDistance)
      : tags.length === 1 ? nearestInMainTagged(sources[0]!, t, tags[0]!, maxDistance)
      : undefined;
    if (hit !== undefined) return hit;
  }
  bestSeg = null;
  bestSource = null;
  const tagCount = tags === null ? 1 : tags.length;
  for (let k = 0; k < sources.length; k++) {
    const source = sources[k]!;
    const seqs = source.sequences();
    for (let q = 0; q < seqs.length; q++) {
      const seq = seqs[q]!;
      if (seq.segmentCount <= seq.firstSegment) continue;
      // One search per sequence serves every tag and both sides: nearest and after start
      // at the first ts >= t, nearest looks back from there too, before from the first ts > t.
      const bound = boundIn(seq, t, direction === 'before');
      const boundSeg = S;
      for (let g = 0; g < tagCount; g++) {
        const tag = tags === null ? ALL_TAGS : tags[g]!;
        if (direction !== 'before') {
          S = boundSeg;
          if (settleForward(seq, tag, bound)) consider(source, seq.segment(S), I, direction, t, maxDistance);
        }
        if (direction !== 'after') {
          S = boundSeg;
          if (settleBackward(seq, tag, bound)) {
            // Among equal timestamps the earliest line comes first: walk to the run's start.
            const ts = seq.segment(S).ts[I]!;
            let s = S;
            let i = I;
            while (stepBack(seq, tag) && seq.segment(S).ts[I] === ts) {
              s = S;
              i = I;
            }
            consider(source, seq.segment(s), i, direction, t, maxDistance);
          }
        }
      }
    }
  }
  // consider() assigned these; TypeScript cannot see that through the calls.
  const seg = bestSeg as Segment | null;
  const source = bestSource as SourceIndex | null;
  if (seg === null || source === null) return null;
  const hit = new Hit(source, seg, bestI, bestTsSlot[0]!);
  bestSeg = null;
  bestSource = null;
  return hit;
}
