/**
 * Entries that arrived too late for the main run (more than LATE_WINDOW entries out of order).
 *
 * A small log-structured merge: new late entries go into a sorted buffer of up to 1,024
 * entries (insertion by a short shift); a full buffer becomes an immutable run, and runs of
 * similar size are merged, so there are O(log n) runs and each entry is copied O(log n) times.
 * Queries search every run beside the main run; in-order data never creates one.
 */
import { TAG_COUNT, TAG_MASK } from '../parse/index.js';
import { MAX_BODY_LEN, type Segment, type SortedSeq, lowerBoundF64, upperBoundF64 } from './segment.js';

const BUFFER_CAPACITY = 1024;

/** A sorted run of late entries: a Segment and a one-segment SortedSeq at once. */
export class LateRun implements Segment, SortedSeq {
  count = 0;
  ts: Float64Array;
  meta: Uint8Array;
  line: Float64Array;
  bodyPos: Float64Array;
  bodyLen: Uint16Array;
  private tags: (Uint32Array | undefined)[] | null = null;
  private readonly tagCounts = new Uint32Array(TAG_COUNT);
  readonly firstSegment = 0;
  readonly segmentCount = 1;

  constructor(capacity: number) {
    this.ts = new Float64Array(capacity);
    this.meta = new Uint8Array(capacity);
    this.line = new Float64Array(capacity);
    this.bodyPos = new Float64Array(capacity);
    this.bodyLen = new Uint16Array(capacity);
  }

  get capacity(): number {
    return this.ts.length;
  }

  /** Late runs keep no text filters: they are small, and a search reads them whole. */
  blockFilter(): number {
    return -1;
  }

  readonly filterWordsOf = new Uint32Array(0);

  /** Inserts keeping (ts, line) order. */
  insert(ts: number, meta: number, line: number, bodyPos: number, bodyLen: number): void {
    let i = this.count;
    while (i > 0 && (this.ts[i - 1]! > ts || (this.ts[i - 1] === ts && this.line[i - 1]! > line))) i--;
    const n = this.count;
    this.ts.copyWithin(i + 1, i, n);
    this.meta.copyWithin(i + 1, i, n);
    this.line.copyWithin(i + 1, i, n);
    this.bodyPos.copyWithin(i + 1, i, n);
    this.bodyLen.copyWithin(i + 1, i, n);
    this.set(i, ts, meta, line, bodyPos, bodyLen);
    this.count = n + 1;
    this.tags = null;
    this.tagCounts[meta & TAG_MASK]!++;
  }

  set(i: number, ts: number, meta: number, line: number, bodyPos: number, bodyLen: number): void {
    this.ts[i] = ts;
    this.meta[i] = meta;
    this.line[i] = line;
    this.bodyPos[i] = bodyPos;
    this.bodyLen[i] = bodyLen > MAX_BODY_LEN ? MAX_BODY_LEN : bodyLen;
  }

  /** A run over checkpointed columns sorted by (ts, line), used in place. */
  static fromColumns(ts: Float64Array, meta: Uint8Array, line: Float64Array, bodyPos: Float64Array, bodyLen: Uint16Array): LateRun {
    const run = new LateRun(0);
    run.ts = ts;
    run.meta = meta;
    run.line = line;
    run.bodyPos = bodyPos;
    run.bodyLen = bodyLen;
    run.count = ts.length;
    for (let i = 0; i < run.count; i++) run.tagCounts[meta[i]! & TAG_MASK]!++;
    return run;
  }

  /** Merges two runs into a new one of exactly their combined size. */
  static merge(a: LateRun, b: LateRun, keep: (bodyPos: number) => boolean = () => true): LateRun {
    const out = new LateRun(a.count + b.count);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < a.count || j < b.count) {
      const takeA =
        j >= b.count ||
        (i < a.count && (a.ts[i]! < b.ts[j]! || (a.ts[i] === b.ts[j] && a.line[i]! <= b.line[j]!)));
      const src = takeA ? a : b;
      const x = takeA ? i++ : j++;
      if (!keep(src.bodyPos[x]!)) continue;
      out.set(k++, src.ts[x]!, src.meta[x]!, src.line[x]!, src.bodyPos[x]!, src.bodyLen[x]!);
      out.tagCounts[src.meta[x]! & TAG_MASK]!++;
    }
    out.count = k;
    return out;
  }

  lowerBound(t: number): number {
    return lowerBoundF64(this.ts, t, 0, this.count);
  }

  upperBound(t: number): number {
    return upperBoundF64(this.ts, t, 0, this.count);
  }

  tagList(tag: number): Uint32Array | undefined {
    if (this.tags === null) this.buildTagLists();
    return this.tags![tag];
  }

  tagCount(tag: number): number {
    return this.tagCounts[tag]!;
  }

  lineAt(i: number): number {
    return this.line[i]!;
  }

  bodyPosAt(i: number): number {
    return this.bodyPos[i]!;
  }

  bodyLenAt(i: number): number {
    return this.bodyLen[i]!;
  }

  segment(): Segment {
    return this;
  }

  findSegment(): number {
    return 0;
  }

  nextWithTag(tag: number, s: number): number {
    return s <= 0 && this.tagCounts[tag]! > 0 ? 0 : -1;
  }

  prevWithTag(tag: number, s: number): number {
    return s >= 0 && this.tagCounts[tag]! > 0 ? 0 : -1;
  }

  memoryBytes(): number {
    let bytes = this.ts.byteLength + this.meta.byteLength + this.line.byteLength + this.bodyPos.byteLength + this.bodyLen.byteLength;
    if (this.tags !== null) for (const list of this.tags) if (list !== undefined) bytes += list.byteLength;
    return bytes;
  }

  private buildTagLists(): void {
    const tags: (Uint32Array | undefined)[] = new Array(TAG_COUNT);
    const fill = new Uint32Array(TAG_COUNT);
    for (let tag = 0; tag < TAG_COUNT; tag++) if (this.tagCounts[tag]! > 0) tags[tag] = new Uint32Array(this.tagCounts[tag]!);
    for (let i = 0; i < this.count; i++) {
      const tag = this.meta[i]! & TAG_MASK;
      tags[tag]![fill[tag]!++] = i;
    }
    this.tags = tags;
  }
}

export class LateStore {
  private buffer = new LateRun(BUFFER_CAPACITY);
  private runs: LateRun[] = [];
  entries = 0;

  insert(ts: number, meta: number, line: number, bodyPos: number, bodyLen: number): void {
    if (this.buffer.count === this.buffer.capacity) {
      this.runs.push(this.buffer);
      this.buffer = new LateRun(BUFFER_CAPACITY);
      // Keep run sizes decreasing by at least half each step: O(log n) runs.
      while (this.runs.length >= 2 && this.runs[this.runs.length - 2]!.count <= 2 * this.runs[this.runs.length - 1]!.count) {
        const b = this.runs.pop()!;
        const a = this.runs.pop()!;
        this.runs.push(LateRun.merge(a, b));
      }
    }
    this.buffer.insert(ts, meta, line, bodyPos, bodyLen);
    this.entries++;
  }

  /** Every late entry as flat sorted columns (checkpoints). */
  snapshot(): LateRun {
    let all = new LateRun(0);
    for (const run of this.sequences()) all = LateRun.merge(all, run);
    return all;
  }

  /** Replaces the contents with checkpointed entries, already sorted by (ts, line). */
  restore(run: LateRun): void {
    this.runs = run.count > 0 ? [run] : [];
    this.buffer = new LateRun(BUFFER_CAPACITY);
    this.entries = run.count;
  }

  /** The non-empty runs, each a SortedSeq to search beside the main run. */
  sequences(): LateRun[] {
    return this.buffer.count > 0 ? [...this.runs, this.buffer] : this.runs;
  }

  get firstTs(): number {
    let min = Infinity;
    for (const run of this.sequences()) if (run.count > 0 && run.ts[0]! < min) min = run.ts[0]!;
    return min;
  }

  /** Drops entries whose bodies lie before bodyPos. Returns the number dropped. */
  dropBodiesBefore(bodyPos: number): number {
    const before = this.entries;
    const empty = new LateRun(0);
    const keep = (p: number): boolean => p >= bodyPos;
    this.runs = this.runs.map((run) => LateRun.merge(run, empty, keep)).filter((run) => run.count > 0);
    this.buffer = (() => {
      const kept = LateRun.merge(this.buffer, empty, keep);
      const buffer = new LateRun(BUFFER_CAPACITY);
      for (let i = 0; i < kept.count; i++) buffer.insert(kept.ts[i]!, kept.meta[i]!, kept.line[i]!, kept.bodyPos[i]!, kept.bodyLen[i]!);
      return buffer;
    })();
    this.entries = this.buffer.count;
    for (const run of this.runs) this.entries += run.count;
    return before - this.entries;
  }

  memoryBytes(): number {
    let bytes = this.buffer.memoryBytes();
    for (const run of this.runs) bytes += run.memoryBytes();
    return bytes;
  }
}
