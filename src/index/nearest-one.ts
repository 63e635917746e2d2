/**
 * The single-entry query (count = 1), the one an alert triggers most, without cursor objects:
 * per sequence and tag, one seek forward and one backward into module-level scratch, then a
 * comparison. The general k-way merge (nearest.ts) allocates two cursors per sequence and
 * tag; here the only allocation is the returned Hit. (10M entries, random queries: 880 ns
 * through the cursors, see tools/bench for the figure with this path.)
 */
import { ALL_TAGS } from './cursor.js';
import { Hit } from './hit.js';
import type { Direction } from './nearest.js';
import { type Segment, type SortedSeq, lowerBoundIndex } from './segment.js';
import type { SourceIndex } from './source-index.js';

// Scratch position: segment, entry index, tag-list index, tag-list length, tag list.
let S = 0;
let I = 0;
let J = 0;
let LIST: ArrayLike<number> | undefined;

/** Entry index bound in segment s for t: first ts >= t (lower) or first ts > t (upper). */
function boundIn(seq: SortedSeq, t: number, upper: boolean): number {
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

/** The hit at (seg, k), or null when it lies farther than maxDistance from t. */
function hitWithin(source: SourceIndex, seg: Segment, k: number, t: number, maxDistance: number): Hit | null {
  const ts = seg.ts[k]!;
  return Math.abs(ts - t) > maxDistance ? null : new Hit(source, seg, k, ts);
}

/**
 * The commonest query of all (one source, in-order data, no tag, nearest) in straight-line
 * code: one chunk pick, one radix lookup, two neighbours compared. The general loop below
 * costs about twice as much per query in instructions alone (measured 220 vs 510 ns at 1M).
 * Returns undefined when the answer needs the general path (a tie run crossing a chunk start).
 */
function nearestInMain(source: SourceIndex, t: number, maxDistance: number): Hit | null | undefined {
  const main = source.main;
  const first = main.firstSegment;
  const n = main.segmentCount;
  if (n <= first) return null;
  const s = main.findSegment(t);
  const c = main.segment(s);
  const i = c.lowerBound(t);
  let fwd: Segment | null = c;
  let fi = i;
  if (i >= c.count) {
    fwd = s + 1 < n ? main.segment(s + 1) : null;
    fi = 0;
  }
  let back: Segment | null = c;
  let bi = i - 1;
  if (bi < 0) {
    back = s - 1 >= first ? main.segment(s - 1) : null;
    bi = back === null ? -1 : back.count - 1;
  }
  let seg: Segment;
  let k: number;
  if (back !== null && (fwd === null || t - back.ts[bi]! <= fwd.ts[fi]! - t)) {
    seg = back;
    k = bi;
    const ts = seg.ts[k]!;
    // Equal timestamps: the earliest line first.
    while (k > 0 && seg.ts[k - 1] === ts) k--;
    const at = back === c ? s : s - 1;
    if (k === 0 && at - 1 >= first) {
      const prev = main.segment(at - 1);
      if (prev.ts[prev.count - 1] === ts) return undefined;
    }
  } else if (fwd !== null) {
    seg = fwd;
    k = fi;
  } else {
    return null;
  }
  return hitWithin(source, seg, k, t, maxDistance);
}

/**
 * First index j in a chunk's tag list with list[j] >= bound. Tags are spread evenly enough
 * over a chunk that bound * n / count lands within a few dozen slots of the answer, so an
 * interpolated guess plus a galloping search touches two or three cache lines where a binary
 * search over 3,000 ERROR positions touches a dozen.
 */
function tagListBound(list: ArrayLike<number>, n: number, bound: number, count: number): number {
  if (n === 0) return 0;
  let g = Math.min(n - 1, Math.floor((bound * n) / count));
  let lo: number;
  let hi: number;
  if (list[g]! < bound) {
    lo = g + 1;
    let step = 1;
    hi = lo;
    while (hi < n && list[hi]! < bound) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    if (hi > n) hi = n;
  } else {
    hi = g;
    let step = 1;
    g = hi - 1;
    while (g >= 0 && list[g]! >= bound) {
      hi = g;
      g -= step;
      step *= 2;
    }
    lo = g < 0 ? 0 : g + 1;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One source, in-order data, one tag, nearest: the tag-filtered twin of nearestInMain. One
 * radix lookup in the time column, one interpolated search in the chunk's tag list, and the
 * two neighbouring tag entries compared. Undefined means "use the general path" (a possible
 * run of equal timestamps before the backward candidate).
 */
function nearestInMainTagged(source: SourceIndex, t: number, tag: number, maxDistance: number): Hit | null | undefined {
  const main = source.main;
  if (main.segmentCount <= main.firstSegment) return null;
  const s = main.findSegment(t);
  const c = main.segment(s);
  const bound = c.lowerBound(t);
  const list = c.tagList(tag);
  const n = c.tagCount(tag);
  const j = list === undefined ? 0 : tagListBound(list, n, bound, c.count);
  let fwd: Segment | null = null;
  let fi = 0;
  if (j < n) {
    fwd = c;
    fi = list![j]!;
  } else {
    for (let x = main.nextWithTag(tag, s + 1); x >= 0; x = main.nextWithTag(tag, x + 1)) {
      const seg = main.segment(x);
      if (seg.tagCount(tag) > 0) {
        fwd = seg;
        fi = seg.tagList(tag)![0]!;
        break;
      }
    }
  }
  let back: Segment | null = null;
  let backList: ArrayLike<number> | undefined;
  let bj = 0;
  if (j > 0) {
    back = c;
    backList = list;
    bj = j - 1;
  } else {
    for (let x = main.prevWithTag(tag, s - 1); x >= 0; x = main.prevWithTag(tag, x - 1)) {
      const seg = main.segment(x);
      const k = seg.tagCount(tag);
      if (k > 0) {
        back = seg;
        backList = seg.tagList(tag);
        bj = k - 1;
        break;
      }
    }
  }
  const bi = back === null ? 0 : backList![bj]!;
  let seg: Segment;
  let k: number;
  if (back !== null && (fwd === null || t - back.ts[bi]! <= fwd.ts[fi]! - t)) {
    // Among equal timestamps the earliest line comes first. The entry just before (same cache
    // line) says whether any earlier entry shares the timestamp; if so, walk the tag list.
    const ts = back.ts[bi]!;
    if (bi > 0 && back.ts[bi - 1] === ts) {
      while (bj > 0 && back.ts[backList![bj - 1]!] === ts) bj--;
    }
    k = backList![bj]!;
    // A run of equal timestamps reaching the chunk's first entry may go on in the chunk before.
    if (back.ts[0] === ts && k === backList![0]) return undefined;
    seg = back;
  } else if (fwd !== null) {
    seg = fwd;
    k = fi;
  } else {
    return null;
  }
  return hitWithin(source, seg, k, t, maxDistance);
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
