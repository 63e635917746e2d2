/**
 * A learned index over one sealed chunk's sorted timestamps: where in the column a timestamp
 * lies is computed, not searched for, so a random query reads one small cached table and then
 * one window of the timestamp column (one DRAM round trip) instead of a radix slot and then
 * the timestamp's cache line (two dependent misses, ~170 ns each on the build VM).
 *
 * The model is a linear spline with knots at K equal slices of the chunk's time range (the
 * radix layer of RadixSpline, with PGM-index's per-segment error bound):
 *
 *   x = (t - min) * scale        slice b = floor(x), fraction f = x - b
 *   pos[b]                       first entry whose timestamp falls in slice b or later
 *   p = pos[b] + floor(f * (pos[b+1] - pos[b]))          the predicted lower bound
 *   err[b]                       max |p - lowerBound(t)| over every t in slice b
 *
 * so lowerBound(t) lies in [p - err[b], p + err[b]] (and in [pos[b], pos[b+1]]): a binary
 * search over that window, whose ends are read first so their cache lines load in parallel.
 * Knots are interleaved (pos, err) in one Uint16Array: one read for all three values.
 *
 * One slice per 64 entries keeps the table at 0.06 bytes per entry (640 KB at 10M entries,
 * small enough to stay cached) where the radix table it replaces took 1 byte per entry.
 * Log timestamps are nearly linear in position: on the generator's data (millisecond stamps,
 * ~12 entries per millisecond) every slice's error is 12-14 entries, a window of 3-4 lines.
 * A burst only widens the window of the slices at its edges.
 *
 * The error bound is exact (see buildTimeModel), and the window's ends are still checked:
 * a wrong bound could only cost time, never a wrong answer (test/property covers both).
 */

/** Entries per slice on average (see the header: 0.06 bytes per entry). */
export const ENTRIES_PER_SLICE = 64;
/**
 * Chunks smaller than this keep a plain binary search. Tiny chunks gain nothing from a model,
 * but they cost nothing either, and the property tests (chunks of 1 to 400 entries) then run
 * the model's search in every sealed chunk.
 */
const MIN_ENTRIES = 2;
const MAX_ERR = 0xffff;

export interface TimeModel {
  /** Interleaved knots: [pos0, err0, pos1, err1, ..., posK, 0]. */
  knots: Uint16Array;
  min: number;
  scale: number;
}

/** Predicted lower bound of t (min <= t <= the last timestamp). */
function predict(knots: Uint16Array, min: number, scale: number, t: number): number {
  const x = (t - min) * scale;
  const b = x | 0;
  const lo = knots[2 * b]!;
  return lo + (((x - b) * (knots[2 * b + 2]! - lo)) | 0);
}

/**
 * Builds the model of ts[0, n) (sorted), or null when a binary search serves as well (small
 * chunks, or all timestamps equal).
 *
 * The error of slice b is exact. For t in (ts[k-1], ts[k]] (k the first entry of a run of
 * equal timestamps) the lower bound is k, and p(t) is non-decreasing in t (every step of
 * predict() is monotone, in floating point too), so over that interval |p - k| is largest
 * at its ends: p(ts[k-1]) in ts[k-1]'s slice and p(ts[k]) in ts[k]'s. Slices in between
 * hold no entry, so there pos[b] = pos[b+1] = k and p = k exactly.
 */
export function buildTimeModel(ts: Float64Array, n: number): TimeModel | null {
  if (n < MIN_ENTRIES) return null;
  const min = ts[0]!;
  const max = ts[n - 1]!;
  if (!(max > min)) return null;
  const slices = Math.max(1, Math.floor(n / ENTRIES_PER_SLICE));
  // Maps [min, max] onto [0, slices): the last timestamp lands in the last slice.
  const scale = (slices / (max - min)) * (1 - 1e-12);
  const knots = new Uint16Array(2 * (slices + 1));
  let next = 0;
  for (let i = 0; i < n; i++) {
    const b = Math.floor((ts[i]! - min) * scale);
    while (next <= b) {
      knots[2 * next] = i;
      next++;
    }
  }
  // Queries never pass the last timestamp (the chunk answers those before asking the model),
  // so the lower bound in the last slice is at most n - 1: every position fits in 16 bits.
  while (next <= slices) {
    knots[2 * next] = n - 1;
    next++;
  }
  const setErr = (t: number, k: number): void => {
    const b = Math.floor((t - min) * scale);
    const e = Math.abs(predict(knots, min, scale, t) - k);
    const at = 2 * b + 1;
    if (e > knots[at]!) knots[at] = e > MAX_ERR ? MAX_ERR : e;
  };
  for (let k = 1; k < n; k++) {
    const prev = ts[k - 1]!;
    const cur = ts[k]!;
    if (cur === prev) continue;
    setErr(prev, k);
    setErr(cur, k);
  }
  return { knots, min, scale };
}

/**
 * First index i in [0, n) with ts[i] >= t, for ts[0] < t <= ts[n - 1] (the caller handles
 * the ends: they need no model).
 */
export function modelLowerBound(knots: Uint16Array, min: number, scale: number, ts: Float64Array, t: number): number {
  // `| 0` keeps indexes small integers: a double index takes a slower element load.
  const x = (t - min) * scale;
  const b = x | 0;
  let lo = knots[2 * b]!;
  const err = knots[2 * b + 1]!;
  let hi = knots[2 * b + 2]!;
  const p = lo + (((x - b) * (hi - lo)) | 0);
  const sliceLo = lo;
  const sliceHi = hi;
  if (p - err > lo) lo = p - err;
  if (p + err < hi) hi = p + err;
  // The answer lies in [lo, hi]. Reading both ends first starts both cache-line loads at once;
  // the checks only fail if the error bound were wrong (never, per the property tests), and
  // then the whole slice is searched.
  if (ts[hi]! < t) {
    lo = hi + 1;
    hi = sliceHi;
  } else if (lo > sliceLo && ts[lo - 1]! >= t) {
    hi = lo - 1;
    lo = sliceLo;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The window the model searches for t, for tests: [lo, hi] must hold the lower bound. */
export function modelWindow(model: TimeModel, t: number): { lo: number; hi: number; sliceLo: number; sliceHi: number } {
  const { knots, min, scale } = model;
  const x = (t - min) * scale;
  const b = x | 0;
  const sliceLo = knots[2 * b]!;
  const sliceHi = knots[2 * b + 2]!;
  const p = predict(knots, min, scale, t);
  const err = knots[2 * b + 1]!;
  return { lo: Math.max(sliceLo, p - err), hi: Math.min(sliceHi, p + err), sliceLo, sliceHi };
}
