/**
 * One chunk of the main run: up to 65,536 entries in columns.
 *
 *   ts        Float64Array  8 B  epoch microseconds, sorted
 *   meta      Uint8Array    1 B  tag id | precision << 5
 *   lineDelta Uint32Array   4 B  line - lineBase
 *   bodyDelta Uint32Array   4 B  body position - bodyBase
 *   bodyLen   Uint16Array   2 B  body length, saturating at 65,535
 *   tag lists Uint16Array   2 B  per tag, the sorted indexes of its entries
 *   model     Uint16Array  .06 B sealed chunks only: knots of the time model (time-model.ts)
 *   keyed     Uint32Array  <=1 B sealed chunks only: rarer tags' lists keyed by time (tag-keys.ts)
 *   runs      Uint32Array  <=1 B sealed chunks with exact keys only: the first entry of each distinct
 *                               timestamp, keyed (tag-keys.ts; 0.34 B with millisecond stamps)
 *   filters   Uint32Array   4 B per FILTER_BLOCK entries, a 32 Kibit trigram filter of their
 *                               bodies (block-filters.ts, src/text/ngram-filter.ts)
 *                         ----
 *                         ~26 B per entry, bodies excluded
 *
 * Chunks grow the index by whole chunks: appending never copies what is already there.
 * A sealed chunk gets a time model: the position of a timestamp is computed from a small
 * cached table and found in one window of the ts column (one memory round trip per query).
 *
 * The chunk is the unit the rest of the index works on (the Segment interface): columns by
 * entry index, per-tag entry lists, lowerBound/upperBound by time. Anything added per chunk
 * (text filters, say) belongs beside these, sealed with them and checkpointed with them.
 */
import { TAG_COUNT, TAG_MASK } from '../parse/index.js';
import { BlockFilters, type ChunkFilters } from './block-filters.js';
import { type ChunkColumns, type ChunkSearch, type ColumnBatch, adoptTagLists, fillTagLists } from './chunk-columns.js';
import { FILTER_BLOCK } from '../text/index.js';
import { MAX_BODY_LEN, type Segment, lowerBoundF64, upperBoundF64 } from './segment.js';
import { buildKeyedLists, buildRunKeys, exactKeyUnit, keyScaleOf } from './tag-keys.js';
import { type TimeModel, buildTimeModel, modelLowerBound } from './time-model.js';

export const CHUNK_CAPACITY = 1 << 16;

export type { ChunkFilters } from './block-filters.js';
export type { ChunkColumns, ChunkSearch, ColumnBatch } from './chunk-columns.js';

const U32_LIMIT = 0x1_0000_0000;
const INITIAL_TAG_LIST = 256;
const EMPTY_WORDS = new Uint32Array(0);

export class TimeChunk implements Segment {
  count = 0;
  readonly ts: Float64Array;
  readonly meta: Uint8Array;
  private readonly lineDelta: Uint32Array;
  private readonly bodyDelta: Uint32Array;
  private readonly bodyLen: Uint16Array;
  private readonly tags: (Uint16Array | undefined)[] = new Array(TAG_COUNT);
  private readonly tagCounts = new Uint32Array(TAG_COUNT);
  /** Highest body position referenced (retention drops a chunk once all its bodies are gone). */
  maxBodyPos = 0;
  sealed = false;
  /** The time model's knots, origin and scale (fields of the chunk: one object less per query). */
  private knots: Uint16Array | null = null;
  private modelMin = 0;
  private modelScale = 0;
  /** Keyed lists per tag (tag-keys.ts), sealed chunks only; keys run from the first timestamp. */
  private keyed: (Uint32Array | undefined)[] | null = null;
  private keyScale = 0;
  /**
   * The first three keyed lists (by tag id) also in fields of the chunk, beside their tags:
   * a filtered query then loads the list from the chunk as the unfiltered one loads runKeys,
   * not through the keyed array and its elements (two dependent loads more). 42M entries,
   * query bench interleaved with main (4 invocations each, load 5-8): ERROR/unfiltered 1.18-1.33x
   * against 1.29-1.71x, ERROR 295-333 ns against 323-392, unfiltered unchanged.
   */
  private keyedTag0 = -1;
  private keyedList0: Uint32Array | undefined = undefined;
  // Declared right before keyUnit..keyFirst: the filtered exact-key query reads these five
  // fields in a row (40 B of this 520 B object) as the unfiltered reads keyUnit..runKeys (32 B);
  // with runKeys between them they spanned 48 B. 42M, query bench alternated with main, 6
  // invocations each (load 1-6.5): ERROR/unfiltered 1.08-1.21x against 1.10-1.23x, ERROR medians
  // 221-255 ns against 236-297 (lower in 5 of 6 pairs), unfiltered 201-216 against 208-241. Small.
  /** Exact keys (tag-keys.ts): their unit (0: keys are scaled), largest key, keyed run starts. */
  keyUnit = 0;
  maxKey = 0;
  /** The first timestamp (a field: reading ts[0] may cost a cache miss). */
  keyFirst = 0;
  runKeys: Uint32Array | undefined = undefined;
  private keyedTag1 = -1;
  private keyedList1: Uint32Array | undefined = undefined;
  private keyedTag2 = -1;
  private keyedList2: Uint32Array | undefined = undefined;
  /** Text filters per block (null: none kept, every block is read); block-filters.ts. */
  private blockFilters: BlockFilters | null = null;

  constructor(
    readonly lineBase: number,
    readonly bodyBase: number,
    readonly capacity = CHUNK_CAPACITY,
    /** Columns of a sealed chunk read back from a checkpoint (used in place, not copied). */
    restored?: ChunkColumns,
  ) {
    if (restored !== undefined) {
      this.ts = restored.ts;
      this.meta = restored.meta;
      this.lineDelta = restored.lineDelta;
      this.bodyDelta = restored.bodyDelta;
      this.bodyLen = restored.bodyLen;
      this.count = restored.ts.length;
      return;
    }
    this.blockFilters = BlockFilters.forCapacity(capacity);
    this.ts = new Float64Array(capacity);
    this.meta = new Uint8Array(capacity);
    this.lineDelta = new Uint32Array(capacity);
    this.bodyDelta = new Uint32Array(capacity);
    this.bodyLen = new Uint16Array(capacity);
  }

  /**
   * A sealed chunk over checkpointed columns. With its search structures (tag lists, time
   * model) checkpointed too they are used in place; without, they are rebuilt from the
   * columns (10M entries: 180 ms of restart time and the garbage that goes with it).
   */
  static restoreSealed(lineBase: number, bodyBase: number, maxBodyPos: number, columns: ChunkColumns, search?: ChunkSearch, filters?: ChunkFilters): TimeChunk {
    const chunk = new TimeChunk(lineBase, bodyBase, columns.ts.length, columns);
    chunk.maxBodyPos = maxBodyPos;
    chunk.sealed = true;
    if (filters !== undefined) chunk.blockFilters = BlockFilters.restore(filters);
    if (search !== undefined) {
      adoptTagLists(search.tags, chunk.tags, chunk.tagCounts);
      chunk.setModel(search.model);
      chunk.setKeyed(search.keyed);
      chunk.setKeys(search.keyUnit, search.runs);
      return chunk;
    }
    fillTagLists(columns.meta, chunk.count, chunk.tags, chunk.tagCounts);
    chunk.buildSearch();
    return chunk;
  }

  /** The search structures of a sealed chunk, for checkpoints. */
  search(): ChunkSearch {
    const tags: (Uint16Array | undefined)[] = [];
    for (let tag = 0; tag < TAG_COUNT; tag++) tags.push(this.tagCounts[tag]! > 0 ? this.tags[tag]!.subarray(0, this.tagCounts[tag]!) : undefined);
    return { tags, model: this.model, keyed: this.keyed ?? [], keyUnit: this.keyUnit, runs: this.runKeys };
  }

  /**
   * Whether an entry with this line and body position fits (not sealed, room left, deltas fit
   * in 32 bits). A sealed chunk takes nothing more: its time model and trimmed tag lists
   * describe exactly the entries it had when sealed (MainRun.sealActive relies on this).
   */
  fits(line: number, bodyPos: number): boolean {
    return (
      !this.sealed &&
      this.count < this.capacity &&
      line >= this.lineBase && line - this.lineBase < U32_LIMIT &&
      bodyPos >= this.bodyBase && bodyPos - this.bodyBase < U32_LIMIT
    );
  }

  get firstTs(): number {
    return this.ts[0]!;
  }

  get lastTs(): number {
    return this.ts[this.count - 1]!;
  }

  /**
   * Appends an entry whose timestamp is >= the last one. `filter` is the text filter of a
   * group of entries this one belongs to (words[filterAt..]); without one, the entry's block
   * is marked as unfiltered.
   */
  append(ts: number, meta: number, line: number, bodyPos: number, bodyLen: number, filter?: Uint32Array | null, filterAt = 0): void {
    const i = this.count++;
    this.write(i, ts, meta, line, bodyPos, bodyLen);
    this.addToTagList(meta & TAG_MASK, i);
    this.blockFilters?.add(i, filter, filterAt);
  }

  /** Offset of block b's filter in filterWordsOf, or -1 when it cannot rule anything out. */
  blockFilter(b: number): number {
    const filters = this.blockFilters;
    return filters === null ? -1 : filters.blockFilter(b);
  }

  /** All block filters, back to back (empty when none are kept). */
  get filterWordsOf(): Uint32Array {
    return this.blockFilters?.allWords ?? EMPTY_WORDS;
  }

  /**
   * Blocks the background builder may fill (src/index/filter-backfill.ts): every block of a
   * sealed chunk, only the full ones of the chunk still growing (its last block changes with
   * each append, which marks it unfiltered again).
   */
  get fillableBlocks(): number {
    return this.sealed ? Math.ceil(this.count / FILTER_BLOCK) : (this.count / FILTER_BLOCK) | 0;
  }

  /**
   * The chunk's block filters for the background builder; a sealed chunk restored without
   * any gets them now, every block unfiltered (memoryBytes counts them from here on).
   */
  filterState(): BlockFilters | null {
    if (this.blockFilters === null && this.sealed) this.blockFilters = BlockFilters.unfiltered(this.count);
    return this.blockFilters;
  }

  /** The text filters of a sealed chunk, for checkpoints (null: none kept). */
  filters(): ChunkFilters | null {
    return this.blockFilters?.forCheckpoint(this.count) ?? null;
  }

  /**
   * Appends batch entries [from, to) for as long as they keep the chunk sorted and fit it (room
   * left, deltas within 32 bits); returns the index of the first entry not taken (`from` when
   * none was). One loop over the batch's columns: the per-entry path (append) costs a call
   * chain of five functions per entry, ~100 ns, where this costs ~10 (10M-line catch-up: the
   * main thread's largest item before the change).
   */
  appendColumns(b: ColumnBatch, from: number, to: number): number {
    if (this.sealed) return from;
    const { ts: srcTs, meta: srcMeta, line: srcLine, bodyStart, bodyEnd } = b;
    const lineAdd = b.lineAdd - this.lineBase;
    const bodyAdd = b.bodyAdd - this.bodyBase;
    const ts = this.ts;
    const metaCol = this.meta;
    const lineDelta = this.lineDelta;
    const bodyDelta = this.bodyDelta;
    const bodyLenCol = this.bodyLen;
    const counts = this.tagCounts;
    const stop = Math.min(to, from + this.capacity - this.count);
    let n = this.count;
    let last = n > 0 ? ts[n - 1]! : -Infinity;
    let maxBody = this.maxBodyPos - this.bodyBase;
    let i = from;
    for (; i < stop; i++) {
      const t = srcTs[i]!;
      const start = bodyStart[i]!;
      const lineD = lineAdd + srcLine[i]!;
      const bodyD = bodyAdd + start;
      if (t < last || lineD < 0 || lineD >= U32_LIMIT || bodyD < 0 || bodyD >= U32_LIMIT) break;
      const m = srcMeta[i]!;
      const len = bodyEnd[i]! - start;
      ts[n] = t;
      metaCol[n] = m;
      lineDelta[n] = lineD;
      bodyDelta[n] = bodyD;
      bodyLenCol[n] = len > MAX_BODY_LEN ? MAX_BODY_LEN : len;
      if (bodyD > maxBody) maxBody = bodyD;
      const tag = m & TAG_MASK;
      const c = counts[tag]!;
      let list = this.tags[tag];
      if (list === undefined || c === list.length) list = this.ensureTagList(tag);
      list[c] = n;
      counts[tag] = c + 1;
      last = t;
      n++;
    }
    const first = this.count;
    this.count = n;
    if (n > 0 && maxBody + this.bodyBase > this.maxBodyPos) this.maxBodyPos = maxBody + this.bodyBase;
    this.blockFilters?.addBatch(first, from, i, b.filters);
    return i;
  }

  private write(i: number, ts: number, meta: number, line: number, bodyPos: number, bodyLen: number): void {
    this.ts[i] = ts;
    this.meta[i] = meta;
    this.lineDelta[i] = line - this.lineBase;
    this.bodyDelta[i] = bodyPos - this.bodyBase;
    this.bodyLen[i] = bodyLen > MAX_BODY_LEN ? MAX_BODY_LEN : bodyLen;
    if (bodyPos > this.maxBodyPos) this.maxBodyPos = bodyPos;
  }

  /**
   * Inserts an entry at index i (1 <= i < count), shifting later entries by one. Used only for
   * slightly late lines near the end of the unsealed chunk, so the shift stays short.
   */
  insertAt(i: number, ts: number, meta: number, line: number, bodyPos: number, bodyLen: number, filter?: Uint32Array | null, filterAt = 0): void {
    const n = this.count;
    this.ts.copyWithin(i + 1, i, n);
    this.meta.copyWithin(i + 1, i, n);
    this.lineDelta.copyWithin(i + 1, i, n);
    this.bodyDelta.copyWithin(i + 1, i, n);
    this.bodyLen.copyWithin(i + 1, i, n);
    this.write(i, ts, meta, line, bodyPos, bodyLen);
    this.count = n + 1;
    // Every tag list's tail that points at or past i moves up by one.
    for (let tag = 0; tag < TAG_COUNT; tag++) {
      const list = this.tags[tag];
      if (list === undefined) continue;
      for (let j = this.tagCounts[tag]! - 1; j >= 0 && list[j]! >= i; j--) list[j] = list[j]! + 1;
    }
    const tag = meta & TAG_MASK;
    const list = this.ensureTagList(tag);
    const len = this.tagCounts[tag]!;
    let k = len;
    while (k > 0 && list[k - 1]! > i) k--;
    list.copyWithin(k + 1, k, len);
    list[k] = i;
    this.tagCounts[tag] = len + 1;
    // Entries from i on moved up one: so did the last of each block, into the next block.
    this.blockFilters?.insertAt(i, n, filter, filterAt);
  }

  /**
   * Index where a late entry with timestamp ts goes (after equal timestamps), looking back at
   * most `window` entries; -1 when it belongs further back or before the chunk's first entry.
   */
  insertionPoint(ts: number, window: number): number {
    const stop = Math.max(0, this.count - window);
    let i = this.count;
    while (i > stop && this.ts[i - 1]! > ts) i--;
    if (i === 0 || this.ts[i - 1]! > ts) return -1;
    return i;
  }

  /** Freezes the chunk: trims tag lists to size and builds the time model. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    for (let tag = 0; tag < TAG_COUNT; tag++) {
      const list = this.tags[tag];
      if (list !== undefined && list.length !== this.tagCounts[tag]) this.tags[tag] = list.slice(0, this.tagCounts[tag]);
    }
    this.blockFilters?.seal(this.count);
    this.buildSearch();
  }

  /** Builds the time model and the keyed lists from the columns and tag lists. */
  private buildSearch(): void {
    const n = this.count;
    this.setModel(buildTimeModel(this.ts, n));
    if (n === 0) return;
    const unit = exactKeyUnit(this.ts, n);
    this.setKeys(unit, unit > 0 ? buildRunKeys(this.ts, n, unit) : undefined);
    this.setKeyed(buildKeyedLists(this.ts, n, this.tags, this.tagCounts, this.firstTs, unit, this.keyScale));
  }

  /** Takes the keyed lists, the first three (by tag) into the field slots too. */
  private setKeyed(keyed: (Uint32Array | undefined)[]): void {
    this.keyed = keyed;
    const tags: number[] = [];
    keyed.forEach((list, tag) => {
      if (list !== undefined) tags.push(tag);
    });
    this.keyedTag0 = tags.length > 0 ? tags[0]! : -1;
    this.keyedList0 = tags.length > 0 ? keyed[tags[0]!] : undefined;
    this.keyedTag1 = tags.length > 1 ? tags[1]! : -1;
    this.keyedList1 = tags.length > 1 ? keyed[tags[1]!] : undefined;
    this.keyedTag2 = tags.length > 2 ? tags[2]! : -1;
    this.keyedList2 = tags.length > 2 ? keyed[tags[2]!] : undefined;
  }

  private setKeys(unit: number, runs: Uint32Array | undefined): void {
    this.keyScale = keyScaleOf(this.firstTs, this.lastTs);
    this.keyUnit = unit;
    this.keyFirst = this.firstTs;
    this.maxKey = unit > 0 ? (this.lastTs - this.firstTs) / unit : 0;
    this.runKeys = runs;
  }

  private setModel(model: TimeModel | null): void {
    this.knots = model === null ? null : model.knots;
    this.modelMin = model === null ? 0 : model.min;
    this.modelScale = model === null ? 0 : model.scale;
  }

  /** The time model of a sealed chunk (null: unsealed or too small), for tests and checkpoints. */
  get model(): TimeModel | null {
    return this.knots === null ? null : { knots: this.knots, min: this.modelMin, scale: this.modelScale };
  }

  lowerBound(t: number): number {
    const n = this.count;
    const ts = this.ts;
    if (n === 0 || t <= ts[0]!) return 0;
    if (t > ts[n - 1]!) return n;
    const knots = this.knots;
    if (knots === null) return lowerBoundF64(ts, t, 0, n);
    return modelLowerBound(knots, this.modelMin, this.modelScale, ts, t);
  }

  upperBound(t: number): number {
    const n = this.count;
    if (n === 0 || t < this.ts[0]!) return 0;
    if (t >= this.ts[n - 1]!) return n;
    return upperBoundF64(this.ts, t, 0, n);
  }

  tagList(tag: number): Uint16Array | undefined {
    return this.tags[tag];
  }

  /** The tag's keyed list (tag-keys.ts), if this sealed chunk keeps one for it. */
  keyedList(tag: number): Uint32Array | undefined {
    if (tag === this.keyedTag0) return this.keyedList0;
    if (tag === this.keyedTag1) return this.keyedList1;
    if (tag === this.keyedTag2) return this.keyedList2;
    return this.keyed === null ? undefined : this.keyed[tag];
  }

  /** Scale of the keyed lists' keys (their origin is the first timestamp). */
  get keyedScale(): number {
    return this.keyScale;
  }

  tagCount(tag: number): number {
    return this.tagCounts[tag]!;
  }

  lineAt(i: number): number {
    return this.lineBase + this.lineDelta[i]!;
  }

  bodyPosAt(i: number): number {
    return this.bodyBase + this.bodyDelta[i]!;
  }

  bodyLenAt(i: number): number {
    return this.bodyLen[i]!;
  }

  /** Bytes held by this chunk's typed arrays (capacity, not just the used part). */
  memoryBytes(): number {
    let bytes = this.ts.byteLength + this.meta.byteLength + this.lineDelta.byteLength + this.bodyDelta.byteLength + this.bodyLen.byteLength;
    for (const list of this.tags) if (list !== undefined) bytes += list.byteLength;
    if (this.knots !== null) bytes += this.knots.byteLength;
    if (this.keyed !== null) for (const list of this.keyed) if (list !== undefined) bytes += list.byteLength;
    if (this.runKeys !== undefined) bytes += this.runKeys.byteLength;
    if (this.blockFilters !== null) bytes += this.blockFilters.byteLength;
    return bytes;
  }

  /** The used part of the columns (views, not copies). */
  columns(): ChunkColumns {
    const n = this.count;
    return {
      ts: this.ts.subarray(0, n),
      meta: this.meta.subarray(0, n),
      lineDelta: this.lineDelta.subarray(0, n),
      bodyDelta: this.bodyDelta.subarray(0, n),
      bodyLen: this.bodyLen.subarray(0, n),
    };
  }

  private ensureTagList(tag: number): Uint16Array {
    let list = this.tags[tag];
    const n = this.tagCounts[tag]!;
    if (list === undefined) {
      list = new Uint16Array(Math.min(INITIAL_TAG_LIST, this.capacity));
      this.tags[tag] = list;
    } else if (n === list.length) {
      const grown = new Uint16Array(Math.min(list.length * 2, this.capacity));
      grown.set(list);
      list = grown;
      this.tags[tag] = list;
    }
    return list;
  }

  private addToTagList(tag: number, i: number): void {
    const list = this.ensureTagList(tag);
    list[this.tagCounts[tag]!++] = i;
  }
}
