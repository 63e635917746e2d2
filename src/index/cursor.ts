/**
 * Cursors walk one SortedSeq forward or backward from a timestamp, over all entries or over
 * one tag's entries only. A tag cursor binary-searches the chunk's tag list and jumps between
 * chunks that hold the tag, so a rare tag costs the same as a common one: no scan outward.
 *
 * Backward cursors normally hand out each run of equal timestamps in ascending line order
 * (`ascendingTies`), which is the order results are reported in; context walks use strict
 * descending order instead.
 */
import type { Segment, SortedSeq } from './segment.js';
import { lowerBoundIndex } from './segment.js';

export const ALL_TAGS = -1;

/** A raw position walker: strict (ts, line) order, forward or backward. */
class Walker {
  s = -1;
  /** Entry index within the segment. */
  i = 0;
  /** Index within the segment's tag list (tag walkers). */
  private j = 0;
  private n = 0;
  private list: ArrayLike<number> | undefined;

  constructor(
    private readonly seq: SortedSeq,
    private readonly tag: number,
    private readonly forward: boolean,
  ) {}

  get valid(): boolean {
    return this.s >= 0;
  }

  get segment(): Segment {
    return this.seq.segment(this.s);
  }

  /**
   * Positions at the first entry at or after t (forward; ts > t when not inclusive) or the last
   * entry at or before t (backward; ts < t when not inclusive).
   */
  seek(t: number, inclusive: boolean): void {
    const seq = this.seq;
    if (seq.segmentCount <= seq.firstSegment) {
      this.s = -1;
      return;
    }
    let s = seq.findSegment(t);
    let seg = seq.segment(s);
    // Boundary index: first entry past the ones that belong behind the cursor.
    const useUpper = this.forward ? !inclusive : inclusive;
    let bound = useUpper ? seg.upperBound(t) : seg.lowerBound(t);
    // With equal timestamps spanning chunks the bound may lie in a later chunk.
    while (useUpper && bound === seg.count && s + 1 < seq.segmentCount && seq.segment(s + 1).ts[0] === t) {
      s++;
      seg = seq.segment(s);
      bound = seg.upperBound(t);
    }
    if (this.tag === ALL_TAGS) {
      if (this.forward) this.setAll(s, bound);
      else this.setAll(s, bound - 1);
    } else {
      this.list = seg.tagList(this.tag);
      this.n = seg.tagCount(this.tag);
      const j = this.list === undefined ? 0 : lowerBoundIndex(this.list, bound, this.n);
      if (this.forward) this.setTag(s, j);
      else this.setTag(s, j - 1);
    }
  }

  step(): void {
    if (this.tag === ALL_TAGS) this.setAll(this.s, this.forward ? this.i + 1 : this.i - 1);
    else this.setTag(this.s, this.forward ? this.j + 1 : this.j - 1);
  }

  /** Moves to entry index i of segment s, normalizing across segment ends. */
  private setAll(s: number, i: number): void {
    const seq = this.seq;
    if (this.forward) {
      while (s < seq.segmentCount && i >= seq.segment(s).count) {
        s++;
        i = 0;
      }
      if (s >= seq.segmentCount) {
        this.s = -1;
        return;
      }
    } else {
      while (i < 0) {
        s--;
        if (s < seq.firstSegment) {
          this.s = -1;
          return;
        }
        i = seq.segment(s).count - 1;
      }
    }
    this.s = s;
    this.i = i;
  }

  /** Moves to tag-list index j of segment s, jumping to the next/previous segment holding the tag. */
  private setTag(s: number, j: number): void {
    const seq = this.seq;
    // A chunk listed for the tag may hold none of it any more (retention trimmed it): skip.
    if (this.forward) {
      while (j >= this.n) {
        s = seq.nextWithTag(this.tag, s + 1);
        j = 0;
        if (s < 0) {
          this.s = -1;
          return;
        }
        this.loadList(s);
      }
    } else {
      while (j < 0) {
        s = seq.prevWithTag(this.tag, s - 1);
        if (s < 0) {
          this.s = -1;
          return;
        }
        this.loadList(s);
        j = this.n - 1;
      }
    }
    if (this.n === 0 || this.list === undefined) {
      this.s = -1;
      return;
    }
    this.s = s;
    this.j = j;
    this.i = this.list[j]!;
  }

  private loadList(s: number): void {
    const seg = this.seq.segment(s);
    this.list = seg.tagList(this.tag);
    this.n = seg.tagCount(this.tag);
  }
}

/** A cursor yielding (segment, index) pairs in result order. */
export class Cursor {
  private readonly walker: Walker;
  /** Buffered run of equal timestamps (backward, ascending ties), stored last-first. */
  private groupSeg: number[] = [];
  private groupIdx: number[] = [];
  private groupAt = 0;
  /** Current position. */
  seg!: Segment;
  s = -1;
  i = 0;
  ts = 0;
  line = 0;

  constructor(
    readonly seq: SortedSeq,
    tag: number,
    readonly forward: boolean,
    private readonly ascendingTies: boolean,
    /** Rank of the source this cursor reads, for tie-breaking across sources. */
    readonly sourceRank: number,
  ) {
    this.walker = new Walker(seq, tag, forward);
  }

  get valid(): boolean {
    return this.s >= 0;
  }

  seek(t: number, inclusive: boolean): this {
    this.walker.seek(t, inclusive);
    this.groupAt = 0;
    this.advance();
    return this;
  }

  /** Positions strictly after (forward) or before (backward) the entry (t, line) in (ts, line) order. */
  seekPast(t: number, line: number): this {
    this.walker.seek(t, true);
    this.groupAt = 0;
    this.advance();
    while (this.valid && this.ts === t && (this.forward ? this.line <= line : this.line >= line)) this.advance();
    return this;
  }

  advance(): void {
    if (this.forward || !this.ascendingTies) {
      const w = this.walker;
      if (!w.valid) {
        this.s = -1;
        return;
      }
      this.load(w.s, w.i);
      w.step();
      return;
    }
    if (this.groupAt === 0) this.fillGroup();
    if (this.groupAt === 0) {
      this.s = -1;
      return;
    }
    this.groupAt--;
    this.load(this.groupSeg[this.groupAt]!, this.groupIdx[this.groupAt]!);
  }

  private fillGroup(): void {
    const w = this.walker;
    if (!w.valid) return;
    const t = w.segment.ts[w.i]!;
    let k = 0;
    do {
      this.groupSeg[k] = w.s;
      this.groupIdx[k] = w.i;
      k++;
      w.step();
    } while (w.valid && w.segment.ts[w.i] === t);
    this.groupAt = k;
  }

  private load(s: number, i: number): void {
    this.s = s;
    this.i = i;
    this.seg = this.seq.segment(s);
    this.ts = this.seg.ts[i]!;
    this.line = this.seg.lineAt(i);
  }
}
