/**
 * The Store: what MCP tools, the CLI and triage query. Tools depend on this interface only,
 * never on the index, the WAL or the parse pool, so the embedded engine and ClickHouse are
 * interchangeable behind it. Times are epoch microseconds throughout.
 */
/** Which side of the query time a search looks at (src/index has the same union). */
export type Direction = 'nearest' | 'before' | 'after';
import type { SourceStatus, WalStatus } from '../model/index.js';
import type { Searched } from '../index/index.js';
import type { Highlight, TextFilterSpec } from '../text/index.js';

export type { Highlight, Searched, TextFilterSpec };

export interface NearestQuery {
  /** Query time, epoch microseconds. */
  t: number;
  /** Tag names (levels or custom tags, any case, aliases such as WARNING allowed); null = all. */
  tags: readonly string[] | null;
  count: number;
  direction: Direction;
  /** Unfiltered neighbours to include before and after each hit. */
  context: number;
  /** Restrict to one configured source. */
  source?: string;
  /** Largest |entry - query| in microseconds. */
  maxDistance?: number;
  /** Body bytes returned per entry; longer bodies are cut and marked truncated. */
  bodyCap: number;
  /** Text filters on the body (contains, pattern, fields, ids): the search reads bodies. */
  text?: TextFilterSpec;
}

/** One entry as read back: raw body text (not yet escaped for a model). */
export interface EntryView {
  ts: number;
  /** Fractional digits the source had (0..6). */
  precision: number;
  tag: string;
  body: string;
  truncated: boolean;
  /**
   * The body could not be read back (body empty, truncated): --ephemeral reads bodies from the
   * source files, and this one's file no longer holds it (rewritten in place after it was indexed).
   */
  bodyGone?: true;
  source: string;
  line: number;
}

/** The note an answer carries when some of its bodies could not be read back (EntryView.bodyGone). */
export function bodiesGoneNote(n: number): string {
  return `${n} entr${n === 1 ? 'y has' : 'ies have'} an empty body: it could not be read back from its source file, which was rewritten in place (copytruncate) after it was indexed (--ephemeral keeps bodies in the files, not in memory)`;
}

export interface EntryWithContext extends EntryView {
  contextBefore?: EntryView[];
  contextAfter?: EntryView[];
  /** With text filters: what matched where (character offsets in the uncut, unescaped body). */
  highlights?: Highlight[];
}

export type NearestStatus = 'ok' | 'empty' | 'no_match' | 'not_yet_ingested' | 'before_retention';

export interface Coverage {
  /** Earliest and latest timestamps indexed (null when empty). */
  firstTs: number | null;
  lastTs: number | null;
  entries: number;
  /** Now minus the latest indexed timestamp, milliseconds (null when empty). */
  lagMs: number | null;
  /** Entries before this time were dropped by retention (null when nothing was). */
  retentionHorizon: number | null;
}

/**
 * Entries of a source that were lost: a corrupt WAL record whose bytes the source file no
 * longer holds (src/store/durable/wal-gaps.ts). Times are the entries around the hole, epoch us.
 */
export interface LostRange {
  source: string;
  fromTs: number | null;
  toTs: number | null;
  bytes: number;
  lines: number;
  reason: string;
}

export interface NearestAnswer {
  status: NearestStatus;
  entries: EntryWithContext[];
  /** Lost ranges between the query time and the farthest entry returned (or anywhere, when none was). */
  lost?: LostRange[];
  coverage: Coverage;
  /** Time spent inside the store, microseconds. */
  queryUs: number;
  /** With text filters: the window the search examined, and whether it finished. */
  searched?: Searched;
}

export type { IngestStatus, SourceState, SourceStatus, WalStatus } from '../model/index.js';

/** What every source says once the WAL failed (tail_status, /healthz). */
export function walFailedMessage(walError: string): string {
  return `the WAL failed and ingestion is stopped until log-triage-mcp is restarted: ${walError}`;
}

/** An ingest agent's shipping of its local log to a remote store (absent for the embedded store). */
export interface UploadStatus {
  /** Entries and WAL bytes written locally, not acknowledged by the remote store yet. */
  backlogEntries: number;
  backlogBytes: number;
  /** When the remote store last acknowledged a batch (epoch ms), null before the first. */
  lastAckAt: number | null;
  /** Entries acknowledged since start. */
  uploadedEntries: number;
  /** Why uploading is paused (the remote store is unreachable...), absent when it works. */
  error?: string;
}

export interface StoreStatus {
  /** 'embedded' or 'clickhouse' (absent: embedded). */
  backend?: string;
  sources: SourceStatus[];
  wal: WalStatus;
  upload?: UploadStatus;
  /** Lost WAL records that could not be re-read from the source, and how many were. */
  lost?: LostRange[];
  repairedRecords?: number;
  /** What the store holds: entries and time range; memory_bytes is 0 for a remote store. */
  index: { entries: number; firstTs: number | null; lastTs: number | null; memoryBytes: number };
  uptimeS: number;
}

/** Entry counts per tag over a time range: the building block of histograms and triage. */
export interface RangeQuery {
  from: number;
  /** Exclusive end. */
  to: number;
  tags: readonly string[] | null;
  source?: string;
}

/**
 * Counts over many adjacent time ranges at once: a histogram or a triage evidence pass is one
 * call (one query to a remote store) instead of one per bucket and tag.
 */
export interface RangeCountQuery {
  /** Bucket edges, ascending: bucket i is [edges[i], edges[i + 1]). */
  edges: readonly number[];
  /** One series per element: the tags it counts (null = every entry). */
  series: readonly (readonly string[] | null)[];
  source?: string;
}

/** Entries of many adjacent time ranges at once (oldest first in each, at most `perRange`). */
export interface RangeEntriesQuery {
  edges: readonly number[];
  tags: readonly string[] | null;
  source?: string;
}

export interface Store {
  findNearest(query: NearestQuery): Promise<NearestAnswer>;
  /** Entries in [from, to), oldest first, at most `limit` (bodies capped at bodyCap bytes). */
  entriesInRange(range: RangeQuery, limit: number, bodyCap: number): Promise<EntryView[]>;
  /**
   * The entry whose first line is `line` in `source` (as find_nearest_log reports them), body
   * capped at bodyCap bytes; null when no such entry is indexed.
   */
  entryAt(source: string, line: number, bodyCap: number): Promise<EntryView | null>;
  /** Number of entries in [from, to). */
  countInRange(range: RangeQuery): Promise<number>;
  /** counts[series][bucket]: entries per bucket for each series of tags. */
  countInRanges(query: RangeCountQuery): Promise<number[][]>;
  /** entries[bucket]: up to perRange entries of each bucket, oldest first. */
  entriesInRanges(query: RangeEntriesQuery, perRange: number, bodyCap: number): Promise<EntryView[][]>;
  coverage(source?: string): Promise<Coverage>;
  status(source?: string): Promise<StoreStatus>;
  /** Configured source names, in configuration order. */
  sourceNames(): string[];
  /**
   * Tag names this store knows: the six levels, NONE, and custom tags seen so far (OTHER when
   * more custom tags were seen than could be named).
   */
  knownTags(): string[];
  close(): Promise<void>;
}

export { QueryError } from '../errors.js';
