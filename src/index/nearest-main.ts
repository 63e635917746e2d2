/**
 * The commonest queries in straight-line code: one source whose data came in order (no late
 * store), count 1, nearest, unfiltered or one tag. nearestOne() tries these first; each
 * returns undefined when the answer needs the general path (a run of equal timestamps that
 * may go on in the chunk before), so every rule lives in one place: the general path.
 *
 * Memory is the cost here (a dependent DRAM miss is ~170 ns on the build VM, the code around
 * it ~50 ns): each path reads the chunk's small cached search table, then one batch of
 * independent cache lines in the big columns. In a chunk with exact keys (tag-keys.ts) the
 * answer comes from one keyed list and the time column is not read at all: 10M entries,
 * tools/bench interleaved with main on the shared VM (load 5-13), 198-232 ns against 480-610
 * ns, 0.18-0.24x the plain lower bound against 0.54-0.58x. Through the time model a query
 * took the model's window (2-4 lines, the binary search inside it a second round trip) and
 * then, for a backward answer, the start of its run of equal timestamps (often a third).
 */
import { Hit } from './hit.js';
import type { Segment } from './segment.js';
import type { SourceIndex } from './source-index.js';
import { exactLowerBound, exactTagLowerBound, keyAtOrAfter, keyOf, keyedLowerBound } from './tag-keys.js';
import type { TimeChunk } from './time-chunk.js';

/** The hit at (seg, k), or null when it lies farther than maxDistance from t. */
export function hitWithin(source: SourceIndex, seg: Segment, k: number, t: number, maxDistance: number): Hit | null {
  const ts = seg.ts[k]!;
  return Math.abs(ts - t) > maxDistance ? null : new Hit(source, seg, k, ts);
}

/**
 * Unfiltered: one chunk pick (interpolated over the chunk starts), one time-model lookup, the
 * two neighbours of the lower bound compared. The general loop costs about twice as much per
 * query in instructions alone (measured 220 vs 510 ns at 1M).
 */
export function nearestInMain(source: SourceIndex, t: number, maxDistance: number): Hit | null | undefined {
  const main = source.main;
  const first = main.firstSegment;
  const n = main.segmentCount;
  if (n <= first) return null;
  const s = main.findSegment(t);
  const c = main.segment(s);
  const runs = c.runKeys;
  if (runs !== undefined) {
    const hit = nearestByRuns(source, c, runs, t, maxDistance);
    if (hit !== undefined) return hit;
  }
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
    // Equal timestamps: the earliest line first. The run mostly sits in the window the model
    // just read; a long one is bisected rather than walked.
    if (k > 0 && seg.ts[k - 1] === ts) k = k >= 16 && seg.ts[k - 16] === ts ? seg.lowerBound(ts) : walkTies(seg.ts, k, ts);
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
 * Within one chunk of exact keys, through its keyed run starts (tag-keys.ts): the first run
 * at or after t and the one before it are the two candidates, and their keys are their
 * timestamps, so the answer comes from one probe into a list of ~0.3 bytes per entry, and the
 * time column is not read. Undefined when the chunk's ends are involved (general path).
 */
function nearestByRuns(source: SourceIndex, c: TimeChunk, runs: Uint32Array, t: number, maxDistance: number): Hit | null | undefined {
  const first = c.keyFirst;
  const unit = c.keyUnit;
  const j = exactKeyedBound(c, runs, runs.length, t);
  // j = 1: the run before starts the chunk and may go on in the chunk before.
  if (j <= 1 || j >= runs.length) return undefined;
  const fv = runs[j]!;
  const bv = runs[j - 1]!;
  const fts = first + keyOf(fv) * unit;
  const bts = first + keyOf(bv) * unit;
  // Equal distances: the earlier entry; a run start is its run's earliest line.
  const back = t - bts <= fts - t;
  const ts = back ? bts : fts;
  return Math.abs(ts - t) > maxDistance ? null : new Hit(source, c, (back ? bv : fv) & 0xffff, ts);
}

/** First j of a keyed list over exact keys whose timestamp is >= t (0 before the chunk, n after it). */
function exactKeyedBound(c: TimeChunk, keyed: Uint32Array, n: number, t: number): number {
  const d = t - c.keyFirst;
  if (!(d > 0)) return 0;
  const key = keyAtOrAfter(d, c.keyUnit);
  return key > c.maxKey ? n : exactLowerBound(keyed, n, key, c.maxKey);
}

/**
 * Up to this many chunks a tag's keyed list is searched by the window around its guess
 * (exactTagLowerBound), beyond it by the gallop. The window reads nine lines where the gallop
 * reads one or two (its next probes issued ahead of its branches): a win while the lists stay
 * in cache, a loss once they do not. Query bench alternated with main, 9 invocations each,
 * load 5-14, ERROR/unfiltered: 1M 0.73-1.09x against 0.94-1.27x, 10M (153 chunks) 0.70-1.12x
 * against 0.84-1.18x, but 42M (641 chunks) 1.15-1.44x against 1.07-1.32x (ERROR medians 312-413
 * ns against 255-330). 256 chunks: 16.7M entries, ~9 MB of ERROR lists and run starts at the
 * generator's shares, under this VM's 32 MiB L3. Beyond it, knots on the chunk object (16
 * segments, guess ~5 slots off, then a 32-slot mask window or the gallop) made the search
 * alone faster at 42M (80-129 ns against 136-172, in-process micro-benchmark) but the query
 * slower: ERROR 253-278 ns, 1.14-1.28x, against main's 229-263 (one 303), 1.07-1.31x (12 and 9
 * query-bench invocations, alternated, load 1-6). The knot fields are the cost: main's gallop
 * with only the knots read and computed (guess unused), 2 invocations: 1.24-1.32x, ERROR 278-288
 * ns against main's 1.16-1.18x, 260 ns. One more line of the 520 B chunk object per query.
 */
const WINDOW_CHUNKS = 256;

/** exactKeyedBound for a tag's keyed list: its guess is ~15 slots off (exactTagLowerBound). */
function exactTagBound(c: TimeChunk, keyed: Uint32Array, n: number, t: number): number {
  const d = t - c.keyFirst;
  if (!(d > 0)) return 0;
  const key = keyAtOrAfter(d, c.keyUnit);
  return key > c.maxKey ? n : exactTagLowerBound(keyed, n, key, c.maxKey);
}

/**
 * One tag in a chunk of exact keys, both candidates inside the chunk: their keys give their
 * timestamps, so no time column is read (the scaled keys' path reads both candidates'
 * timestamps, a second memory round trip). Undefined: a run of equal timestamps reaching the
 * chunk's first entry may go on in the chunk before.
 */
function taggedByKeys(source: SourceIndex, c: TimeChunk, keyed: Uint32Array, j: number, t: number, maxDistance: number): Hit | null | undefined {
  const first = c.keyFirst;
  const unit = c.keyUnit;
  const fv = keyed[j]!;
  const fts = first + keyOf(fv) * unit;
  let bj = j - 1;
  const bk = keyOf(keyed[bj]!);
  const bts = first + bk * unit;
  if (t - bts <= fts - t) {
    while (bj > 0 && keyOf(keyed[bj - 1]!) === bk) bj--;
    if (bj === 0 && bk === 0) return undefined;
    return Math.abs(bts - t) > maxDistance ? null : new Hit(source, c, keyed[bj]! & 0xffff, bts);
  }
  return Math.abs(fts - t) > maxDistance ? null : new Hit(source, c, fv & 0xffff, fts);
}

/** First index of the run of `value` that ends at k (fewer than 16 steps back). */
function walkTies(ts: Float64Array, k: number, value: number): number {
  while (k > 0 && ts[k - 1] === value) k--;
  return k;
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
 * First j with ts[list[j]] >= t: a bisection of the tag list through the time column, for
 * the chunk still growing. It has no time model, so its lower bound was a bisection of the
 * whole column, and the interpolated search of the tag list after it a dozen more
 * unpredictable branches (100k entries, in cache, queries in that chunk: ERROR 166-176 ->
 * 108-112 ns, unfiltered 126-129).
 */
function tagTimeBound(list: ArrayLike<number>, n: number, ts: Float64Array, t: number): number {
  if (n === 0) return 0;
  // No branch on the data: Number(a < b) compiles to a flag, not a jump (the bisection's
  // mispredictions: 100k, the growing chunk's ERROR list, micro-benchmark 70-77 -> 42-54 ns).
  let b = 0;
  let len = n;
  while (len > 1) {
    const h = len >>> 1;
    b += h & -Number(ts[list[b + h]!]! < t);
    len -= h;
  }
  return b + Number(ts[list[b]!]! < t);
}

/** The j-th entry index of a chunk's tag list, read from its keyed list when it has one. */
function tagEntry(keyed: Uint32Array | undefined, list: ArrayLike<number> | undefined, j: number): number {
  return keyed !== undefined ? keyed[j]! & 0xffff : list![j]!;
}

/**
 * One tag: the two tagged neighbours of t compared. In a chunk that keeps a keyed list for
 * the tag (rarer tags, tag-keys.ts) the list position comes from the query time directly;
 * otherwise from the time column's lower bound, through an interpolated search of the tag
 * list. Undefined means "use the general path" (a run of equal timestamps that reaches the
 * chunk's first entry may go on in the chunk before).
 */
export function nearestInMainTagged(source: SourceIndex, t: number, tag: number, maxDistance: number): Hit | null | undefined {
  const main = source.main;
  if (main.segmentCount <= main.firstSegment) return null;
  const s = main.findSegment(t);
  const c = main.segment(s);
  const keyed = c.keyedList(tag);
  // A keyed list holds every entry of its tag: its length spares a load from the tag counts.
  const n = keyed !== undefined ? keyed.length : c.tagCount(tag);
  const list = keyed === undefined ? c.tagList(tag) : undefined;
  let j = 0;
  if (keyed !== undefined && c.keyUnit > 0) {
    j = main.segmentCount <= WINDOW_CHUNKS ? exactTagBound(c, keyed, n, t) : exactKeyedBound(c, keyed, n, t);
    if (j > 0 && j < n) return taggedByKeys(source, c, keyed, j, t, maxDistance);
  } else if (keyed !== undefined) j = keyedLowerBound(keyed, n, c.firstTs, c.keyedScale, c.ts, t);
  else if (list !== undefined) j = c.sealed ? tagListBound(list, n, c.lowerBound(t), c.count) : tagTimeBound(list, n, c.ts, t);
  // Forward candidate: the j-th tagged entry, or the first one of a later chunk.
  let fwd: TimeChunk | null = null;
  let fi = 0;
  if (j < n) {
    fwd = c;
    fi = tagEntry(keyed, list, j);
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
  // Backward candidate: position bj of a chunk's tag list (this chunk's, or the last one before).
  let back: TimeChunk | null = null;
  let bKeyed = keyed;
  let bList = list;
  let bj = j - 1;
  if (j === 0) {
    for (let x = main.prevWithTag(tag, s - 1); x >= 0; x = main.prevWithTag(tag, x - 1)) {
      const seg = main.segment(x);
      const k = seg.tagCount(tag);
      if (k > 0) {
        back = seg;
        bKeyed = undefined;
        bList = seg.tagList(tag);
        bj = k - 1;
        break;
      }
    }
  } else {
    back = c;
  }
  if (back !== null) {
    const bi = tagEntry(bKeyed, bList, bj);
    const ts = back.ts[bi]!;
    if (fwd === null || t - ts <= fwd.ts[fi]! - t) {
      // Among equal timestamps the earliest line comes first. The entry just before (same
      // cache line) says whether any earlier entry shares the timestamp; if so, walk the list.
      if (bi > 0 && back.ts[bi - 1] === ts) {
        while (bj > 0 && back.ts[tagEntry(bKeyed, bList, bj - 1)] === ts) bj--;
      }
      // A run of equal timestamps reaching the chunk's first entry may go on in the chunk before.
      if (bj === 0 && back.ts[0] === ts) return undefined;
      return hitWithin(source, back, tagEntry(bKeyed, bList, bj), t, maxDistance);
    }
  }
  return fwd === null ? null : hitWithin(source, fwd, fi, t, maxDistance);
}
