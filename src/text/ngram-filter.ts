/**
 * Token filters: a small Bloom filter of the lowercased byte trigrams of a group of bodies,
 * so a search for text can skip a whole block of entries that cannot hold it. This is
 * ClickHouse's `ngrambf_v1` skip index, not `tokenbf_v1`: `contains` matches substrings, and
 * a whole-token filter cannot rule anything out for a needle whose ends may be parts of
 * longer tokens ("order 8812" in "reorder 88123"), which is most needles.
 *
 * Pure and allocation-light. The server builds one filter per FILTER_BLOCK entries of a chunk
 * after ingestion, from the stored bodies (src/index/filter-backfill.ts: building them in the
 * parse workers was ~40 % of their CPU at catch-up). Group filters (one per FILTER_GROUP
 * entries of a batch, buildGroupFilters) can still be handed in with a batch and are ORed
 * into the chunk's block filters (src/index/block-filters.ts). OR-ing filters built with the
 * same size and hashes gives the filter of the union, so a block filter covers every entry
 * the groups overlapping it held: a superset, never a false "cannot match".
 *
 * Case: trigrams are folded to lower case for ASCII letters only, the folding `contains`
 * uses when case_sensitive is false (like ClickHouse's positionCaseInsensitive). Other bytes
 * are taken as they are. A query probes only trigrams that any matching body must contain
 * in that form: with case folding on, a trigram holding a non-ASCII byte is not probed.
 *
 * Size, measured on 1M generated lines (tools/generate, 101 bytes a line) on 2026-12-02:
 * see FILTER_WORDS.
 */

/** Entries per filter built by a parse worker (one filter per group of a parsed chunk). */
export const FILTER_GROUP = 256;
/** Entries per filter kept by the index (one filter per block of a chunk). */
export const FILTER_BLOCK = 1024;
/** 32-bit words per filter: 2^FILTER_BITS_LOG2 bits. */
export const FILTER_BITS_LOG2 = 15;
export const FILTER_WORDS = (1 << FILTER_BITS_LOG2) >>> 5;
const SHIFT = 32 - FILTER_BITS_LOG2;
/**
 * One bit per trigram (multiplicative hashing of the 24-bit trigram). A needle probes every
 * trigram it has, so k = 1 already gives few false positives for needles of 5+ bytes, and a
 * second bit doubled the build cost (measured on 1M generated lines, 2026-12-02).
 */
const H1 = 0x9e3779b1 | 0;

/** ASCII upper-case letters to lower case; every other byte to itself. */
export const FOLD = new Uint8Array(256);
for (let b = 0; b < 256; b++) FOLD[b] = b >= 65 && b <= 90 ? b | 32 : b;

/**
 * Adds the trigrams of buf[start, end) to the filter at words[at, at + FILTER_WORDS).
 * A body shorter than three bytes adds nothing (and no query can probe it: see needleBits).
 */
export function addTrigrams(words: Uint32Array, at: number, buf: Uint8Array, start: number, end: number): void {
  addTrigramsTo(new Int32Array(words.buffer, words.byteOffset, words.length), at, plainBytes(buf), start, end);
}

/**
 * addTrigrams on an Int32Array view of the words and a plain Uint8Array of the bytes, four
 * bytes a turn: the four hashes are independent, so the CPU overlaps them instead of waiting
 * for each read-modify-write of a word. Building the filters was ~70 % of a parse worker's
 * CPU in a 10M-line catch-up (2026-12-02); this loop takes 160-195 ns a 68-byte body where
 * the one-byte loop on the Buffer and Uint32Array took 293-309 (CPU time, 5 runs, shared
 * 2-core machine under load 6).
 */
function addTrigramsTo(w: Int32Array, at: number, buf: Uint8Array, start: number, end: number): void {
  if (end - start < 3) return;
  let g = (FOLD[buf[start]!]! << 8) | FOLD[buf[start + 1]!]!;
  let p = start + 2;
  for (; p + 3 < end; p += 4) {
    const g1 = ((g << 8) | FOLD[buf[p]!]!) & 0xffffff;
    const g2 = ((g1 << 8) | FOLD[buf[p + 1]!]!) & 0xffffff;
    const g3 = ((g2 << 8) | FOLD[buf[p + 2]!]!) & 0xffffff;
    const g4 = ((g3 << 8) | FOLD[buf[p + 3]!]!) & 0xffffff;
    const a1 = Math.imul(g1, H1) >>> SHIFT;
    const a2 = Math.imul(g2, H1) >>> SHIFT;
    const a3 = Math.imul(g3, H1) >>> SHIFT;
    const a4 = Math.imul(g4, H1) >>> SHIFT;
    w[at + (a1 >>> 5)]! |= 1 << (a1 & 31);
    w[at + (a2 >>> 5)]! |= 1 << (a2 & 31);
    w[at + (a3 >>> 5)]! |= 1 << (a3 & 31);
    w[at + (a4 >>> 5)]! |= 1 << (a4 & 31);
    g = g4;
  }
  for (; p < end; p++) {
    g = ((g << 8) | FOLD[buf[p]!]!) & 0xffffff;
    const a = Math.imul(g, H1) >>> SHIFT;
    w[at + (a >>> 5)]! |= 1 << (a & 31);
  }
}

/** The bytes as a plain Uint8Array (a Buffer is a subclass: one element kind for the loop). */
function plainBytes(buf: Uint8Array): Uint8Array {
  return buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * Group filters for a parsed chunk: entry e's body [bodyStart[e], bodyEnd[e]) of buf goes into
 * filter floor(e / FILTER_GROUP). Returns the filters back to back (FILTER_WORDS words each).
 */
export function buildGroupFilters(buf: Uint8Array, count: number, bodyStart: ArrayLike<number>, bodyEnd: ArrayLike<number>): Uint32Array {
  const groups = Math.ceil(count / FILTER_GROUP);
  const words = new Uint32Array(groups * FILTER_WORDS);
  const w = new Int32Array(words.buffer);
  const bytes = plainBytes(buf);
  for (let e = 0; e < count; e++) {
    addTrigramsTo(w, ((e / FILTER_GROUP) | 0) * FILTER_WORDS, bytes, bodyStart[e]!, bodyEnd[e]!);
  }
  return words;
}

/** ORs the filter at src[from..] into dst[to..]. */
export function orFilter(dst: Uint32Array, to: number, src: Uint32Array, from: number): void {
  for (let k = 0; k < FILTER_WORDS; k++) dst[to + k]! |= src[from + k]!;
}

/**
 * The bit positions a body must have set in its filter to contain this needle (UTF-8 bytes):
 * one per trigram, sorted and deduplicated. Empty when the needle has no usable trigram (then
 * the filter cannot rule anything out). With foldCase, trigrams holding a byte >= 0x80 are
 * left out: their case variants are other bytes.
 */
export function needleBits(needle: Uint8Array, foldCase: boolean): number[] {
  const bits = new Set<number>();
  for (let p = 2; p < needle.length; p++) {
    const a0 = needle[p - 2]!;
    const a1 = needle[p - 1]!;
    const a2 = needle[p]!;
    if (foldCase && (a0 | a1 | a2) >= 0x80) continue;
    const g = (FOLD[a0]! << 16) | (FOLD[a1]! << 8) | FOLD[a2]!;
    bits.add(Math.imul(g, H1) >>> SHIFT);
  }
  return [...bits].sort((x, y) => x - y);
}

/** Whether every bit is set in the filter at words[at..]: false means no body there matches. */
export function mayContain(words: Uint32Array, at: number, bits: readonly number[]): boolean {
  for (let k = 0; k < bits.length; k++) {
    const b = bits[k]!;
    if ((words[at + (b >>> 5)]! & (1 << (b & 31))) === 0) return false;
  }
  return true;
}
