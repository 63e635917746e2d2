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

/**
 * A sealed chunk's keyed lists, for the tags keyedTags picks: exact keys when unit > 0
 * (exactKeyUnit), else keys scaled by scale; both run from first, the chunk's first timestamp.
 */
export function buildKeyedLists(
  ts: Float64Array, n: number, tags: readonly (Uint16Array | undefined)[], counts: Uint32Array, first: number, unit: number, scale: number,
): (Uint32Array | undefined)[] {
  const keyed: (Uint32Array | undefined)[] = [];
  for (const tag of keyedTags(counts, n)) {
    const list = tags[tag]!;
    const count = counts[tag]!;
    keyed[tag] = unit > 0 ? buildExactKeyedList(ts, list, count, first, unit) : buildKeyedList(ts, list, count, first, scale);
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
  // Keys are spread over the chunk's span about as evenly as its entries: an interpolated guess.
  let lo = gallopLowerBound(keyed, n, low, ((x * n) / KEY_SPAN) | 0);
  const next = low + KEY_SPAN;
  while (lo < n && keyed[lo]! < next && ts[keyed[lo]! & 0xffff]! < t) lo++;
  return lo;
}

/**
 * Exact keys. When every timestamp of a chunk is its first plus a multiple of a unit (the
 * gcd of the offsets: 1000 for millisecond stamps) and the span is under 65,536 units, a key
 * is the offset in units: exact, so the key alone gives the timestamp (first + key * unit)
 * and a query reads no time column at all. Such a chunk keys its tag lists this way, and
 * keeps the keyed list of its run starts (the first entry of each distinct timestamp), which
 * answers an unfiltered nearest query by itself: one interpolated probe into a list that
 * holds one value per distinct timestamp (buildRunKeys). Returns 0 when keys cannot be exact.
 * 10M entries, random queries, micro-benchmark on the shared VM (load 7): the unfiltered path
 * 135-202 ns this way, 336-360 ns through the time model and the time column.
 */
export function exactKeyUnit(ts: Float64Array, n: number): number {
  if (n < 2) return 0;
  const first = ts[0]!;
  const span = ts[n - 1]! - first;
  if (!(span > 0) || !Number.isSafeInteger(first) || !Number.isSafeInteger(ts[n - 1]!)) return 0;
  // The gcd of the offsets is the gcd of the steps between neighbours; most steps are 0 or a
  // multiple of the gcd so far, checked with a multiply (a double `%` is a libm call).
  let g = 0;
  for (let i = 1; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if (d === 0 || (g !== 0 && Math.floor(d / g) * g === d)) continue;
    if (!Number.isInteger(d)) return 0;
    let a = g;
    let b = d;
    while (b !== 0) {
      const r = a % b;
      a = b;
      b = r;
    }
    g = a;
  }
  return span / g < KEY_SPAN ? g : 0;
}

/** Run starts over exact keys (see exactKeyUnit), or undefined when they would cost over 1 byte per entry. */
export function buildRunKeys(ts: Float64Array, n: number, unit: number): Uint32Array | undefined {
  let runs = 1;
  for (let i = 1; i < n; i++) if (ts[i] !== ts[i - 1]) runs++;
  // 4 bytes a run: at most a quarter of the entries (the generator's data: 1 run per 11.7).
  if (runs * 4 > n) return undefined;
  const first = ts[0]!;
  const out = new Uint32Array(runs);
  let j = 0;
  for (let i = 0; i < n; i++) if (i === 0 || ts[i] !== ts[i - 1]) out[j++] = ((ts[i]! - first) / unit) * KEY_SPAN + i;
  return out;
}

/** A tag's keyed list over exact keys (see exactKeyUnit). */
export function buildExactKeyedList(ts: Float64Array, list: ArrayLike<number>, count: number, first: number, unit: number): Uint32Array {
  const keyed = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const i = list[j]!;
    keyed[j] = ((ts[i]! - first) / unit) * KEY_SPAN + i;
  }
  return keyed;
}

/** The smallest key whose timestamp (first + key * unit) is >= first + d, for d > 0; exact. */
export function keyAtOrAfter(d: number, unit: number): number {
  let k = Math.ceil(d / unit);
  // The division may round: settle k by exact integer products.
  while (k * unit < d) k++;
  while (k > 0 && (k - 1) * unit >= d) k--;
  return k;
}

/** The key of a keyed value (its timestamp is first + key * unit in an exact chunk). */
export function keyOf(v: number): number {
  return Math.floor(v / KEY_SPAN);
}

/**
 * First j in [0, n) with keyOf(keyed[j]) >= key (n when none), over exact keys that run from
 * 0 to maxKey: an interpolated guess, a gallop to bracket the answer, a bisection.
 */
export function exactLowerBound(keyed: Uint32Array, n: number, key: number, maxKey: number): number {
  return gallopLowerBound(keyed, n, key * KEY_SPAN, ((key * n) / (maxKey + 1)) | 0);
}

/**
 * exactLowerBound for a tag's keyed list, without a branch on the data: the interpolated guess
 * into a tag's list is ~15 slots off (the tag's entries fall at random: 17 on average at 1M,
 * 0.4 % of queries over 63), so the gallop and bisection from it cost four or five mispredicted
 * branches. Here the 128 slots around the guess are searched by masks (keys < 65,536, so
 * (k - key) >> 31 is -1 exactly when k < key), one probe per 16 slots loaded up front so that
 * out of cache every line of the window is fetched at once; a guess over 64 slots off takes
 * the gallop. In cache (micro-benchmark over the ERROR lists, load 3-5): 100k 46-57 ns against
 * 97-102, 1M 30-59 against 53-86. The run starts keep the gallop: their guess is exact. Out of
 * cache the nine lines cost more than the branches (nearest-main.ts: WINDOW_CHUNKS).
 */
export function exactTagLowerBound(keyed: Uint32Array, n: number, key: number, maxKey: number): number {
  if (n < 128) return exactLowerBound(keyed, n, key, maxKey);
  let b = (((key * n) / (maxKey + 1)) | 0) - 64;
  if (b > n - 128) b = n - 128;
  if (b < 0) b = 0;
  const k0 = keyed[b]! >>> 16;
  const k16 = keyed[b + 16]! >>> 16;
  const k32 = keyed[b + 32]! >>> 16;
  const k48 = keyed[b + 48]! >>> 16;
  const k64 = keyed[b + 64]! >>> 16;
  const k80 = keyed[b + 80]! >>> 16;
  const k96 = keyed[b + 96]! >>> 16;
  const k112 = keyed[b + 112]! >>> 16;
  const k127 = keyed[b + 127]! >>> 16;
  // The answer lies outside [b, b + 128]: the gallop from the guess.
  if ((b > 0 && k0 >= key) || (b + 128 < n && k127 < key)) return exactLowerBound(keyed, n, key, maxKey);
  // b ends on the last slot of the window with a smaller key (or the window's first slot).
  const m64 = (k64 - key) >> 31;
  const m32 = (k32 + ((k96 - k32) & m64) - key) >> 31;
  const low16 = k16 + ((k48 - k16) & m32);
  const m16 = (low16 + ((k80 + ((k112 - k80) & m32) - low16) & m64) - key) >> 31;
  b += (64 & m64) + (32 & m32) + (16 & m16);
  b += 8 & (((keyed[b + 8]! >>> 16) - key) >> 31);
  b += 4 & (((keyed[b + 4]! >>> 16) - key) >> 31);
  b += 2 & (((keyed[b + 2]! >>> 16) - key) >> 31);
  b += 1 & (((keyed[b + 1]! >>> 16) - key) >> 31);
  return b - (((keyed[b]! >>> 16) - key) >> 31);
}

/**
 * First j in [0, n) with keyed[j] >= low (n when none), starting from the guess g: a gallop
 * away from it to bracket the answer, then a bisection of the bracket. Keys are spread over a
 * chunk about as evenly as its entries, so an interpolated guess is a few slots off and this
 * touches one or two cache lines where a bisection of the whole list touches a dozen.
 */
function gallopLowerBound(keyed: Uint32Array, n: number, low: number, g: number): number {
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
  return lo;
}
