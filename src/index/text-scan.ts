/**
 * Text search near a moment: the entries nearest to T whose bodies match a text filter, found
 * by walking outward from T (both ways, or one) and reading bodies, in the contract's order.
 *
 *                 <- backward cursors            forward cursors ->
 *   ... [block][block][block]  T  [block][block][block] ...
 *          skip   read   read     read   skip   skip        (skip: the block's trigram
 *                                                             filter rules the text out)
 *
 * One scan cursor per source, sorted sequence and direction yields candidates (entries of the
 * wanted tags in blocks whose filter allows a match) in (ts, line) order; a k-way merge takes
 * them in result order, as findNearest does, and reads each candidate's body only when it is
 * the next in that order. So every entry closer than the current candidate has been looked
 * at, and when the budget (bodies read, milliseconds) runs out, the answer can say exactly
 * how far it looked: `searched`, never a silent no_match for a window it did not finish.
 *
 * Bodies of a block are read in one range read (they lie close together in the WAL): one
 * pread per 1,024 entries instead of one per entry.
 */
import { TAG_MASK } from '../parse/meta.js';
import { TAG_COUNT } from '../parse/levels.js';
import type { BodyStore } from '../store/body-store.js';
import { FILTER_BLOCK, FOLD, mayContain } from '../text/ngram-filter.js';
import { type CompiledText, type Highlight, MAX_MATCH_BYTES, foldBytes } from '../text/text-query.js';
import { countInRange } from './count.js';
import { Hit } from './hit.js';
import type { Direction } from './nearest.js';
import type { Segment, SortedSeq } from './segment.js';
import type { SourceIndex } from './source-index.js';

export interface ScanBudget {
  /** Bodies read at most. */
  entries: number;
  /** Milliseconds at most (checked every few dozen bodies). */
  ms: number;
}

/**
 * Default limits of one text search: a call stays near 150 ms however rare the text (the
 * issue asks for ~200 ms), and a million bodies bounds the work on a fast machine.
 */
export const DEFAULT_SCAN_BUDGET: ScanBudget = { entries: 1_000_000, ms: 150 };

export interface ScanSpec {
  t: number;
  tags: readonly number[] | null;
  count: number;
  direction: Direction;
  maxDistance: number;
  text: CompiledText;
  budget: ScanBudget;
}

/** How far a text search looked: every entry in the window was examined (read or ruled out). */
export interface Searched {
  /** Window bounds, epoch microseconds (from <= to). */
  from: number;
  to: number;
  /** Entries in the window (of the sources searched). */
  entries: number;
  /** Bodies read to decide. */
  read: number;
  /** False when the budget ran out before the search was done: beyond the window is unknown. */
  complete: boolean;
}

export interface TextHit {
  hit: Hit;
  highlights: Highlight[];
}

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

class BlockBodies {
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

/** Candidates of one sorted sequence in one direction; see the file header. */
class ScanCursor {
  s = -1;
  i = 0;
  ts = 0;
  line = 0;
  seg!: Segment;
  /** Backward: a run of equal timestamps, handed out in ascending line order (last-first). */
  private groupS: number[] = [];
  private groupI: number[] = [];
  private groupAt = 0;
  /** Backward: the next candidate after the buffered group (s < 0: none). */
  private nextS = -1;
  private nextI = 0;
  /** The block whose filter was last checked, and the answer. */
  private checkedSeg: Segment | null = null;
  private checkedBlock = -1;
  private checkedPass = false;

  constructor(
    private readonly seq: SortedSeq,
    readonly forward: boolean,
    readonly sourceRank: number,
    private readonly tagSet: Uint8Array | null,
    private readonly tags: readonly number[] | null,
    private readonly text: CompiledText,
    /** Entries past this time (forward) or before it (backward) are out of range. */
    private readonly limit: number,
    /** This cursor's block of bodies (one per cursor: the two directions would evict each other). */
    readonly reader: BlockBodies,
  ) {}

  get valid(): boolean {
    return this.s >= 0;
  }

  seek(t: number, inclusive: boolean): this {
    const seq = this.seq;
    if (seq.segmentCount <= seq.firstSegment) return this;
    let s = seq.findSegment(t);
    let seg = seq.segment(s);
    const useUpper = this.forward ? !inclusive : inclusive;
    let bound = useUpper ? seg.upperBound(t) : seg.lowerBound(t);
    // Equal timestamps may span chunks: the upper bound may lie in a later one.
    while (useUpper && bound === seg.count && s + 1 < seq.segmentCount && seq.segment(s + 1).ts[0] === t) {
      s++;
      seg = seq.segment(s);
      bound = seg.upperBound(t);
    }
    if (this.forward) this.settleForward(s, bound);
    else {
      this.settleBackward(s, bound - 1);
      this.nextS = this.s;
      this.nextI = this.i;
      this.groupAt = 0;
      this.advance();
    }
    return this;
  }

  advance(): void {
    if (this.forward) {
      this.settleForward(this.s, this.i + 1);
      return;
    }
    if (this.groupAt === 0) this.fillGroup();
    if (this.groupAt === 0) {
      this.s = -1;
      return;
    }
    this.groupAt--;
    this.load(this.groupS[this.groupAt]!, this.groupI[this.groupAt]!);
  }

  /** Buffers the next run of equal timestamps among backward candidates. */
  private fillGroup(): void {
    if (this.nextS < 0) return;
    this.load(this.nextS, this.nextI);
    const t = this.ts;
    let k = 0;
    do {
      this.groupS[k] = this.s;
      this.groupI[k] = this.i;
      k++;
      this.settleBackward(this.s, this.i - 1);
    } while (this.s >= 0 && this.ts === t);
    this.nextS = this.s;
    this.nextI = this.i;
    this.groupAt = k;
  }

  private load(s: number, i: number): void {
    this.s = s;
    this.i = i;
    this.seg = this.seq.segment(s);
    this.ts = this.seg.ts[i]!;
    this.line = this.seg.lineAt(i);
  }

  /** Whether a segment holds any wanted tag at all. */
  private holdsTags(seg: Segment): boolean {
    const tags = this.tags;
    if (tags === null) return true;
    for (const tag of tags) if (seg.tagCount(tag) > 0) return true;
    return false;
  }

  private blockPasses(seg: Segment, b: number): boolean {
    if (seg === this.checkedSeg && b === this.checkedBlock) return this.checkedPass;
    this.checkedSeg = seg;
    this.checkedBlock = b;
    const at = seg.blockFilter(b);
    let pass = true;
    if (at >= 0) {
      const words = seg.filterWordsOf;
      for (const bits of this.text.prefilter) {
        if (!mayContain(words, at, bits)) {
          pass = false;
          break;
        }
      }
      const any = this.text.prefilterAny;
      if (pass && any !== null) pass = any.some((bits) => mayContain(words, at, bits));
    }
    this.checkedPass = pass;
    return pass;
  }

  /** The first candidate at or after (s, i), or invalid. */
  private settleForward(s: number, i: number): void {
    const seq = this.seq;
    const tagSet = this.tagSet;
    while (s < seq.segmentCount) {
      const seg = seq.segment(s);
      if (i >= seg.count || !this.holdsTags(seg)) {
        s++;
        i = 0;
        continue;
      }
      if (seg.ts[i]! > this.limit) break;
      const b = (i / FILTER_BLOCK) | 0;
      if (!this.blockPasses(seg, b)) {
        i = (b + 1) * FILTER_BLOCK;
        continue;
      }
      if (tagSet !== null && tagSet[seg.meta[i]! & TAG_MASK] === 0) {
        i++;
        continue;
      }
      this.load(s, i);
      return;
    }
    this.s = -1;
  }

  /** The last candidate at or before (s, i), or invalid. */
  private settleBackward(s: number, i: number): void {
    const seq = this.seq;
    const tagSet = this.tagSet;
    while (s >= seq.firstSegment) {
      const seg = seq.segment(s);
      if (i < 0 || !this.holdsTags(seg)) {
        s--;
        i = s >= seq.firstSegment ? seq.segment(s).count - 1 : -1;
        continue;
      }
      if (seg.ts[i]! < this.limit) break;
      const b = (i / FILTER_BLOCK) | 0;
      if (!this.blockPasses(seg, b)) {
        i = b * FILTER_BLOCK - 1;
        continue;
      }
      if (tagSet !== null && tagSet[seg.meta[i]! & TAG_MASK] === 0) {
        i--;
        continue;
      }
      this.load(s, i);
      return;
    }
    this.s = -1;
  }
}

/** Same order as nearest.ts: distance, earlier first, source rank, line. */
function before(a: ScanCursor, b: ScanCursor, direction: Direction, t: number): boolean {
  if (direction === 'nearest') {
    const da = Math.abs(a.ts - t);
    const db = Math.abs(b.ts - t);
    if (da !== db) return da < db;
    if (a.ts !== b.ts) return a.ts < b.ts;
  } else if (a.ts !== b.ts) {
    return direction === 'before' ? a.ts > b.ts : a.ts < b.ts;
  }
  if (a.sourceRank !== b.sourceRank) return a.sourceRank < b.sourceRank;
  return a.line < b.line;
}

/** How often (in bodies read) the clock is checked against the budget. */
const CLOCK_EVERY = 32;

export function scanNearest(sources: readonly SourceIndex[], spec: ScanSpec, bodies: BodyStore): { hits: TextHit[]; searched: Searched } {
  const started = performance.now();
  const { t, direction } = spec;
  const maxDistance = spec.maxDistance;
  let tagSet: Uint8Array | null = null;
  if (spec.tags !== null) {
    tagSet = new Uint8Array(TAG_COUNT);
    for (const tag of spec.tags) tagSet[tag] = 1;
  }
  const cursors: ScanCursor[] = [];
  const owners: SourceIndex[] = [];
  for (const source of sources) {
    for (const seq of source.sequences()) {
      if (direction !== 'before') {
        cursors.push(new ScanCursor(seq, true, source.rank, tagSet, spec.tags, spec.text, t + maxDistance, new BlockBodies(bodies, spec.text)).seek(t, true));
        owners.push(source);
      }
      if (direction !== 'after') {
        cursors.push(new ScanCursor(seq, false, source.rank, tagSet, spec.tags, spec.text, t - maxDistance, new BlockBodies(bodies, spec.text)).seek(t, direction === 'before'));
        owners.push(source);
      }
    }
  }
  const hits: TextHit[] = [];
  let read = 0;
  let stop: ScanCursor | null = null;
  while (hits.length < spec.count) {
    let best = -1;
    for (let c = 0; c < cursors.length; c++) {
      const cursor = cursors[c]!;
      if (cursor.valid && (best < 0 || before(cursor, cursors[best]!, direction, t))) best = c;
    }
    if (best < 0) break;
    const cursor = cursors[best]!;
    if (Math.abs(cursor.ts - t) > maxDistance) break;
    if (read >= spec.budget.entries || (read % CLOCK_EVERY === 0 && read > 0 && performance.now() - started >= spec.budget.ms)) {
      stop = cursor;
      break;
    }
    read++;
    const highlights = cursor.reader.match(cursor.seg, cursor.i);
    if (highlights !== null) hits.push({ hit: new Hit(owners[best]!, cursor.seg, cursor.i, cursor.ts), highlights });
    cursor.advance();
  }
  return { hits, searched: window(sources, spec, hits, stop, read) };
}

/**
 * The window a scan examined. Stopped by the budget at a candidate at distance d: every entry
 * strictly closer was examined. Otherwise: up to the last hit when count was reached, else
 * up to max_distance or the end of the data.
 */
function window(sources: readonly SourceIndex[], spec: ScanSpec, hits: readonly TextHit[], stop: ScanCursor | null, read: number): Searched {
  const { t, direction } = spec;
  let first = Infinity;
  let last = -Infinity;
  for (const s of sources) {
    if (s.entries === 0) continue;
    first = Math.min(first, s.firstTs);
    last = Math.max(last, s.lastTs);
  }
  let reach: number;
  if (stop !== null) reach = Math.abs(stop.ts - t);
  else if (hits.length >= spec.count && hits.length > 0) reach = Math.abs(hits[hits.length - 1]!.hit.ts - t);
  else reach = Math.min(spec.maxDistance, Math.max(Math.abs(t - first), Math.abs(last - t), 0));
  if (!Number.isFinite(reach)) reach = 0;
  const from = direction === 'after' ? t : t - reach;
  const to = direction === 'before' ? t : t + reach;
  // A budget stop at distance d examined the open window; a finished one, the closed window.
  const entries = stop !== null
    ? countOpen(sources, from, to, direction, t)
    : countInRange(sources, from, to + 1, null);
  return { from, to, entries, read, complete: stop === null };
}

/** Entries strictly inside (from, to), with the query time itself counted for before/after. */
function countOpen(sources: readonly SourceIndex[], from: number, to: number, direction: Direction, t: number): number {
  const lo = direction === 'after' ? t : from + 1;
  const hi = direction === 'before' ? t + 1 : to;
  return hi > lo ? countInRange(sources, lo, hi, null) : 0;
}
