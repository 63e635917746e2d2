/**
 * The bodies a text search reads, block by block (src/index/text-scan.ts walks the blocks of
 * FILTER_BLOCK entries): a short range read ahead of the cursor first, then, when a needle can
 * be searched natively, the whole block in one read and one search per needle.
 *
 *   body tested       1 .. 32                     33 ..
 *   read              32 entries ahead (one       the whole block (one read), when every
 *                     range read; again for the   needle has a native search; else 32
 *                     next 32)                    entries at a time, as before
 *   ruled out by      a byte loop over the body   the needle's occurrences in the block
 *                     (needlesInBody)             (needlesInside); else the byte loop
 *   decided by        CompiledText.test(body), only for bodies the step above let through
 */
import type { BodyStore } from './body-store.js';
import { FILTER_BLOCK, FOLD, charsOf, type CompiledText, type Highlight, MAX_MATCH_BYTES } from '../text/index.js';
import type { Segment } from './segment.js';

/**
 * With `contains` needles that a native search can find, a block is searched once per needle
 * and a body without an occurrence of every needle inside it is ruled out without being looked
 * at: 8.3 -> ~1 us per body at 200k entries (measured 2026-12-02, shared machine under load).
 * A common needle is found within a few bodies: searching the whole block for it would cost
 * more than those bodies (0.56 ms for 10 'GET' bodies). Past a few dozen bodies it pays.
 */
const BODIES_BEFORE_BLOCK_SEARCH = 32;
/**
 * Entries of a short read: ahead of the cursor, and backward a little past it (a run of equal
 * timestamps is handed out in ascending order). A 5 % token is found within ~20 bodies, and
 * finding the byte range of a whole block of 1,024 entries cost more than testing them:
 * 8.5 -> 4.1 us a 5 % query (warm, 2M entries, 2026-12-02, shared machine).
 */
const SHORT_READ = 32;
const TIE_SLACK = 16;
/**
 * Longest body and needle searched in place by the byte loop (needlesInBody): at most
 * 1,024 x 32 byte steps a body, so a hostile body cannot make the loop quadratic; longer ones
 * go to test() (a folded copy and a native search: linear).
 */
const IN_PLACE_MAX_BODY = 1024;
const IN_PLACE_MAX_NEEDLE = 32;

/** Every byte to itself (a case-sensitive search through the same loop as a folded one). */
const SAME = Uint8Array.from({ length: 256 }, (_, b) => b);

/**
 * A needle prepared for the byte loop: Horspool's bad-character shifts over table-mapped
 * bytes (FOLD, or SAME when case matters), so a body is looked at every few bytes, not at
 * each one.
 */
interface InPlace {
  needle: Uint8Array;
  shift: Uint8Array;
}

function inPlace(needle: Uint8Array): InPlace {
  const m = needle.length;
  const shift = new Uint8Array(256).fill(Math.min(m, 255));
  for (let k = 0; k < m - 1; k++) shift[needle[k]!] = Math.min(m - 1 - k, 255);
  return { needle, shift };
}

/**
 * Where the table-mapped bytes[start, end) first hold the needle (Horspool), or -1. Horspool
 * tries alignments left to right and skips only those that cannot match, so this is the
 * leftmost occurrence, the one test()'s indexOf finds. On a ~100-byte body this takes a
 * fraction of what a folded copy and a native indexOf cost (the call alone is ~100 ns): the
 * 5 % token's ~20 bodies a query are ruled out here.
 */
function find(bytes: Uint8Array, start: number, end: number, n: InPlace, table: Uint8Array): number {
  const { needle, shift } = n;
  const m = needle.length;
  const lastByte = needle[m - 1]!;
  for (let p = start + m - 1; p < end; ) {
    const c = table[bytes[p]!]!;
    if (c === lastByte) {
      let k = m - 2;
      const at = p - m + 1;
      while (k >= 0 && table[bytes[at + k]!] === needle[k]) k--;
      if (k < 0) return at;
    }
    p += shift[c]!;
  }
  return -1;
}

function holds(bytes: Uint8Array, start: number, end: number, n: InPlace, table: Uint8Array): boolean {
  return find(bytes, start, end, n, table) >= 0;
}

/** Whether a sorted list of occurrence starts has one with [at, at + len) inside [start, end). */
function occursInside(list: Int32Array, len: number, start: number, end: number): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length && list[lo]! + len <= end;
}

/** The longest run of 3+ bytes of a needle that are not ASCII letters, or null. */
function letterFreeRun(needle: Uint8Array): { start: number; end: number } | null {
  let best: { start: number; end: number } | null = null;
  let run = 0;
  for (let k = 0; k <= needle.length; k++) {
    const b = k < needle.length ? needle[k]! : 0x41;
    const letter = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    if (!letter && k < needle.length) {
      run++;
      continue;
    }
    if (run >= 3 && (best === null || run > best.end - best.start)) best = { start: k - run, end: k };
    run = 0;
  }
  return best;
}

/** Whether raw[at..] folded equals the (folded) needle. */
function foldedEquals(raw: Uint8Array, at: number, needle: Uint8Array): boolean {
  for (let k = 0; k < needle.length; k++) if (FOLD[raw[at + k]!] !== needle[k]) return false;
  return true;
}

/**
 * What a native search looks for to find a needle in raw bytes: the needle itself (case
 * sensitive), or its longest run of 3+ bytes that are not ASCII letters (case cannot change
 * it; each hit is then checked folded). Null when the needle has no such run: finding it in a
 * block would take a folded copy of the block, which cost more than the byte loop on the
 * bodies (folding a 100 KB block: ~200 us).
 */
function nativeKey(needle: Uint8Array, fold: boolean): { start: number; end: number } | null {
  return fold ? letterFreeRun(needle) : { start: 0, end: needle.length };
}

/** What every cursor of a query needs of its CompiledText, built once per CompiledText. */
interface Prepared {
  /** Per needle, then per any-needle: its native search key; null when some needle has none. */
  keys: ({ start: number; end: number } | null)[] | null;
  /** Needles short enough for the byte loop, prepared (longer ones are left to test()). */
  needles: InPlace[];
  /** Any-needles prepared; null when one is too long (then no body is ruled out by them). */
  anyNeedles: InPlace[] | null;
  table: Uint8Array;
  /**
   * A `contains`-only filter whose needles all fit the byte loop: the loop's leftmost
   * occurrences are test()'s highlights, so a body it passes needs no test() (a folded copy,
   * a native search and a subarray: ~7 % of a 5 % token's query, profiled 2026-12-02). The
   * needles' texts, in order; null otherwise.
   */
  direct: readonly string[] | null;
}

const prepared = new WeakMap<CompiledText, Prepared>();

function prepare(text: CompiledText): Prepared {
  let p = prepared.get(text);
  if (p !== undefined) return p;
  const all = [...text.needles, ...text.anyNeedles];
  const keys = all.map((n) => nativeKey(n, text.foldCase));
  const short = (n: Uint8Array): boolean => n.length <= IN_PLACE_MAX_NEEDLE;
  p = {
    keys: all.length > 0 && keys.every((k) => k !== null) ? keys : null,
    needles: text.needles.filter(short).map(inPlace),
    anyNeedles: text.anyNeedles.every(short) ? text.anyNeedles.map(inPlace) : null,
    table: text.foldCase ? FOLD : SAME,
    direct: directTerms(text),
  };
  prepared.set(text, p);
  return p;
}

/** The `contains` texts when they alone decide a match and every needle fits the byte loop; else null. */
function directTerms(text: CompiledText): readonly string[] | null {
  const { spec } = text;
  const contains = spec.contains ?? [];
  if (spec.pattern !== undefined || spec.anyId !== undefined || Object.keys(spec.fields ?? {}).length > 0) return null;
  if (contains.length === 0 || text.needles.length !== contains.length || text.anyNeedles.length > 0) return null;
  return text.needles.every((n) => n.length <= IN_PLACE_MAX_NEEDLE) ? contains : null;
}

export class BlockBodies {
  private seg: Segment | null = null;
  private block = -1;
  /** Entries [from, to) of the block whose bodies were read into bytes (to = 0: none yet). */
  private from = 0;
  private to = 0;
  /** Whether [from, to) is the whole block (read for a block search). */
  private whole = false;
  private base = 0;
  private bytes: Uint8Array | null = null;
  /** Per needle, the sorted offsets of its occurrences in bytes (lazily built). */
  private occ: Int32Array[] | null = null;
  /** Bodies of this block tested so far. */
  private used = 0;
  private readonly prep: Prepared;
  /** Scratch: each needle's occurrence in the body being decided. */
  private readonly at: number[] = [];
  /**
   * The other direction's reader of the same sequence (nearest): a range it read that holds
   * the entry wanted is used, not read again. With the WAL each range is a pread (5.5 us on
   * this VM, 2.3 KB, 2026-12-02): the two directions' first reads were two, now one.
   */
  peer: BlockBodies | null = null;
  /** Whether this reader has read anything yet (its first forward read reaches back for the peer). */
  private started = false;

  constructor(
    private readonly store: BodyStore,
    private readonly text: CompiledText,
    /** The walking direction: a short read covers the entries ahead. */
    private readonly forward: boolean,
  ) {
    this.prep = prepare(text);
  }

  /** Null when the body cannot match (or is gone); the highlights when it matches. */
  match(seg: Segment, i: number): Highlight[] | null {
    const b = (i / FILTER_BLOCK) | 0;
    if (seg !== this.seg || b !== this.block) this.enter(seg, b);
    const blockSearch = this.prep.keys !== null && ++this.used > BODIES_BEFORE_BLOCK_SEARCH;
    if (i < this.from || i >= this.to || (blockSearch && !this.whole)) this.load(seg, b, i, blockSearch);
    const pos = seg.bodyPosAt(i);
    const len = Math.min(seg.bodyLenAt(i), MAX_MATCH_BYTES);
    const bytes = this.bytes;
    if (bytes !== null && pos >= this.base && pos + len <= this.base + bytes.length) {
      const start = pos - this.base;
      if (!blockSearch && this.prep.direct !== null && len <= IN_PLACE_MAX_BODY) return this.direct(bytes, start, start + len, this.prep.direct);
      if (!(blockSearch ? this.needlesInside(start, start + len) : this.needlesInBody(bytes, start, start + len))) return null;
      return this.text.test(bytes.subarray(start, start + len));
    }
    const body = this.store.read(pos, len, len);
    return body === null ? null : this.text.test(body);
  }

  /** test()'s answer for a `contains`-only filter, from the byte loop's leftmost occurrences. */
  private direct(bytes: Uint8Array, start: number, end: number, terms: readonly string[]): Highlight[] | null {
    const { needles, table } = this.prep;
    const at = this.at;
    for (let k = 0; k < needles.length; k++) {
      const p = find(bytes, start, end, needles[k]!, table);
      if (p < 0) return null;
      at[k] = p;
    }
    const out: Highlight[] = [];
    for (let k = 0; k < needles.length; k++) {
      const first = charsOf(bytes, start, at[k]!);
      out.push({ filter: 'contains', term: terms[k]!, start: first, end: first + charsOf(bytes, at[k]!, at[k]! + needles[k]!.needle.length) });
    }
    return out;
  }

  /**
   * Whether every needle (and one of the any-needles, if any) may occur in bytes[start, end),
   * searched in place: no folded copy, no native call, no allocation (test() does all three).
   * A body or needle too long for the byte loop is left to test() (true: "may").
   */
  private needlesInBody(bytes: Uint8Array, start: number, end: number): boolean {
    if (end - start > IN_PLACE_MAX_BODY) return true;
    const { needles, anyNeedles, table } = this.prep;
    for (let k = 0; k < needles.length; k++) if (!holds(bytes, start, end, needles[k]!, table)) return false;
    if (anyNeedles === null || anyNeedles.length === 0) return true;
    for (let k = 0; k < anyNeedles.length; k++) if (holds(bytes, start, end, anyNeedles[k]!, table)) return true;
    return false;
  }

  /** Whether every needle (and one of the any-needles, if any) occurs inside [start, end) of the block buffer. */
  private needlesInside(start: number, end: number): boolean {
    const text = this.text;
    if (this.occ === null) this.occ = this.findAll();
    const all = text.needles.length;
    for (let k = 0; k < all; k++) if (!occursInside(this.occ[k]!, text.needles[k]!.length, start, end)) return false;
    if (text.anyNeedles.length === 0) return true;
    for (let k = 0; k < text.anyNeedles.length; k++) if (occursInside(this.occ[all + k]!, text.anyNeedles[k]!.length, start, end)) return true;
    return false;
  }

  /** Sorted start offsets of every needle (then every any-needle) in the buffer, by native search of its key. */
  private findAll(): Int32Array[] {
    const raw = this.bytes!;
    const rawBuf = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    const fold = this.text.foldCase;
    return [...this.text.needles, ...this.text.anyNeedles].map((needle, k) => {
      const found: number[] = [];
      const key = this.prep.keys![k]!;
      const piece = needle.subarray(key.start, key.end);
      // Overlapping occurrences too: a body may start inside an earlier occurrence's bytes.
      for (let at = rawBuf.indexOf(piece); at >= 0; at = rawBuf.indexOf(piece, at + 1)) {
        const s = at - key.start;
        if (s >= 0 && s + needle.length <= raw.length && (!fold || foldedEquals(raw, s, needle))) found.push(s);
      }
      return Int32Array.from(found);
    });
  }

  /** A new block: nothing read from it yet. */
  private enter(seg: Segment, b: number): void {
    this.seg = seg;
    this.block = b;
    this.bytes = null;
    this.from = this.to = 0;
    this.occ = null;
    this.used = 0;
  }

  /** Reads the bodies of the whole block (for a block search) or of a short range at entry i. */
  private load(seg: Segment, b: number, i: number, whole: boolean): void {
    if (this.adopt(seg, b, i, whole)) return;
    const blockStart = b * FILTER_BLOCK;
    const blockEnd = Math.min(seg.count, blockStart + FILTER_BLOCK);
    let start = blockStart;
    let end = blockEnd;
    if (!whole) {
      // The first read with a peer covers both directions' first entries: SHORT_READ each way.
      const both = this.peer !== null && !this.started;
      start = Math.max(blockStart, this.forward ? i - (both ? SHORT_READ : 0) : i + 1 - SHORT_READ);
      end = Math.min(blockEnd, this.forward ? i + SHORT_READ : i + 1 + (both ? SHORT_READ : TIE_SLACK));
    }
    this.started = true;
    this.from = start;
    this.to = end;
    this.whole = whole;
    this.bytes = null;
    this.occ = null;
    if (!bodySpan(seg, start, end)) return;
    this.base = span.lo;
    this.bytes = this.store.read(span.lo, span.hi - span.lo, span.hi - span.lo);
  }

  /** Takes the peer's bytes when they hold entry i of the same block (the whole block if whole). */
  private adopt(seg: Segment, b: number, i: number, whole: boolean): boolean {
    const p = this.peer;
    if (p === null || p.bytes === null || p.seg !== seg || p.block !== b || i < p.from || i >= p.to || (whole && !p.whole)) return false;
    this.from = p.from;
    this.to = p.to;
    this.whole = p.whole;
    this.base = p.base;
    this.bytes = p.bytes;
    this.occ = p.occ;
    return true;
  }
}

/** Bytes past which the bodies of a run of entries are not read in one range. */
const MAX_RANGE_READ = 4 * 1024 * 1024;
/** What bodySpan found (one object, reused: it runs per block read). */
export const span = { lo: 0, hi: 0 };

/**
 * The byte range [span.lo, span.hi) holding the searchable bytes (at most MAX_MATCH_BYTES of
 * each body) of entries [from, to) of seg, for one range read. False when there is nothing to
 * read, or the range is more than MAX_RANGE_READ long: late lines can point far away, and a
 * range much larger than the bodies is not worth reading.
 */
export function bodySpan(seg: Segment, from: number, to: number): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = from; k < to; k++) {
    const pos = seg.bodyPosAt(k);
    if (pos < lo) lo = pos;
    const e = pos + Math.min(seg.bodyLenAt(k), MAX_MATCH_BYTES);
    if (e > hi) hi = e;
  }
  span.lo = lo;
  span.hi = hi;
  return hi > lo && hi - lo <= MAX_RANGE_READ;
}
