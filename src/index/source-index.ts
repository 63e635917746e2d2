/**
 * Everything indexed for one source: its main run and its late store. One source per index
 * keeps each run nearly sorted (a source writes in time order, give or take a few lines), so
 * sources catching up at different speeds never push each other out of order.
 */
import { LateStore } from './late-store.js';
import { MainRun } from './main-run.js';
import { FILTER_GROUP, FILTER_WORDS } from '../text/index.js';
import { type ColumnBatch, TimeChunk } from './time-chunk.js';
import type { Segment, SortedSeq } from './segment.js';

export class SourceIndex {
  readonly main: MainRun;
  readonly late = new LateStore();

  constructor(
    /** The source's configured name. */
    readonly name: string,
    /** Configuration order: ties between sources at equal timestamps go to the lower rank. */
    readonly rank: number,
    chunkCapacity?: number,
  ) {
    this.main = new MainRun(chunkCapacity);
    this.mainOnly = [this.main];
  }

  /** Adds an entry; `filter` is its group's text filter (words[filterAt..]), if it has one. */
  append(ts: number, meta: number, line: number, bodyPos: number, bodyLen: number, filter?: Uint32Array | null, filterAt = 0): void {
    if (!this.main.append(ts, meta, line, bodyPos, bodyLen, filter, filterAt)) this.late.insert(ts, meta, line, bodyPos, bodyLen);
  }

  /**
   * Appends a parsed batch: runs of in-order entries go to the main run column by column, and
   * each entry that breaks the order takes the per-entry path (in place, or the late store).
   */
  appendBatch(b: ColumnBatch): void {
    let i = 0;
    while (i < b.count) {
      i = this.main.appendRun(b, i);
      if (i >= b.count) break;
      const start = b.bodyStart[i]!;
      this.append(b.ts[i]!, b.meta[i]!, b.lineAdd + b.line[i]!, b.bodyAdd + start, b.bodyEnd[i]! - start, b.filters, ((i / FILTER_GROUP) | 0) * FILTER_WORDS);
      i++;
    }
  }

  get entries(): number {
    return this.main.entries + this.late.entries;
  }

  get firstTs(): number {
    return Math.min(this.main.firstTs, this.late.firstTs);
  }

  /** Latest timestamp indexed (late entries are older than the main run's last by definition). */
  get lastTs(): number {
    return this.main.lastTs;
  }

  private readonly mainOnly: SortedSeq[];

  /** The sorted sequences a query must search: the main run, then any late runs. */
  sequences(): SortedSeq[] {
    const late = this.late.sequences();
    // No allocation for the common case of in-order data: every query asks for this.
    return late.length === 0 ? this.mainOnly : [this.main, ...late];
  }

  dropBodiesBefore(bodyPos: number): number {
    return this.main.dropBodiesBefore(bodyPos) + this.late.dropBodiesBefore(bodyPos);
  }

  memoryBytes(): number {
    return this.main.memoryBytes() + this.late.memoryBytes();
  }
}

/**
 * The entry whose first line is `line` in its source (related_log's origin), or null. Chunks
 * are searched newest first (after a rotation line numbers start again: the newest file
 * wins); within a chunk by its lines, which only late lines put out of order.
 */
export function entryAtLine(index: SourceIndex, line: number): { seg: Segment; i: number } | null {
  for (const seq of index.sequences()) {
    for (let s = seq.segmentCount - 1; s >= seq.firstSegment; s--) {
      const seg = seq.segment(s);
      if (seg.count === 0 || (seg instanceof TimeChunk && line < seg.lineBase)) continue;
      for (let i = seg.count - 1; i >= 0; i--) if (seg.lineAt(i) === line) return { seg, i };
    }
  }
  return null;
}
