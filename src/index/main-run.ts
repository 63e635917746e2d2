/**
 * The main run of one source: time chunks in order, each sorted, none overlapping the next.
 *
 * Appends in timestamp order are O(1). A line that is a little late (it sorts among the last
 * LATE_WINDOW entries of the unsealed chunk) is inserted in place with a short shift; one
 * that is later than that is refused, and the source index puts it in its late store. The
 * main run is never re-sorted.
 */
import { TAG_COUNT, TAG_MASK } from '../parse/index.js';
import type { SortedSeq } from './segment.js';
import { FILTER_BLOCK } from '../text/index.js';
import { type ColumnBatch, TimeChunk } from './time-chunk.js';

/** How far back (in entries) a late line may be inserted into the unsealed chunk. */
export const LATE_WINDOW = 1024;

class IntList {
  items = new Int32Array(16);
  length = 0;
  push(v: number): void {
    if (this.length === this.items.length) {
      const grown = new Int32Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.length++] = v;
  }
  /** First index whose value is >= v. */
  lowerBound(v: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class MainRun implements SortedSeq {
  private readonly chunks: (TimeChunk | undefined)[] = [];
  private chunkFirst = new Float64Array(64);
  private readonly tagChunks: IntList[] = Array.from({ length: TAG_COUNT }, () => new IntList());
  firstSegment = 0;
  /** Entries in live chunks. */
  entries = 0;
  lastTs = -Infinity;

  constructor(private readonly chunkCapacity?: number) {}

  get segmentCount(): number {
    return this.chunks.length;
  }

  segment(s: number): TimeChunk {
    return this.chunks[s]!;
  }

  /** The chunk appends go to, if any. */
  get active(): TimeChunk | undefined {
    return this.chunks.length > this.firstSegment ? this.chunks[this.chunks.length - 1] : undefined;
  }

  get firstTs(): number {
    return this.entries === 0 ? Infinity : this.chunks[this.firstSegment]!.firstTs;
  }

  /** Adds an entry; false when it is too late for the main run (the caller stores it elsewhere). */
  append(ts: number, meta: number, line: number, bodyPos: number, bodyLen: number, filter?: Uint32Array | null, filterAt = 0): boolean {
    let chunk = this.active;
    if (chunk !== undefined && ts < this.lastTs) {
      if (!chunk.fits(line, bodyPos)) return false;
      const at = chunk.insertionPoint(ts, LATE_WINDOW);
      if (at < 0) return false;
      chunk.insertAt(at, ts, meta, line, bodyPos, bodyLen, filter, filterAt);
      this.noteTag(chunk, meta);
      this.entries++;
      return true;
    }
    if (chunk === undefined || !chunk.fits(line, bodyPos)) {
      chunk?.seal();
      chunk = new TimeChunk(line, bodyPos, this.chunkCapacity);
      this.pushChunk(chunk, ts);
    }
    chunk.append(ts, meta, line, bodyPos, bodyLen, filter, filterAt);
    this.noteTag(chunk, meta);
    this.entries++;
    this.lastTs = ts;
    return true;
  }

  /**
   * Appends batch entries from `from` on while they arrive in order, chunk after chunk; returns
   * the index of the first entry left (b.count when all were taken). The entry left is one the
   * per-entry path must place: earlier than the run's last timestamp (append() then inserts it
   * in place or refuses it as late).
   */
  appendRun(b: ColumnBatch, from: number): number {
    let i = from;
    while (i < b.count) {
      const t = b.ts[i]!;
      if (t < this.lastTs) return i;
      let chunk = this.active;
      if (chunk === undefined || !chunk.fits(b.lineAdd + b.line[i]!, b.bodyAdd + b.bodyStart[i]!)) {
        chunk?.seal();
        chunk = new TimeChunk(b.lineAdd + b.line[i]!, b.bodyAdd + b.bodyStart[i]!, this.chunkCapacity);
        this.pushChunk(chunk, t);
      }
      const to = chunk.appendColumns(b, i, b.count);
      if (to === i) return i;
      this.entries += to - i;
      this.lastTs = chunk.lastTs;
      this.noteTags(chunk);
      i = to;
    }
    return i;
  }

  /** Adds a chunk at the end and records its first timestamp; returns its index. */
  private pushChunk(chunk: TimeChunk, firstTs: number): number {
    const s = this.chunks.length;
    this.chunks.push(chunk);
    if (s === this.chunkFirst.length) {
      const grown = new Float64Array(s * 2);
      grown.set(this.chunkFirst);
      this.chunkFirst = grown;
    }
    this.chunkFirst[s] = firstTs;
    return s;
  }

  findSegment(t: number): number {
    const first = this.firstSegment;
    const n = this.chunks.length;
    if (n - first <= 1) return first;
    const starts = this.chunkFirst;
    const lowStart = starts[first]!;
    if (t <= lowStart) return first;
    const highStart = starts[n - 1]!;
    if (t > highStart) return n - 1;
    // Chunks hold equal entry counts and logs arrive at a steady rate, so chunk starts are
    // nearly evenly spaced in time: interpolate, then step; binary search only as a fallback.
    // (64 ns -> 15 ns per lookup at 153 chunks.)
    let g = first + Math.floor(((t - lowStart) / (highStart - lowStart)) * (n - 1 - first));
    for (let steps = 0; steps < 4; steps++) {
      if (starts[g]! >= t) g--;
      else if (g + 1 < n && starts[g + 1]! < t) g++;
      else return g;
    }
    // Last chunk whose first timestamp is < t.
    let lo = first;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo > first ? lo - 1 : first;
  }

  nextWithTag(tag: number, s: number): number {
    const list = this.tagChunks[tag]!;
    const j = list.lowerBound(Math.max(s, this.firstSegment));
    return j < list.length ? list.items[j]! : -1;
  }

  prevWithTag(tag: number, s: number): number {
    const list = this.tagChunks[tag]!;
    const j = list.lowerBound(s + 1) - 1;
    if (j < 0) return -1;
    const id = list.items[j]!;
    return id >= this.firstSegment ? id : -1;
  }

  /** Live chunks, oldest first (checkpoints). */
  liveChunks(): TimeChunk[] {
    return this.chunks.slice(this.firstSegment) as TimeChunk[];
  }

  /** Adds a sealed chunk read back from a checkpoint; chunks must come in order. */
  restoreChunk(chunk: TimeChunk): void {
    const s = this.pushChunk(chunk, chunk.firstTs);
    for (let tag = 0; tag < this.tagChunks.length; tag++) if (chunk.tagCount(tag) > 0) this.tagChunks[tag]!.push(s);
    this.entries += chunk.count;
    this.lastTs = chunk.lastTs;
  }

  /** Seals the unsealed chunk (checkpoints and tests; appends then start a new chunk). */
  sealActive(): void {
    this.active?.seal();
  }

  /**
   * Drops every entry whose body lies before bodyPos (retention deleted those bytes): whole
   * chunks from the front, then the straddling chunk is rebuilt with the entries it keeps.
   * Returns the number of entries dropped.
   */
  dropBodiesBefore(bodyPos: number): number {
    const before = this.entries;
    while (this.firstSegment < this.chunks.length) {
      const chunk = this.chunks[this.firstSegment]!;
      if (chunk.maxBodyPos >= bodyPos) break;
      this.entries -= chunk.count;
      this.chunks[this.firstSegment] = undefined;
      this.firstSegment++;
    }
    const first = this.chunks[this.firstSegment];
    if (first !== undefined && first.bodyBase < bodyPos) this.trimChunk(this.firstSegment, bodyPos);
    return before - this.entries;
  }

  /** Rebuilds chunk s without the entries whose body lies before bodyPos. */
  private trimChunk(s: number, bodyPos: number): void {
    const old = this.chunks[s]!;
    const keep: number[] = [];
    for (let i = 0; i < old.count; i++) if (old.bodyPosAt(i) >= bodyPos) keep.push(i);
    if (keep.length === old.count) return;
    this.entries -= old.count - keep.length;
    if (keep.length === 0) {
      this.chunks[s] = undefined;
      if (s === this.firstSegment) this.firstSegment++;
      return;
    }
    let lineBase = Infinity;
    let bodyBase = Infinity;
    for (const i of keep) {
      lineBase = Math.min(lineBase, old.lineAt(i));
      bodyBase = Math.min(bodyBase, old.bodyPosAt(i));
    }
    const fresh = new TimeChunk(lineBase, bodyBase, old.sealed ? keep.length : old.capacity);
    const words = old.filterWordsOf;
    for (const i of keep) {
      const at = old.blockFilter((i / FILTER_BLOCK) | 0);
      fresh.append(old.ts[i]!, old.meta[i]!, old.lineAt(i), old.bodyPosAt(i), old.bodyLenAt(i), at < 0 ? null : words, at);
    }
    if (old.sealed) fresh.seal();
    this.chunks[s] = fresh;
    this.chunkFirst[s] = fresh.firstTs;
    // Tag membership lists may still name this chunk for a tag it lost (a chunk only loses
    // entries here): cursors skip chunks whose tag count is 0.
  }

  memoryBytes(): number {
    let bytes = this.chunkFirst.byteLength;
    for (let s = this.firstSegment; s < this.chunks.length; s++) bytes += this.chunks[s]!.memoryBytes();
    for (const list of this.tagChunks) bytes += list.items.byteLength;
    return bytes;
  }

  /** Notes the active chunk in the membership list of every tag it holds (after a run of appends). */
  private noteTags(chunk: TimeChunk): void {
    const s = this.chunks.length - 1;
    for (let tag = 0; tag < TAG_COUNT; tag++) {
      if (chunk.tagCount(tag) === 0) continue;
      const list = this.tagChunks[tag]!;
      if (list.length === 0 || list.items[list.length - 1] !== s) list.push(s);
    }
  }

  private noteTag(chunk: TimeChunk, meta: number): void {
    const tag = meta & TAG_MASK;
    if (chunk.tagCount(tag) === 1) this.tagChunks[tag]!.push(this.chunks.length - 1);
  }
}
