/**
 * Text filters built after ingestion, not during it (issue 12).
 *
 * The trigram filters (src/text/ngram-filter.ts) only let a text search skip blocks: a block
 * without a complete filter is simply read (text-scan.ts). Building them in the parse workers
 * took about 40 % of the workers' CPU in a 10M-line catch-up (profiled 2026-12-02), so entries
 * are now indexed without filters and this class fills them in afterwards, one block at a
 * time on the main thread, only while no source is catching up:
 *
 *   ingest (workers, main thread)      entries queryable at once; blocks flagged unfiltered
 *   idle (no source catching up)       step(): one block's bodies read back through the
 *                                      BodyStore (memory or WAL segments), its filter built
 *                                      and flagged complete, in one synchronous step
 *   checkpoint                         the filters that exist (persist.ts); a restart fills
 *                                      in the rest the same way
 *
 * Why the main thread: a block is ~0.2 ms of hashing (1,024 bodies of ~70 bytes), the bodies
 * are already readable there (the WAL's preads, the memory store's chunks), and a step is
 * short enough that a query waits at most one step behind it (steps run from setImmediate, so
 * I/O and queries interleave). A worker would need the bytes moved to it and a result merged
 * back for the same 0.2 ms. The cost is paid once per block, after catch-up: ~2 s of one core
 * for 10M entries on an idle machine, spread over idle time (text bench, 1M entries under load
 * 8: 1.1 s here, 1.2 s for the group filters the workers built before; same filter bytes).
 *
 * Measured 2026-12-02 11:45-11:50 UTC (shared 2-core machine, load 7-9), `ingest` of the
 * generated file, base and this change interleaved, 3 runs, CPU user+sys (median): 10M lines
 * WAL off 10.76 -> 7.60 s, WAL on 14.68 -> 10.24 s; 2M lines WAL off 2.82 -> 2.12 s (lnav
 * 0.11 -n: 12.95 s and 2.28 s). Wall times in the catch-up bench moved the same way but
 * swing 2-4x with that load.
 *
 * Correctness, for every moment (a text answer is the brute-force one whatever the state):
 * - a filter is built from exactly the bytes a search tests (block-bodies.ts: the body at its
 *   position, at most MAX_MATCH_BYTES long); a body that cannot be read whole leaves its block
 *   unfiltered (it is then read, as before), and the chunk is not tried again;
 * - a sealed chunk never changes, but its arrays may be held by a checkpoint being written
 *   (persist.ts passes them by reference): its blocks are filled into a copy, swapped in once
 *   the chunk is done (one 4 KiB-a-block copy at a time, transient);
 * - the chunk still growing is filled in place, full blocks only (persist.ts copies its
 *   arrays); a late entry inserted later marks the blocks it moves through unfiltered again
 *   (block-filters.ts), and they are filled again.
 * Memory: the words were allocated with the chunk (memoryBytes counts them whether filled or
 * not); a chunk restored without filters gets them when first visited.
 */
import { addTrigrams, FILTER_BLOCK, FILTER_WORDS, MAX_MATCH_BYTES } from '../text/index.js';
import { bodySpan, span } from './block-bodies.js';
import type { BlockFilters, ChunkFilters } from './block-filters.js';
import type { BodyStore } from './body-store.js';
import type { SourceIndex } from './source-index.js';
import type { TimeChunk } from './time-chunk.js';

/**
 * Main-thread time after which a turn yields to I/O and queries: in practice one block a turn
 * (~0.2 ms on an idle machine, ~1.1 ms under load 8), so a query that arrives meanwhile waits
 * at most about one block. The stdio bench queries as soon as tail_status says live, i.e.
 * while the filters of a 1M-entry file (~1,000 blocks) are still being built.
 */
const SLICE_MS = 0.25;
/** How often to look again while a source is catching up. */
const BUSY_RECHECK_MS = 50;
/**
 * With `quietMs`, a turn waits until that long has passed with no source catching up and no
 * query, and then only while none comes in: queries go first. Without it (measured 2026-12-02
 * at load ~4, 20 alternated spawns of the start-up bench's session), a 3,900-entry file's four
 * blocks were filled right after its catch-up, in cold code, and 37-95 ms of the session's CPU
 * (part of it before the first answer) went to filters nobody had asked for yet; and a client
 * querying back to back (the stdio bench) shared its first second with the fill. Under a
 * steady stream of queries, one turn still runs every FLOOR_MS, so the filters get built.
 */
const FLOOR_MS = 1000;

/**
 * Builds the filter of block b of a chunk into out[at, at + FILTER_WORDS) from the bodies it
 * holds. False when a body cannot be read whole (gone, or short): the filter is then unusable.
 */
export function buildBlockFilter(chunk: TimeChunk, b: number, bodies: BodyStore, out: Uint32Array, at: number): boolean {
  out.fill(0, at, at + FILTER_WORDS);
  const from = b * FILTER_BLOCK;
  const to = Math.min(chunk.count, from + FILTER_BLOCK);
  const whole = bodySpan(chunk, from, to);
  const { lo, hi } = span;
  const range = whole ? bodies.read(lo, hi - lo, hi - lo) : null;
  const rangeEnd = range === null ? lo : lo + range.length;
  for (let i = from; i < to; i++) {
    const pos = chunk.bodyPosAt(i);
    const len = Math.min(chunk.bodyLenAt(i), MAX_MATCH_BYTES);
    if (range !== null && pos >= lo && pos + len <= rangeEnd) {
      addTrigrams(out, at, range, pos - lo, pos - lo + len);
      continue;
    }
    const body = bodies.read(pos, len, len);
    if (body === null || body.length < len) return false;
    addTrigrams(out, at, body, 0, len);
  }
  return true;
}

export interface FilterBackfillOptions {
  /** Whether ingestion is catching up (then nothing is built: the parse side has the CPU). */
  isBusy?: () => boolean;
  /** A count that moves with every query (EmbeddedStore.queries): queries go before filling. */
  activity?: () => number;
  /** Quiet time (no catch-up, no query) before a turn runs; 0: run as soon as not busy. */
  quietMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** A sealed chunk being filled off to the side. */
interface Staged {
  chunk: TimeChunk;
  filters: BlockFilters;
  copy: ChunkFilters;
  next: number;
}

export class FilterBackfill {
  private staged: Staged | null = null;
  /** Chunks with a body that could not be read: their unfiltered blocks stay so. */
  private readonly failed = new WeakSet<TimeChunk>();
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly isBusy: () => boolean;
  private readonly activity: () => number;
  private readonly quietMs: number;
  private readonly now: () => number;
  /** The activity count at the last look, and when the last busy look or query was. */
  private seen: number;
  private lastActive: number;
  /** When the last turn ran or catch-up was last seen (the floor counts from there). */
  private floorFrom: number;

  constructor(
    private readonly indexes: readonly SourceIndex[],
    private readonly bodies: BodyStore,
    options: FilterBackfillOptions = {},
  ) {
    this.isBusy = options.isBusy ?? (() => false);
    this.activity = options.activity ?? (() => 0);
    this.quietMs = options.quietMs ?? 0;
    this.now = options.now ?? (() => performance.now());
    this.seen = this.activity();
    this.lastActive = this.floorFrom = this.now();
  }

  /** Blocks of the main runs that still await a filter (and can get one). */
  pending(): number {
    let n = 0;
    for (const chunk of this.chunks()) {
      if (this.failed.has(chunk)) continue;
      const f = chunk.filterState();
      if (f !== null) n += f.unfilteredCount(chunk.fillableBlocks);
    }
    return n;
  }

  /**
   * Fills one block (or swaps in a finished sealed chunk); false when nothing is left.
   * Synchronous: a query runs before or after a step, never during one.
   */
  step(): boolean {
    const staged = this.staged ?? this.nextStaged();
    if (staged === null) return this.stepGrowing();
    const b = staged.filters.firstUnfiltered(staged.next, staged.chunk.fillableBlocks);
    if (b < 0) {
      // Every block tried: swap the copy in (one assignment; queries see the old or the new).
      staged.filters.commit(staged.copy);
      this.staged = null;
      return true;
    }
    staged.next = b + 1;
    if (buildBlockFilter(staged.chunk, b, this.bodies, staged.copy.words, b * FILTER_WORDS)) staged.copy.known[b] = 1;
    else this.failed.add(staged.chunk);
    return true;
  }

  /** Builds filters until none is left (one-shot use and tests; a server uses start()). */
  fillAll(): void {
    while (this.step());
  }

  /** Starts (or resumes) filling in the background; call again when new entries arrived. */
  kick(): void {
    if (this.stopped || this.immediate !== null || this.timer !== null) return;
    const wait = this.waitMs();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, wait);
      this.timer.unref();
      return;
    }
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.turn();
    });
    this.immediate.unref();
  }

  /** Resolves once no block awaits a filter (a condition to wait on: tests, benchmarks). */
  whenFilled(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.kick();
    return done;
  }

  stop(): void {
    this.stopped = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
  }

  /** How long to wait before a turn may run (0: now). */
  private waitMs(): number {
    if (this.isBusy()) {
      this.lastActive = this.floorFrom = this.now();
      return BUSY_RECHECK_MS;
    }
    if (this.quietMs <= 0) return 0;
    const now = this.now();
    const seen = this.activity();
    if (seen !== this.seen) {
      this.seen = seen;
      this.lastActive = now;
    }
    const quietFor = now - this.lastActive;
    if (quietFor >= this.quietMs || now - this.floorFrom >= FLOOR_MS) return 0;
    return Math.max(1, Math.min(this.quietMs - quietFor, FLOOR_MS - (now - this.floorFrom)));
  }

  private turn(): void {
    this.floorFrom = this.now();
    const until = performance.now() + SLICE_MS;
    let more = true;
    while (more && performance.now() < until) more = this.step();
    if (more) {
      this.kick();
      return;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The next sealed chunk with an unfiltered block, newest first (recent logs are searched most). */
  private nextStaged(): Staged | null {
    for (const chunk of this.chunks(true)) {
      if (!chunk.sealed || this.failed.has(chunk)) continue;
      const filters = chunk.filterState();
      if (filters === null || filters.firstUnfiltered(0, chunk.fillableBlocks) < 0) continue;
      this.staged = { chunk, filters, copy: filters.stage(), next: 0 };
      return this.staged;
    }
    return null;
  }

  /** One full block of a chunk still growing, filled in place; false when none is left. */
  private stepGrowing(): boolean {
    for (const chunk of this.chunks(true)) {
      if (chunk.sealed || this.failed.has(chunk)) continue;
      const filters = chunk.filterState();
      if (filters === null) continue;
      const b = filters.firstUnfiltered(0, chunk.fillableBlocks);
      if (b < 0) continue;
      if (buildBlockFilter(chunk, b, this.bodies, scratch, 0)) filters.setBlock(b, scratch, 0);
      else this.failed.add(chunk);
      return true;
    }
    return false;
  }

  private *chunks(newestFirst = false): Generator<TimeChunk> {
    for (const index of this.indexes) {
      const chunks = index.main.liveChunks();
      if (newestFirst) for (let k = chunks.length - 1; k >= 0; k--) yield chunks[k]!;
      else yield* chunks;
    }
  }
}

const scratch = new Uint32Array(FILTER_WORDS);
