/**
 * A chunk's text filters: one trigram filter per FILTER_BLOCK entries (src/text/ngram-filter.ts),
 * the OR of the filters of every entry the block holds, and per block whether that filter is
 * complete. The text search skips a block whose filter rules its terms out (text-scan.ts);
 * TimeChunk keeps one of these beside its columns and tells it each entry it takes.
 */
import { FILTER_BLOCK, FILTER_GROUP, FILTER_WORDS, orFilter } from '../text/index.js';

/**
 * A chunk's text filters as checkpoints hold them: one trigram filter per FILTER_BLOCK entries
 * (FILTER_WORDS words each, back to back), and per block whether the filter is complete (1) or
 * the block holds an entry indexed without one (0: the block must always be read).
 */
export interface ChunkFilters {
  words: Uint32Array;
  known: Uint8Array;
}

export class BlockFilters {
  /** The group filter last OR-ed in and the block it went to (one OR per group and block). */
  private lastSrc: Uint32Array | null = null;
  private lastAt = -1;
  private lastBlock = -1;

  private constructor(
    private words: Uint32Array,
    private known: Uint8Array,
  ) {}

  /** Empty filters for a chunk of `capacity` entries, every block complete until told otherwise. */
  static forCapacity(capacity: number): BlockFilters {
    const blocks = Math.ceil(capacity / FILTER_BLOCK);
    return new BlockFilters(new Uint32Array(blocks * FILTER_WORDS), new Uint8Array(blocks).fill(1));
  }

  /** A sealed chunk's filters read back from a checkpoint (used in place, not copied). */
  static restore(filters: ChunkFilters): BlockFilters {
    return new BlockFilters(filters.words, filters.known);
  }

  /** ORs entry i's group filter into its block's (once per group and block); none marks the block unfiltered. */
  add(i: number, filter: Uint32Array | null | undefined, filterAt: number): void {
    const words = this.words;
    const block = (i / FILTER_BLOCK) | 0;
    if (filter === null || filter === undefined) {
      this.known[block] = 0;
      return;
    }
    if (filter === this.lastSrc && filterAt === this.lastAt && block === this.lastBlock) return;
    orFilter(words, block * FILTER_WORDS, filter, filterAt);
    this.lastSrc = filter;
    this.lastAt = filterAt;
    this.lastBlock = block;
  }

  /**
   * The text filters of batch entries [from, to), which went to the chunk's entries from
   * `first` on: one OR per stretch that stays in one batch group and one chunk block, as the
   * per-entry path does (add skips a repeat of the same group into the same block).
   */
  addBatch(first: number, from: number, to: number, filters: Uint32Array | null): void {
    let i = from;
    while (i < to) {
      const k = first + (i - from);
      const group = (i / FILTER_GROUP) | 0;
      const blockLeft = FILTER_BLOCK - (k % FILTER_BLOCK);
      this.add(k, filters, group * FILTER_WORDS);
      i = Math.min(to, (group + 1) * FILTER_GROUP, i + blockLeft);
    }
  }

  /**
   * An entry was inserted at index i of a chunk that held n: the last entry of each block from
   * i's on moved into the next block, so that block's filter takes the one before it in (a
   * superset, never a miss), latest block first; then the new entry's filter goes in.
   */
  insertAt(i: number, n: number, filter: Uint32Array | null | undefined, filterAt: number): void {
    const words = this.words;
    const known = this.known;
    for (let b = ((n / FILTER_BLOCK) | 0); b > ((i / FILTER_BLOCK) | 0); b--) {
      orFilter(words, b * FILTER_WORDS, words, (b - 1) * FILTER_WORDS);
      if (known[b - 1] === 0) known[b] = 0;
    }
    this.lastSrc = null;
    this.add(i, filter, filterAt);
  }

  /** Trims the filters to the blocks `count` entries fill (the chunk is sealed). */
  seal(count: number): void {
    const blocks = Math.ceil(count / FILTER_BLOCK);
    if (this.known.length !== blocks) {
      this.words = this.words.slice(0, blocks * FILTER_WORDS);
      this.known = this.known.slice(0, blocks);
    }
    this.lastSrc = null;
  }

  /**
   * A chunk's filters with every block unfiltered (a sealed chunk restored from a checkpoint
   * that kept none): the background builder fills them in (src/index/filter-backfill.ts).
   */
  static unfiltered(count: number): BlockFilters {
    const blocks = Math.ceil(count / FILTER_BLOCK);
    return new BlockFilters(new Uint32Array(blocks * FILTER_WORDS), new Uint8Array(blocks));
  }

  /** The first block from `from` on whose filter is not complete, below `blocks`; -1 when none. */
  firstUnfiltered(from: number, blocks: number): number {
    const known = this.known;
    const end = Math.min(blocks, known.length);
    for (let b = from; b < end; b++) if (known[b] !== 1) return b;
    return -1;
  }

  /** Blocks below `blocks` whose filter is not complete. */
  unfilteredCount(blocks: number): number {
    const known = this.known;
    const end = Math.min(blocks, known.length);
    let n = 0;
    for (let b = 0; b < end; b++) if (known[b] !== 1) n++;
    return n;
  }

  /**
   * Block b's filter, built from the bodies the block holds now, replaces what was there and
   * the block counts as filtered. In place: only for a chunk whose checkpoint snapshots copy
   * the filters (unsealed ones; persist.ts), and in one synchronous step with the build.
   */
  setBlock(b: number, src: Uint32Array, from: number): void {
    this.words.set(src.subarray(from, from + FILTER_WORDS), b * FILTER_WORDS);
    this.known[b] = 1;
    this.lastSrc = null;
  }

  /**
   * Copies of the words and flags, to fill off to the side and swap in with commit(): a sealed
   * chunk's arrays may be held by a checkpoint being written (persist.ts passes them by
   * reference), which must never see a block flagged complete beside its old words.
   */
  stage(): ChunkFilters {
    return { words: this.words.slice(), known: this.known.slice() };
  }

  /** Swaps in filters staged (and filled) from this chunk's own; the old arrays are left as they were. */
  commit(staged: ChunkFilters): void {
    if (staged.words.length !== this.words.length || staged.known.length !== this.known.length) throw new Error('staged filters do not fit the chunk');
    this.words = staged.words;
    this.known = staged.known;
    this.lastSrc = null;
  }

  /** Offset of block b's filter in `allWords`, or -1 when it cannot rule anything out. */
  blockFilter(b: number): number {
    return this.known[b] !== 1 ? -1 : b * FILTER_WORDS;
  }

  /** All block filters, back to back. */
  get allWords(): Uint32Array {
    return this.words;
  }

  /** The filters of the blocks `count` entries fill, for checkpoints. */
  forCheckpoint(count: number): ChunkFilters {
    const blocks = Math.ceil(count / FILTER_BLOCK);
    return { words: this.words.subarray(0, blocks * FILTER_WORDS), known: this.known.subarray(0, blocks) };
  }

  get byteLength(): number {
    return this.words.byteLength + this.known.byteLength;
  }
}
