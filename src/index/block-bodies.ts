/**
 * The bodies a text search reads, a block of entries at a time (src/index/text-scan.ts walks
 * the blocks): one range read per block of FILTER_BLOCK entries, since their bodies lie close
 * together in the WAL, and with `contains` one search of the whole block per needle.
 */
import type { BodyStore } from './body-store.js';
import { FILTER_BLOCK, FOLD, type CompiledText, type Highlight, MAX_MATCH_BYTES, foldBytes } from '../text/index.js';
import type { Segment } from './segment.js';

/**
 * Bodies of one block, read in one go; falls back to single reads for what it lacks. With
 * `contains` needles the block is searched once per needle (a native search over the whole
 * buffer, folded once when case folding is on) and a body without an occurrence of every
 * needle inside it is ruled out without being looked at: 8.3 -> ~1 us per body at 200k
 * entries (measured 2026-12-02, shared machine under load).
 */
const BODIES_BEFORE_BLOCK_SEARCH = 32;

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

export class BlockBodies {
  private seg: Segment | null = null;
  private block = -1;
  private base = 0;
  private bytes: Uint8Array | null = null;
  /** Per needle, the sorted offsets of its occurrences in the block buffer (lazily built). */
  private occ: Int32Array[] | null = null;
  private folded: Uint8Array = new Uint8Array(0);
  /** Bodies of this block tested so far. */
  private used = 0;

  constructor(
    private readonly store: BodyStore,
    private readonly text: CompiledText,
  ) {}

  /** Null when the body cannot match (or is gone); the highlights when it matches. */
  match(seg: Segment, i: number): Highlight[] | null {
    const b = (i / FILTER_BLOCK) | 0;
    if (seg !== this.seg || b !== this.block) this.load(seg, b);
    const pos = seg.bodyPosAt(i);
    const len = Math.min(seg.bodyLenAt(i), MAX_MATCH_BYTES);
    const bytes = this.bytes;
    if (bytes !== null && pos >= this.base && pos + len <= this.base + bytes.length) {
      const start = pos - this.base;
      // A common needle is found within a few bodies: searching the whole block for it would
      // cost more than those bodies (0.56 ms for 10 'GET' bodies). Past a few dozen bodies
      // the block search pays.
      if (++this.used > BODIES_BEFORE_BLOCK_SEARCH && !this.needlesInside(start, start + len)) return null;
      return this.text.test(bytes.subarray(start, start + len));
    }
    const body = this.store.read(pos, len, len);
    return body === null ? null : this.text.test(body);
  }

  /** Whether every needle (and one of the any-needles, if any) occurs inside [start, end) of the block buffer. */
  private needlesInside(start: number, end: number): boolean {
    const text = this.text;
    if (text.needles.length === 0 && text.anyNeedles.length === 0) return true;
    if (this.occ === null) this.occ = this.findAll();
    const all = text.needles.length;
    for (let k = 0; k < all; k++) if (!occursInside(this.occ[k]!, text.needles[k]!.length, start, end)) return false;
    if (text.anyNeedles.length === 0) return true;
    for (let k = 0; k < text.anyNeedles.length; k++) if (occursInside(this.occ[all + k]!, text.anyNeedles[k]!.length, start, end)) return true;
    return false;
  }

  /**
   * Sorted start offsets of every needle (then every any-needle) in the block buffer. A needle
   * with a run of 3+ bytes that are not ASCII letters is found by searching the raw bytes for
   * that run (case cannot change it) and checking each hit folded: no copy of the block. Only
   * needles without such a run make a folded copy of the block (measured: folding a 100 KB block
   * cost more than the search; fields and id values are mostly digits and dashes).
   */
  private findAll(): Int32Array[] {
    const raw = this.bytes!;
    const rawBuf = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    let folded: Buffer | null = null;
    const foldedHay = (): Buffer => {
      if (folded !== null) return folded;
      if (this.folded.length < raw.length) this.folded = new Uint8Array(Math.max(raw.length, this.folded.length * 2));
      const f = foldBytes(raw, this.folded);
      return (folded = Buffer.from(f.buffer, f.byteOffset, f.length));
    };
    const fold = this.text.foldCase;
    return [...this.text.needles, ...this.text.anyNeedles].map((needle) => {
      const found: number[] = [];
      const core = fold ? letterFreeRun(needle) : null;
      if (!fold) {
        for (let at = rawBuf.indexOf(needle); at >= 0; at = rawBuf.indexOf(needle, at + 1)) found.push(at);
      } else if (core !== null) {
        const piece = needle.subarray(core.start, core.end);
        for (let at = rawBuf.indexOf(piece); at >= 0; at = rawBuf.indexOf(piece, at + 1)) {
          const s = at - core.start;
          if (s >= 0 && s + needle.length <= raw.length && foldedEquals(raw, s, needle)) found.push(s);
        }
      } else {
        // Overlapping occurrences too: a body may start inside an earlier occurrence's bytes.
        const hay = foldedHay();
        for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) found.push(at);
      }
      return Int32Array.from(found);
    });
  }

  private load(seg: Segment, b: number): void {
    this.seg = seg;
    this.block = b;
    this.bytes = null;
    this.occ = null;
    this.used = 0;
    const start = b * FILTER_BLOCK;
    const end = Math.min(seg.count, start + FILTER_BLOCK);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      const pos = seg.bodyPosAt(i);
      if (pos < lo) lo = pos;
      const e = pos + Math.min(seg.bodyLenAt(i), MAX_MATCH_BYTES);
      if (e > hi) hi = e;
    }
    // Late lines can point far away; a range much larger than the bodies is not worth it.
    if (hi - lo > 4 * 1024 * 1024 || hi <= lo) return;
    this.base = lo;
    this.bytes = this.store.read(lo, hi - lo, hi - lo);
  }
}
