/**
 * Keyed tag lists: for a sealed chunk's rarer tags, the tag's entries as 32-bit values
 *
 *   key << 16 | index      key = floor((ts - firstTs) * keyScale), 16 bits over the chunk's span
 *
 * sorted ascending (index and key both grow along the list). A tag-filtered query finds its
 * place in the list from the query time alone: one interpolated probe into this array, then
 * the two candidates' timestamps, read in parallel. Through the plain entry-index list it
 * needed the time column's lower bound first (the model's window), then the list, then the
 * candidates: two memory round trips instead of one. 10M entries, ERROR (5 %) filtered,
 * interleaved A/B on the shared 2-core VM: 1.19-1.25x the unfiltered query with keys,
 * 1.44-1.56x through the lower bound.
 *
 * Keys cost 4 bytes per keyed entry beside the 2-byte index list, so only tags rarer than
 * 1 in 8 entries get them, rarest first, at most a quarter of the chunk's entries in all
 * (at most 1 byte per entry; 0.8 with the generator's 15 % WARN and 5 % ERROR). A common tag
 * has an entry within a few positions of any lower bound, inside the window already read.
 */

/** Only tags rarer than this share of a chunk's entries are keyed. */
const MAX_KEYED_SHARE = 1 / 8;
/** Keyed entries per chunk at most, as a share of its entries (bounds the memory). */
const MAX_KEYED_TOTAL = 1 / 4;
const KEY_SPAN = 65536;

/** The scale of a chunk's keys: [first, last] maps onto [0, 65536). 0 when all are equal. */
export function keyScaleOf(first: number, last: number): number {
  return last > first ? (KEY_SPAN / (last - first)) * (1 - 1e-12) : 0;
}

/** Which tags of a chunk get keyed lists (by entry count per tag), rarest first within budget. */
export function keyedTags(counts: ArrayLike<number>, n: number): number[] {
  const candidates: number[] = [];
  for (let tag = 0; tag < counts.length; tag++) {
    const c = counts[tag]!;
    if (c > 0 && c < n * MAX_KEYED_SHARE) candidates.push(tag);
  }
  candidates.sort((a, b) => counts[a]! - counts[b]!);
  const chosen: number[] = [];
  let total = 0;
  for (const tag of candidates) {
    total += counts[tag]!;
    if (total > n * MAX_KEYED_TOTAL) break;
    chosen.push(tag);
  }
  return chosen;
}

/** The keyed list of one tag's entry indexes (sorted) over ts. */
export function buildKeyedList(ts: Float64Array, list: ArrayLike<number>, count: number, first: number, scale: number): Uint32Array {
  const keyed = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const i = list[j]!;
    keyed[j] = Math.floor((ts[i]! - first) * scale) * KEY_SPAN + i;
  }
  return keyed;
}

/** The entry index a keyed value carries. */
export function keyedIndex(v: number): number {
  return v & 0xffff;
}

/**
 * First j in [0, n) with ts[keyedIndex(keyed[j])] >= t (n when none). Values with a smaller
 * key are earlier than t and values with a larger key later, whatever their timestamps: only
 * entries sharing t's key (about one in 65,536 of the chunk's span) have their timestamps read.
 */
export function keyedLowerBound(keyed: Uint32Array, n: number, first: number, scale: number, ts: Float64Array, t: number): number {
  const x = (t - first) * scale;
  if (!(x >= 0)) return 0;
  if (x >= KEY_SPAN) return n;
  const key = x | 0;
  const low = key * KEY_SPAN;
  // Keys are spread over the chunk's span about as evenly as its entries: interpolate, then
  // gallop to bracket the answer, then bisect the bracket.
  let g = ((x * n) / KEY_SPAN) | 0;
  if (g >= n) g = n - 1;
  let lo: number;
  let hi: number;
  if (keyed[g]! < low) {
    lo = g + 1;
    let step = 1;
    hi = lo;
    while (hi < n && keyed[hi]! < low) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    if (hi > n) hi = n;
  } else {
    hi = g;
    let step = 1;
    g = hi - 1;
    while (g >= 0 && keyed[g]! >= low) {
      hi = g;
      g -= step;
      step *= 2;
    }
    lo = g < 0 ? 0 : g + 1;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyed[mid]! < low) lo = mid + 1;
    else hi = mid;
  }
  const next = low + KEY_SPAN;
  while (lo < n && keyed[lo]! < next && ts[keyed[lo]! & 0xffff]! < t) lo++;
  return lo;
}
