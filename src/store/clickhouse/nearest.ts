/**
 * find_nearest_log on ClickHouse: bounded windows that widen until they hold the answer
 * (SCHEMA.md, Queries), and the context neighbours of every hit in one query per round.
 *
 * Why windows: an `ORDER BY abs(ts - T) LIMIT k` over the whole table reads every row on
 * servers without read-in-order (18.16); a window of ts around T reads only the granules the
 * primary key (source, ts) selects. The first window is sized from the watermarks' density so
 * one query usually suffices; a window holding fewer than `count` matches is multiplied by 8.
 */
import type { Direction } from '../store.js';
import type { ClickHouseConnection } from './connection.js';
import { compareInSource, entryColumns, type EntryRow } from './rows.js';
import type { Tables } from './schema.js';
import { int, str, strList } from './sql.js';
import { MAX_MATCH_BYTES } from '../../text/index.js';

export interface SourceSpan {
  name: string;
  firstTs: number;
  lastTs: number;
  entries: number;
}

export interface NearestSearch {
  t: number;
  /** Canonical tag names, or null for all. */
  tags: readonly string[] | null;
  count: number;
  direction: Direction;
  maxDistance: number;
  bodyCap: number;
  /** Text filters (issue 16): SQL conditions, and an exact check of each row in JS. */
  text?: TextSearch;
}

/**
 * A text filter on ClickHouse: `where` narrows rows on the server (positionCaseInsensitive /
 * position for substrings, match for patterns: both RE2 and ASCII-only case folding, as the
 * embedded store does); `verify` decides each row exactly on its body's first 64 KiB (fields
 * are parsed in JS, so both stores agree on what a field is).
 */
export interface TextSearch {
  where: string[];
  /** True when `where` alone may let through rows that verify() refuses (fields, ids). */
  approximate: boolean;
  verify(row: EntryRow & { vhex: string }): boolean;
}

/** The window the last query looked at, for `searched`. */
export interface SearchedWindow {
  from: number;
  to: number;
}

const GROW = 8;
const CONTEXT_GROW = 4;
/** Smallest first window (1 ms either side): below it, round trips cost more than rows. */
const MIN_WINDOW_US = 1000;

function orderBy(direction: Direction, t: number): string {
  if (direction === 'nearest') return `abs(ts - toInt64(${int(t)})), ts, source, line, seq`;
  return direction === 'before' ? 'ts DESC, source, line, seq' : 'ts, source, line, seq';
}

/** Average microseconds per entry over the spans (at least 1). */
function spacing(spans: readonly SourceSpan[]): number {
  let entries = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const s of spans) {
    if (s.entries === 0) continue;
    entries += s.entries;
    first = Math.min(first, s.firstTs);
    last = Math.max(last, s.lastTs);
  }
  return entries === 0 ? 1 : Math.max(1, (last - first + 1) / entries);
}

export async function nearestRows(conn: ClickHouseConnection, tables: Tables, spans: readonly SourceSpan[], q: NearestSearch, window?: SearchedWindow): Promise<EntryRow[]> {
  const live = spans.filter((s) => s.entries > 0);
  if (live.length === 0 || (q.tags !== null && q.tags.length === 0)) return [];
  const first = Math.min(...live.map((s) => s.firstTs));
  const last = Math.max(...live.map((s) => s.lastTs));
  const { t, direction } = q;
  // The farthest an answer can be: past it there is no data (or it is beyond max_distance).
  const reachBefore = direction === 'after' ? 0 : Math.max(0, t - first);
  const reachAfter = direction === 'before' ? 0 : Math.max(0, last - t);
  const reach = Math.min(Math.max(reachBefore, reachAfter), q.maxDistance);
  if ((direction === 'before' && t < first) || (direction === 'after' && t > last)) return [];
  // Tag filters are assumed rare (1 in 20) for the first window; widening covers the rest.
  // Text is assumed rarer still (1 in 100): fewer rounds for rare words, a little more read for common ones.
  const selectivity = (q.tags === null ? 1 : 20) * (q.text === undefined ? 1 : 100);
  // Sized for ~6 matches where `count` are needed: with 2 (Poisson), 1 query in 7 found none
  // and paid a second round trip; with 6, 1 in 400. The extra rows stay within a granule.
  // A query time outside the data starts with a window that reaches it.
  const gap = t > last ? t - last : t < first ? first - t : 0;
  let w = Math.min(reach, gap + Math.max(MIN_WINDOW_US, Math.ceil(spacing(live) * (q.count + 5) * selectivity)));
  const where = [`source IN ${strList(live.map((s) => s.name))}`];
  if (q.tags !== null) where.push(`tag IN ${strList(q.tags)}`);
  const text = q.text;
  if (text !== undefined) where.push(...text.where);
  // With a text filter each row also brings its body's first 64 KiB for the exact check.
  const columns = entryColumns(q.bodyCap) + (text === undefined ? '' : `, hex(substring(body, 1, ${MAX_MATCH_BYTES})) AS vhex`);
  let limit = text?.approximate === true ? q.count * 4 + 16 : q.count;
  for (;;) {
    const lo = direction === 'after' ? t : Math.max(first, t - w);
    const hi = direction === 'before' ? t : Math.min(last, t + w);
    if (window !== undefined) {
      window.from = lo;
      window.to = hi;
    }
    const fetched = await conn.rows<EntryRow & { vhex: string }>(
      `SELECT ${columns} FROM ${tables.entries} WHERE ${where.join(' AND ')} AND ts >= ${int(lo)} AND ts <= ${int(hi)} ` +
        `ORDER BY ${orderBy(direction, t)} LIMIT ${int(limit)}`,
    );
    const rows = text === undefined ? fetched : fetched.filter((r) => text.verify(r));
    if (rows.length >= q.count || (w >= reach && fetched.length < limit)) return rows.slice(0, q.count).filter((r) => Math.abs(r.ts - t) <= q.maxDistance);
    // Rows the exact check refused filled the limit: the same window may hold more.
    if (fetched.length >= limit) limit *= GROW;
    else w = Math.min(reach, w * GROW);
  }
}

export interface ContextRows {
  before: EntryRow[];
  after: EntryRow[];
}

/**
 * Up to n entries of each hit's source just before and after it, in (ts, line, seq) order:
 * one query per round for every hit still short of neighbours.
 */
export async function contextRows(conn: ClickHouseConnection, tables: Tables, spans: ReadonlyMap<string, SourceSpan>, hits: readonly EntryRow[], n: number, bodyCap: number): Promise<ContextRows[]> {
  const out: ContextRows[] = hits.map(() => ({ before: [], after: [] }));
  if (n <= 0 || hits.length === 0) return out;
  const width = hits.map((h) => {
    const s = spans.get(h.source);
    return Math.max(MIN_WINDOW_US, Math.ceil((s === undefined ? 1 : spacing([s])) * n * 2));
  });
  let pending = hits.map((_, i) => i);
  while (pending.length > 0) {
    const windows = pending.map((i) => {
      const h = hits[i]!;
      const s = spans.get(h.source);
      const lo = s === undefined ? h.ts - width[i]! : Math.max(s.firstTs, h.ts - width[i]!);
      const hi = s === undefined ? h.ts + width[i]! : Math.min(s.lastTs, h.ts + width[i]!);
      return { i, lo, hi, whole: s !== undefined && lo <= s.firstTs && hi >= s.lastTs };
    });
    const rows = await conn.rows<EntryRow>(
      `SELECT ${entryColumns(bodyCap)} FROM ${tables.entries} WHERE ` +
        windows.map((w) => `(source = ${str(hits[w.i]!.source)} AND ts >= ${int(w.lo)} AND ts <= ${int(w.hi)})`).join(' OR '),
    );
    const bySource = new Map<string, EntryRow[]>();
    for (const r of rows) {
      let list = bySource.get(r.source);
      if (list === undefined) bySource.set(r.source, (list = []));
      list.push(r);
    }
    for (const list of bySource.values()) list.sort(compareInSource);
    const next: number[] = [];
    for (const w of windows) {
      const h = hits[w.i]!;
      const list = (bySource.get(h.source) ?? []).filter((r) => r.ts >= w.lo && r.ts <= w.hi);
      const before = list.filter((r) => compareInSource(r, h) < 0);
      const after = list.filter((r) => compareInSource(r, h) > 0);
      const enough = (before.length >= n || w.lo <= (spans.get(h.source)?.firstTs ?? -Infinity)) && (after.length >= n || w.hi >= (spans.get(h.source)?.lastTs ?? Infinity));
      if (enough || w.whole) {
        out[w.i] = { before: before.slice(-n), after: after.slice(0, n) };
      } else {
        width[w.i] = width[w.i]! * CONTEXT_GROW;
        next.push(w.i);
      }
    }
    pending = next;
  }
  return out;
}
