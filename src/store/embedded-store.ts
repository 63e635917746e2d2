/**
 * The embedded engine: one SourceIndex per source, a tag dictionary, and a BodyStore.
 * Batches arrive in file order per source (the ingest layer guarantees it) and are indexed
 * column by column; queries run synchronously on the event loop, so they never observe a
 * half-applied batch.
 */
import type { IngestStatus } from '../model/index.js';
import { MAX_BODY_LEN, countInRange, findNearest, neighbours, SourceIndex, Hit, entryAtLine, DEFAULT_SCAN_BUDGET, FilterBackfill, type ScanBudget, type Searched, scanNearest } from '../index/index.js';
import { compileTextCached, decodeCapped, FILTER_GROUP, FILTER_WORDS, hasText, type Highlight } from '../text/index.js';
import { FIRST_CUSTOM_TAG, TAG_OTHER, TagDictionary, TAG_MASK, metaPrecision, type ParsedChunk } from '../parse/index.js';
import type { BodyStore } from '../index/index.js';
import {
  type Coverage,
  type EntryView,
  type EntryWithContext,
  type LostRange,
  type NearestAnswer,
  type NearestQuery,
  QueryError,
  type RangeCountQuery,
  type RangeEntriesQuery,
  type RangeQuery,
  type SourceStatus,
  type Store,
  type StoreStatus,
  type WalStatus,
  walFailedMessage,
} from './store.js';

export type { IngestStatus } from '../model/index.js';

/**
 * What a data dir remembers of each source's ingestion (checkpoint meta plus the WAL after
 * it), so `status` after a one-shot `ingest` shows what was read (issue 15, item 10) and a
 * restarted `serve` keeps counting from there.
 */
export type PersistedIngest = Pick<
  IngestStatus,
  'format' | 'bytesRead' | 'fileBytes' | 'linesRead' | 'parseErrors' | 'lastParseError' | 'rotations' | 'longLines' | 'longLineBytesSkipped'
>;

export function persistedOf(s: IngestStatus): PersistedIngest {
  return {
    format: s.format, bytesRead: s.bytesRead, fileBytes: s.fileBytes, linesRead: s.linesRead, parseErrors: s.parseErrors,
    ...(s.lastParseError === undefined ? {} : { lastParseError: s.lastParseError }),
    rotations: s.rotations, longLines: s.longLines, longLineBytesSkipped: s.longLineBytesSkipped,
  };
}

export interface EmbeddedStoreOptions {
  /** Source names in configuration order. */
  sources: readonly string[];
  bodies: BodyStore;
  /** Tail status of the sources, from the ingest layer. */
  ingestStatus?: () => IngestStatus[];
  walStatus?: () => WalStatus;
  /** Chunk capacity override (tests). */
  chunkCapacity?: number;
  /** Indexes restored from a checkpoint, one per source name, in the same order. */
  indexes?: SourceIndex[];
  /** Paths of sources known from the data dir but not followed by this process. */
  knownPaths?: ReadonlyMap<string, string>;
  /** Ingestion counts the data dir remembers, per source name (sources not followed now show them). */
  persistedIngest?: ReadonlyMap<string, PersistedIngest>;
  /** Custom tag names in id order, restored from a checkpoint. */
  customTags?: readonly string[];
  onClose?: () => Promise<void>;
  now?: () => number;
  /** Limits of one text search (default DEFAULT_SCAN_BUDGET). */
  scanBudget?: ScanBudget;
}

export const WAL_OFF: WalStatus = {
  enabled: false, segments: 0, bytes: 0, durableEntries: 0, unsyncedEntries: 0,
  lastFsyncAt: null, fsyncPolicy: 'off', corruptRecords: 0,
};

export class EmbeddedStore implements Store {
  readonly tags = new TagDictionary();
  private readonly indexes: SourceIndex[];
  private readonly byName = new Map<string, SourceIndex>();
  private readonly started = Date.now();
  private readonly now: () => number;
  /** Entries before this time were dropped by retention. */
  retentionHorizon: number | null = null;
  /** Entries lost with corrupt WAL records the source files no longer hold (durable/wal-gaps.ts). */
  lost: LostRange[] = [];
  repairedRecords = 0;
  /** Limits of one text search; settable for tests and the CLI. */
  scanBudget: ScanBudget;
  /** Builds the text filters ingestion left out (startFilterBackfill; null: not started). */
  private backfill: FilterBackfill | null = null;
  /** Queries answered so far: the filter backfill gives way while this moves. */
  queries = 0;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.indexes = options.indexes ?? options.sources.map((name, rank) => new SourceIndex(name, rank, options.chunkCapacity));
    for (const tag of options.customTags ?? []) this.tags.intern(tag);
    for (const index of this.indexes) this.byName.set(index.name, index);
    this.now = options.now ?? Date.now;
    this.scanBudget = options.scanBudget ?? DEFAULT_SCAN_BUDGET;
  }

  get bodies(): BodyStore {
    return this.options.bodies;
  }

  /** Indexes a parsed chunk whose raw bytes start at body position `base`. */
  indexChunk(source: string, parsed: ParsedChunk, firstLine: number, base: number): void {
    const index = this.byName.get(source);
    if (index === undefined) throw new Error(`unknown source ${source}`);
    const { count, ts, meta, line, bodyStart, bodyEnd } = parsed;
    // Parsing builds no text filters (issue 12): their blocks are read until the background
    // builder has filled them in (src/index/filter-backfill.ts).
    const filters = parsed.filters ?? null;
    this.backfill?.kick();
    if (parsed.customTags.length === 0) {
      index.appendBatch({ count, ts, meta, line, bodyStart, bodyEnd, lineAdd: firstLine, bodyAdd: base, filters });
      return;
    }
    // Chunk-local custom tag ids become process-wide ones; past the dictionary's room the
    // tag text is kept by starting the body at its '['.
    const global = parsed.customTags.map((name) => this.tags.intern(name));
    const tagOpen = new Map<number, number>();
    for (let k = 0; k < parsed.customTagAt.length; k += 2) tagOpen.set(parsed.customTagAt[k]!, parsed.customTagAt[k + 1]!);
    for (let i = 0; i < count; i++) {
      let m = meta[i]!;
      let start = bodyStart[i]!;
      let filter: Uint32Array | null = filters;
      const tag = m & TAG_MASK;
      if (tag >= FIRST_CUSTOM_TAG && tag < TAG_OTHER) {
        const id = global[tag - FIRST_CUSTOM_TAG] ?? TAG_OTHER;
        m = (m & ~TAG_MASK) | id;
        if (id === TAG_OTHER) {
          start = tagOpen.get(i) ?? start;
          // The body now starts with the tag text, which its filter never saw.
          filter = null;
        }
      }
      index.append(ts[i]!, m, firstLine + line[i]!, base + start, bodyEnd[i]! - start, filter, ((i / FILTER_GROUP) | 0) * FILTER_WORDS);
    }
  }

  /**
   * Starts building the text filters ingestion left out, in the background while `isBusy`
   * (ingestion catching up) is false; indexChunk wakes it for new entries. `serve` calls it;
   * one-shot commands do not (their answers are the same, a search just reads more bodies).
   */
  startFilterBackfill(isBusy?: () => boolean, quietMs = 0): FilterBackfill {
    this.backfill ??= new FilterBackfill(this.indexes, this.options.bodies, {
      ...(isBusy === undefined ? {} : { isBusy }),
      activity: () => this.queries,
      quietMs,
    });
    this.backfill.kick();
    return this.backfill;
  }

  /**
   * Drops every entry whose body lies before bodyPos (retention deleted those WAL bytes) and
   * moves the retention horizon. Call before deleting the bytes, so no query reads them.
   */
  dropBodiesBefore(bodyPos: number, horizonTs: number): number {
    let dropped = 0;
    for (const index of this.indexes) dropped += index.dropBodiesBefore(bodyPos);
    if (dropped > 0 || this.retentionHorizon !== null) {
      const first = this.coverageOf(this.indexes).firstTs;
      this.retentionHorizon = Math.max(this.retentionHorizon ?? -Infinity, first ?? horizonTs);
    }
    return dropped;
  }

  sourceIndex(name: string): SourceIndex | undefined {
    return this.byName.get(name);
  }

  sourceIndexes(): readonly SourceIndex[] {
    return this.indexes;
  }

  async findNearest(q: NearestQuery): Promise<NearestAnswer> {
    this.queries++;
    const started = performance.now();
    const sources = this.select(q.source);
    const tags = this.tagIds(q.tags);
    const text = hasText(q.text) ? compileTextCached(q.text) : null;
    let hits: Hit[];
    let highlights: (Highlight[] | undefined)[] = [];
    let searched: Searched | undefined;
    if (tags !== null && tags.length === 0) hits = [];
    else if (text === null) hits = findNearest(sources, { t: q.t, tags, count: q.count, direction: q.direction, maxDistance: q.maxDistance ?? Infinity });
    else {
      const scan = scanNearest(
        sources,
        { t: q.t, tags, count: q.count, direction: q.direction, maxDistance: q.maxDistance ?? Infinity, text, budget: this.scanBudget },
        this.options.bodies,
      );
      hits = scan.hits.map((h) => h.hit);
      highlights = scan.hits.map((h) => h.highlights);
      searched = scan.searched;
    }
    if (text !== null && searched === undefined) {
      // Nothing to search (a tag no source has): the window is empty and complete.
      searched = { from: q.t, to: q.t, entries: 0, read: 0, complete: true };
    }
    const entries: EntryWithContext[] = hits.map((hit, k) => {
      const entry: EntryWithContext = this.view(hit, q.bodyCap);
      const marks = highlights[k];
      if (marks !== undefined) entry.highlights = marks;
      if (q.context > 0) {
        entry.contextBefore = neighbours(hit, q.context, false).map((h) => this.view(h, q.bodyCap));
        entry.contextAfter = neighbours(hit, q.context, true).map((h) => this.view(h, q.bodyCap));
      }
      return entry;
    });
    const coverage = this.coverageOf(sources);
    let status: NearestAnswer['status'] = 'ok';
    if (coverage.entries === 0) status = 'empty';
    else if (entries.length === 0) status = 'no_match';
    else if (coverage.lastTs !== null && q.t > coverage.lastTs) status = 'not_yet_ingested';
    else if (this.retentionHorizon !== null && q.t < this.retentionHorizon) status = 'before_retention';
    const lost = this.lostNear(sources, q.t, entries);
    return {
      status, entries, ...(lost.length > 0 ? { lost } : {}), coverage, queryUs: Math.round((performance.now() - started) * 1000),
      ...(searched === undefined ? {} : { searched }),
    };
  }

  /** Lost ranges of these sources that lie between t and the farthest entry (all of them when none was found). */
  private lostNear(sources: readonly SourceIndex[], t: number, entries: readonly EntryView[]): LostRange[] {
    if (this.lost.length === 0) return [];
    const names = new Set(sources.map((s) => s.name));
    let reach = entries.length === 0 ? Infinity : 0;
    for (const e of entries) reach = Math.max(reach, Math.abs(e.ts - t));
    return this.lost.filter(
      (g) => names.has(g.source) && (g.toTs ?? Infinity) >= t - reach && (g.fromTs ?? -Infinity) <= t + reach,
    );
  }

  async entriesInRange(range: RangeQuery, limit: number, bodyCap: number): Promise<EntryView[]> {
    this.queries++;
    if (range.to <= range.from || limit <= 0) return [];
    const tags = this.tagIds(range.tags);
    if (tags !== null && tags.length === 0) return [];
    const hits = findNearest(this.select(range.source), {
      t: range.from, tags, count: limit, direction: 'after', maxDistance: range.to - range.from - 1,
    });
    return hits.map((hit) => this.view(hit, bodyCap));
  }

  async entryAt(source: string, line: number, bodyCap: number): Promise<EntryView | null> {
    this.queries++;
    const index = this.select(source)[0]!;
    const at = entryAtLine(index, line);
    return at === null ? null : this.view(new Hit(index, at.seg, at.i, at.seg.ts[at.i]!), bodyCap);
  }

  async countInRange(range: RangeQuery): Promise<number> {
    this.queries++;
    const tags = this.tagIds(range.tags);
    if (tags !== null && tags.length === 0) return 0;
    return countInRange(this.select(range.source), range.from, range.to, tags);
  }

  async countInRanges(query: RangeCountQuery): Promise<number[][]> {
    this.queries++;
    const sources = this.select(query.source);
    const { edges } = query;
    return query.series.map((names) => {
      const tags = this.tagIds(names);
      const counts: number[] = [];
      for (let i = 0; i + 1 < edges.length; i++) {
        counts.push(tags !== null && tags.length === 0 ? 0 : countInRange(sources, edges[i]!, edges[i + 1]!, tags));
      }
      return counts;
    });
  }

  async entriesInRanges(query: RangeEntriesQuery, perRange: number, bodyCap: number): Promise<EntryView[][]> {
    this.queries++;
    const out: EntryView[][] = [];
    for (let i = 0; i + 1 < query.edges.length; i++) {
      const range: RangeQuery = { from: query.edges[i]!, to: query.edges[i + 1]!, tags: query.tags, ...(query.source === undefined ? {} : { source: query.source }) };
      out.push(await this.entriesInRange(range, perRange, bodyCap));
    }
    return out;
  }

  async coverage(source?: string): Promise<Coverage> {
    return this.coverageOf(this.select(source));
  }

  async status(source?: string): Promise<StoreStatus> {
    const selected = this.select(source);
    const ingest = new Map((this.options.ingestStatus?.() ?? []).map((s) => [s.name, s]));
    const wal = this.options.walStatus?.() ?? WAL_OFF;
    const now = this.now();
    const sources: SourceStatus[] = selected.map((index) => {
      const base: IngestStatus = ingest.get(index.name) ?? {
        // A source the data dir holds but this process does not follow: its data, no tailing.
        name: index.name, path: this.options.knownPaths?.get(index.name) ?? '', format: 'unknown', state: 'stalled',
        bytesRead: 0, fileBytes: 0, pendingBytes: 0, linesRead: 0,
        parseErrors: 0, linesPerSec: 0, rotations: 0, longLines: 0, longLineBytesSkipped: 0, missedBytes: 0, missedFiles: 0,
        ...this.options.persistedIngest?.get(index.name),
      };
      const last = index.entries === 0 ? null : index.lastTs;
      // A failed WAL stops every source, the quiet ones too: say so on each.
      const failed = wal.error != null ? { state: 'error' as const, error: walFailedMessage(wal.error) } : {};
      return { ...base, ...failed, entries: index.entries, lastEntryTs: last, lagMs: last === null ? null : now - last / 1000 };
    });
    const coverage = this.coverageOf(this.indexes);
    let memoryBytes = 0;
    for (const index of this.indexes) memoryBytes += index.memoryBytes();
    return {
      backend: 'embedded',
      sources,
      wal,
      lost: this.lost.filter((g) => source === undefined || g.source === source),
      repairedRecords: this.repairedRecords,
      index: { entries: coverage.entries, firstTs: coverage.firstTs, lastTs: coverage.lastTs, memoryBytes },
      uptimeS: Math.round((Date.now() - this.started) / 1000),
    };
  }

  /**
   * Ingestion counts to persist: what the data dir remembered plus what this process read
   * since (tail_status counts from the start of the process; the data dir keeps the total).
   */
  ingestToPersist(): Record<string, PersistedIngest> {
    const out: Record<string, PersistedIngest> = {};
    for (const [name, p] of this.options.persistedIngest ?? []) out[name] = p;
    for (const s of this.options.ingestStatus?.() ?? []) {
      const now = persistedOf(s);
      const before = out[s.name];
      out[s.name] = before === undefined ? now : {
        ...now,
        linesRead: before.linesRead + now.linesRead,
        parseErrors: before.parseErrors + now.parseErrors,
        lastParseError: now.lastParseError ?? before.lastParseError,
        rotations: before.rotations + now.rotations,
        longLines: before.longLines + now.longLines,
        longLineBytesSkipped: before.longLineBytesSkipped + now.longLineBytesSkipped,
        format: now.format === 'auto' ? before.format : now.format,
      };
      if (out[s.name]!.lastParseError === undefined) delete out[s.name]!.lastParseError;
    }
    return out;
  }

  sourceNames(): string[] {
    return this.indexes.map((index) => index.name);
  }

  knownTags(): string[] {
    return ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'NONE', ...this.tags.customTags(), ...(this.tags.overflowed ? ['OTHER'] : [])];
  }

  async close(): Promise<void> {
    this.backfill?.stop();
    await this.options.onClose?.();
  }

  private select(source: string | undefined): readonly SourceIndex[] {
    if (source === undefined) return this.indexes;
    const index = this.byName.get(source);
    if (index === undefined) {
      throw new QueryError('source', `unknown source '${source.slice(0, 80)}'; configured sources: ${this.sourceNames().join(', ')}`);
    }
    return [index];
  }

  /** Tag names to ids; names never seen match nothing (an empty list), null means all tags. */
  private tagIds(names: readonly string[] | null): number[] | null {
    if (names === null) return null;
    const ids = new Set<number>();
    for (const name of names) {
      const id = this.tags.lookup(name);
      if (id >= 0) ids.add(id);
    }
    return [...ids];
  }

  private coverageOf(sources: readonly SourceIndex[]): Coverage {
    let entries = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const index of sources) {
      if (index.entries === 0) continue;
      entries += index.entries;
      first = Math.min(first, index.firstTs);
      last = Math.max(last, index.lastTs);
    }
    if (entries === 0) return { firstTs: null, lastTs: null, entries: 0, lagMs: null, retentionHorizon: this.retentionHorizon };
    return { firstTs: first, lastTs: last, entries, lagMs: this.now() - last / 1000, retentionHorizon: this.retentionHorizon };
  }

  private view(hit: Hit, bodyCap: number): EntryView {
    const { seg, i } = hit;
    const meta = seg.meta[i]!;
    const len = seg.bodyLenAt(i);
    const bytes = this.options.bodies.read(seg.bodyPosAt(i), len, bodyCap + 4);
    const decoded = bytes === null ? null : decodeCapped(bytes, bodyCap);
    return {
      ts: hit.ts,
      precision: metaPrecision(meta),
      tag: this.tags.name(meta & TAG_MASK),
      body: decoded?.text ?? '',
      // A stored length of MAX_BODY_LEN is saturated: the body may go on past it.
      truncated: decoded === null || decoded.cut || len > bytes!.length || len >= MAX_BODY_LEN,
      // Null: the bytes are gone (a file rewritten in place under --ephemeral; retention).
      ...(bytes === null ? { bodyGone: true as const } : {}),
      source: hit.source.name,
      line: hit.line,
    };
  }
}
