/**
 * The Store on ClickHouse: every tool's question answered from the cluster, across all
 * agents' sources. Entries come from log_entries (nearest.ts for the search), coverage,
 * statuses and known tags from the watermarks (watermarks.ts). An agent process adds its own
 * fresher view of its sources, its WAL and its upload backlog to status().
 */
import { LEVEL_NAMES, levelFromName } from '../../parse/index.js';
import { WAL_OFF } from '../embedded-store.js';
import {
  type Coverage,
  type EntryView,
  type EntryWithContext,
  type NearestAnswer,
  type NearestQuery,
  QueryError,
  type RangeCountQuery,
  type RangeEntriesQuery,
  type RangeQuery,
  type Searched,
  type SourceStatus,
  type Store,
  type StoreStatus,
  type UploadStatus,
  type WalStatus,
} from '../store.js';
import type { ClickHouseConnection } from './connection.js';
import { contextRows, nearestRows, type SourceSpan, type TextSearch } from './nearest.js';
import { type CompiledText, type Highlight, compileText, hasText } from '../../text/index.js';
import { entryColumns, type EntryRow, viewOf } from './rows.js';
import type { Tables } from './schema.js';
import { int, str, strList } from './sql.js';
import { readWatermarks, type Watermark } from './watermarks.js';

/**
 * Watermarks younger than this are used as they are; older ones (up to MARKS_STALE_MS) are
 * used while a fresh read runs in the background, so a query rarely waits for one.
 */
const MARKS_TTL_MS = 250;
const MARKS_STALE_MS = 2000;
/** An agent silent for this long has its live sources reported as stalled. */
const AGENT_SILENT_MS = 60_000;

/** What an agent process knows better than the cluster: its own sources, WAL and upload. */
export interface LocalView {
  /** Statuses of this process's sources, under their host-qualified names. */
  sources(): SourceStatus[];
  wal(): WalStatus;
  upload(): UploadStatus;
}

export interface ClickHouseStoreOptions {
  conn: ClickHouseConnection;
  tables: Tables;
  local?: LocalView;
  now?: () => number;
}

/** A tag as stored: level aliases to their level, everything else upper-cased. */
export function canonicalTag(name: string): string {
  const level = levelFromName(name);
  return level >= 0 ? LEVEL_NAMES[level]! : name.toUpperCase();
}

export class ClickHouseStore implements Store {
  private marks: Watermark[] = [];
  private marksAt = -Infinity;
  private marksLoading: Promise<Watermark[]> | null = null;
  private readonly started = Date.now();
  private readonly now: () => number;

  constructor(private readonly options: ClickHouseStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The newest watermarks, read at most every MARKS_TTL_MS. */
  async watermarks(fresh = false): Promise<Watermark[]> {
    const age = Date.now() - this.marksAt;
    if (!fresh && age < MARKS_TTL_MS) return this.marks;
    if (!fresh && age < MARKS_STALE_MS) {
      void this.refreshMarks().catch(() => undefined);
      return this.marks;
    }
    return this.refreshMarks();
  }

  private refreshMarks(): Promise<Watermark[]> {
    this.marksLoading ??= readWatermarks(this.options.conn, this.options.tables)
      .then((marks) => {
        this.marks = marks;
        this.marksAt = Date.now();
        return marks;
      })
      .finally(() => (this.marksLoading = null));
    return this.marksLoading;
  }

  async findNearest(q: NearestQuery): Promise<NearestAnswer> {
    const started = performance.now();
    const selected = this.select(await this.watermarks(), q.source);
    const coverage = this.coverageOf(selected);
    const spans = new Map(selected.map((m) => [m.source, span(m)]));
    const text = hasText(q.text) ? textSearch(compileText(q.text)) : undefined;
    const window = { from: q.t, to: q.t };
    const rows =
      coverage.entries === 0
        ? []
        : await nearestRows(this.options.conn, this.options.tables, [...spans.values()], {
            t: q.t, tags: q.tags === null ? null : [...new Set(q.tags.map(canonicalTag))], count: q.count,
            direction: q.direction, maxDistance: q.maxDistance ?? Infinity, bodyCap: q.bodyCap,
            ...(text === undefined ? {} : { text: text.search }),
          }, window);
    const contexts = q.context > 0 ? await contextRows(this.options.conn, this.options.tables, spans, rows, q.context, q.bodyCap) : [];
    const entries: EntryWithContext[] = rows.map((row, i) => {
      const entry: EntryWithContext = viewOf(row, q.bodyCap);
      const marks = text?.highlights.get(row);
      if (marks !== undefined) entry.highlights = marks;
      const ctx = contexts[i];
      if (ctx !== undefined) {
        entry.contextBefore = ctx.before.map((r) => viewOf(r, q.bodyCap));
        entry.contextAfter = ctx.after.map((r) => viewOf(r, q.bodyCap));
      }
      return entry;
    });
    let status: NearestAnswer['status'] = 'ok';
    if (coverage.entries === 0) status = 'empty';
    else if (entries.length === 0) status = 'no_match';
    else if (coverage.lastTs !== null && q.t > coverage.lastTs) status = 'not_yet_ingested';
    else if (coverage.retentionHorizon !== null && q.t < coverage.retentionHorizon) status = 'before_retention';
    let searched: Searched | undefined;
    if (text !== undefined) {
      // The server reads the whole window (its own limits bound the time): complete.
      const inWindow = coverage.entries === 0 ? 0 : await this.countInRange({ from: window.from, to: window.to + 1, tags: null, ...(q.source === undefined ? {} : { source: q.source }) });
      searched = { ...window, entries: inWindow, read: inWindow, complete: true };
    }
    return { status, entries, coverage, queryUs: Math.round((performance.now() - started) * 1000), ...(searched === undefined ? {} : { searched }) };
  }

  async entryAt(source: string, line: number, bodyCap: number): Promise<EntryView | null> {
    const selected = this.select(await this.watermarks(), source);
    if (selected.length === 0) return null;
    // The newest upload of that line (after a rotation line numbers start again): reads the
    // source's rows, which its primary key prefix selects.
    const rows = await this.options.conn.rows<EntryRow>(
      `SELECT ${entryColumns(bodyCap)} FROM ${this.options.tables.entries} WHERE source = ${str(selected[0]!.source)} AND line = ${int(line)} ORDER BY seq DESC LIMIT 1`,
    );
    return rows.length === 0 ? null : viewOf(rows[0]!, bodyCap);
  }

  async entriesInRange(range: RangeQuery, limit: number, bodyCap: number): Promise<EntryView[]> {
    if (range.to <= range.from || limit <= 0) return [];
    const where = await this.rangeWhere(range.source, range.tags, range.from, range.to);
    if (where === null) return [];
    const rows = await this.options.conn.rows<EntryRow>(
      `SELECT ${entryColumns(bodyCap)} FROM ${this.options.tables.entries} WHERE ${where} ORDER BY ts, source, line, seq LIMIT ${int(limit)}`,
    );
    return rows.map((r) => viewOf(r, bodyCap));
  }

  async entriesInRanges(query: RangeEntriesQuery, perRange: number, bodyCap: number): Promise<EntryView[][]> {
    const { edges } = query;
    const n = edges.length - 1;
    const out: EntryView[][] = Array.from({ length: Math.max(0, n) }, () => []);
    if (n <= 0 || perRange <= 0) return out;
    const where = await this.rangeWhere(query.source, query.tags, edges[0]!, edges[n]!);
    if (where === null) return out;
    const rows = await this.options.conn.rows<EntryRow & { b: number }>(
      `SELECT ${bucketExpr(edges)} AS b, ${entryColumns(bodyCap)} FROM ${this.options.tables.entries} WHERE ${where} ` +
        `ORDER BY b, ts, source, line, seq LIMIT ${int(perRange)} BY b`,
    );
    for (const r of rows) out[r.b]?.push(viewOf(r, bodyCap));
    return out;
  }

  async countInRange(range: RangeQuery): Promise<number> {
    const [[n]] = (await this.countInRanges({ edges: [range.from, Math.max(range.from, range.to)], series: [range.tags], ...(range.source === undefined ? {} : { source: range.source }) })) as [[number]];
    return n;
  }

  async countInRanges(query: RangeCountQuery): Promise<number[][]> {
    const { edges } = query;
    const n = Math.max(0, edges.length - 1);
    const series = query.series.map((tags) => (tags === null ? null : new Set(tags.map(canonicalTag))));
    const out = series.map(() => new Array<number>(n).fill(0));
    if (n === 0 || edges[n]! <= edges[0]!) return out;
    // Only the tags some series asks for, unless one series counts everything.
    const wanted = series.some((s) => s === null) ? null : [...new Set(series.flatMap((s) => [...s!]))];
    const where = await this.rangeWhere(query.source, wanted, edges[0]!, edges[n]!);
    if (where === null) return out;
    const rows = await this.options.conn.rows<{ b: number; tag: string; n: number }>(
      `SELECT b, tag, count() AS n FROM (SELECT ${bucketExpr(edges)} AS b, tag FROM ${this.options.tables.entries} WHERE ${where}) GROUP BY b, tag`,
    );
    for (const r of rows) {
      series.forEach((s, k) => {
        if (s === null || s.has(r.tag)) out[k]![r.b]! += Number(r.n);
      });
    }
    return out;
  }

  async coverage(source?: string): Promise<Coverage> {
    return this.coverageOf(this.select(await this.watermarks(), source));
  }

  async status(source?: string): Promise<StoreStatus> {
    const local = this.options.local;
    let marks: Watermark[];
    let error: string | undefined;
    try {
      marks = await this.watermarks();
    } catch (err) {
      // An agent still reports on itself while the cluster is away; a query server cannot.
      if (local === undefined) throw err;
      marks = this.marks;
      error = (err as Error).message;
    }
    const now = this.now();
    const mine = new Map((local?.sources() ?? []).map((s) => [s.name, s]));
    const names = new Set([...marks.map((m) => m.source), ...mine.keys()]);
    if (source !== undefined && !names.has(source)) throw unknownSource(source, [...names]);
    const byName = new Map(marks.map((m) => [m.source, m]));
    const sources: SourceStatus[] = [...names]
      .filter((name) => source === undefined || name === source)
      .sort()
      .map((name) => {
        const m = byName.get(name);
        const entries = m?.entries ?? 0;
        const lastEntryTs = m === undefined || entries === 0 ? null : m.lastTs;
        const lagMs = lastEntryTs === null ? null : now - lastEntryTs / 1000;
        const ours = mine.get(name);
        if (ours !== undefined) return { ...ours, entries, lastEntryTs, lagMs };
        const silent = now - m!.updatedMs > AGENT_SILENT_MS && m!.state !== 'missing' && m!.state !== 'error';
        return {
          name, path: `${m!.host}:${m!.path}`, format: m!.format, state: silent ? 'stalled' : m!.state,
          bytesRead: m!.bytesRead, fileBytes: m!.fileBytes, pendingBytes: 0, linesRead: m!.linesRead, entries,
          parseErrors: m!.parseErrors, linesPerSec: silent ? 0 : m!.linesPerSec, lastEntryTs, lagMs, rotations: m!.rotations,
          // Not carried in the watermarks (schema v1): the agent's own tail_status has them.
          longLines: 0, longLineBytesSkipped: 0,
          ...(m!.error === '' ? {} : { error: m!.error }),
        };
      });
    const coverage = this.coverageOf(marks);
    const upload = local?.upload();
    return {
      backend: 'clickhouse',
      sources,
      wal: local?.wal() ?? WAL_OFF,
      ...(upload === undefined ? {} : { upload: error === undefined || upload.error !== undefined ? upload : { ...upload, error } }),
      index: { entries: coverage.entries, firstTs: coverage.firstTs, lastTs: coverage.lastTs, memoryBytes: 0 },
      uptimeS: Math.round((Date.now() - this.started) / 1000),
    };
  }

  sourceNames(): string[] {
    return this.marks.map((m) => m.source);
  }

  knownTags(): string[] {
    const custom = new Set<string>();
    for (const m of this.marks) for (const t of m.tags) custom.add(t);
    return ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'NONE', ...custom];
  }

  async close(): Promise<void> {
    // The connection belongs to the backend, which closes it after the uploader.
  }

  private select(marks: readonly Watermark[], source: string | undefined): Watermark[] {
    if (source === undefined) return [...marks];
    const m = marks.find((x) => x.source === source);
    if (m === undefined) throw unknownSource(source, marks.map((x) => x.source));
    return [m];
  }

  /** WHERE for [from, to) over the selected sources and tags; null when nothing can match. */
  private async rangeWhere(source: string | undefined, tags: readonly string[] | null, from: number, to: number): Promise<string | null> {
    const selected = this.select(await this.watermarks(), source).filter((m) => m.entries > 0);
    if (selected.length === 0 || (tags !== null && tags.length === 0)) return null;
    const where = [`source IN ${strList(selected.map((m) => m.source))}`, `ts >= ${int(from)}`, `ts < ${int(to)}`];
    if (tags !== null) where.push(`tag IN ${strList([...new Set(tags.map(canonicalTag))])}`);
    return where.join(' AND ');
  }

  private coverageOf(marks: readonly Watermark[]): Coverage {
    let entries = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const m of marks) {
      if (m.entries === 0) continue;
      entries += m.entries;
      first = Math.min(first, m.firstTs);
      last = Math.max(last, m.lastTs);
    }
    if (entries === 0) return { firstTs: null, lastTs: null, entries: 0, lagMs: null, retentionHorizon: null };
    return { firstTs: first, lastTs: last, entries, lagMs: this.now() - last / 1000, retentionHorizon: null };
  }
}

function span(m: Watermark): SourceSpan {
  return { name: m.source, firstTs: m.firstTs, lastTs: m.lastTs, entries: m.entries };
}

function unknownSource(source: string, names: readonly string[]): QueryError {
  return new QueryError('source', `unknown source '${source.slice(0, 80)}'; sources in ClickHouse: ${names.join(', ') || 'none yet'}`);
}

/** The bucket index of ts for ascending edges: intDiv for equal buckets, multiIf otherwise. */
export function bucketExpr(edges: readonly number[]): string {
  const n = edges.length - 1;
  const e0 = edges[0]!;
  const w = edges[1]! - e0;
  // Equal widths (the last bucket may be cut short): one division per row.
  const uniform = w > 0 && edges.every((e, i) => (i < n ? e === e0 + i * w : e > edges[n - 1]! && e <= e0 + n * w));
  if (uniform) return `toUInt32(intDiv(ts - toInt64(${int(e0)}), ${int(w)}))`;
  const arms: string[] = [];
  for (let i = 1; i < n; i++) arms.push(`ts < ${int(edges[i]!)}, ${i - 1}`);
  return arms.length === 0 ? '0' : `multiIf(${arms.join(', ')}, ${n - 1})`;
}

/**
 * The SQL side of a text filter and its exact check (SCHEMA.md, Text search). Highlights of
 * the rows that passed are kept for the answer.
 */
function textSearch(compiled: CompiledText): { search: TextSearch; highlights: Map<EntryRow, Highlight[]> } {
  const spec = compiled.spec;
  const fold = !spec.caseSensitive;
  const has = (needle: string): string => `${fold ? 'positionCaseInsensitive' : 'position'}(body, ${str(needle)}) > 0`;
  const where: string[] = (spec.contains ?? []).map(has);
  if (spec.pattern !== undefined) where.push(`match(body, ${str((fold ? '(?i)' : '') + spec.pattern)})`);
  // Field and id values that must occur verbatim (see text-query.ts, PLAIN_VALUE) narrow the rows.
  const plain = (v: string): boolean => /^[\x20\x21\x23-\x2e\x30-\x5b\x5d-\x7e]+$/.test(v);
  for (const v of Object.values(spec.fields ?? {})) if (plain(v)) where.push(`positionCaseInsensitive(body, ${str(v)}) > 0`);
  const ids = spec.anyId?.values ?? [];
  if (ids.length > 0 && ids.every(plain)) where.push(`(${ids.map((v) => `positionCaseInsensitive(body, ${str(v)}) > 0`).join(' OR ')})`);
  const highlights = new Map<EntryRow, Highlight[]>();
  return {
    highlights,
    search: {
      where,
      approximate: Object.keys(spec.fields ?? {}).length > 0 || spec.anyId !== undefined,
      verify(row) {
        const marks = compiled.test(Buffer.from(row.vhex, 'hex'));
        if (marks === null) return false;
        highlights.set(row, marks);
        return true;
      },
    },
  };
}
