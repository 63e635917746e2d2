/**
 * A Store with a span around each query, children of the MCP request that made them. It
 * wraps the Store interface, so the embedded engine and ClickHouse are traced alike. Used
 * only when tracing is on (commands/serve.ts loads it then); it lives with the Store so that
 * src/trace, which the WAL and ingestion import, imports nothing of the store.
 *
 * Attributes (log_triage.*, the project's namespace): the query's source, tags, range and
 * limits going in; status, entries returned or counted, and the ingestion lag coming out.
 */
import type { Attrs, Tracing } from '../trace/index.js';
import type { Coverage, EntryView, NearestAnswer, NearestQuery, RangeCountQuery, RangeEntriesQuery, RangeQuery, Store, StoreStatus } from './store.js';

const iso = (us: number): string | null => (Number.isFinite(us) ? new Date(Math.floor(us / 1000)).toISOString() : null);

function rangeAttrs(range: RangeQuery): Attrs {
  return {
    'log_triage.source': range.source,
    'log_triage.tags': range.tags === null ? undefined : range.tags.join(','),
    'log_triage.range.from': iso(range.from),
    'log_triage.range.to': iso(range.to),
  };
}

/** Batched calls: their source, span and number of ranges. */
function edgesAttrs(q: { edges: readonly number[]; source?: string | undefined }): Attrs {
  return {
    'log_triage.source': q.source,
    'log_triage.range.from': q.edges.length === 0 ? null : iso(q.edges[0]!),
    'log_triage.range.to': q.edges.length === 0 ? null : iso(q.edges[q.edges.length - 1]!),
    'log_triage.ranges': Math.max(0, q.edges.length - 1),
  };
}

function coverageAttrs(c: Coverage): Attrs {
  return { 'log_triage.coverage.entries': c.entries, 'log_triage.lag_ms': c.lagMs };
}

export function tracedStore(inner: Store, span: Tracing['span']): Store {
  return {
    findNearest(q: NearestQuery): Promise<NearestAnswer> {
      const attrs: Attrs = {
        'log_triage.source': q.source,
        'log_triage.tags': q.tags === null ? undefined : q.tags.join(','),
        'log_triage.query.time': iso(q.t),
        'log_triage.query.count': q.count,
        'log_triage.query.direction': q.direction,
        'log_triage.query.context': q.context,
        'log_triage.query.text': q.text !== undefined,
      };
      return span('store.find_nearest', attrs, async (s) => {
        const answer = await inner.findNearest(q);
        s.set({ 'log_triage.status': answer.status, 'log_triage.entries': answer.entries.length, 'log_triage.query_us': answer.queryUs, ...coverageAttrs(answer.coverage) });
        return answer;
      });
    },
    entriesInRange(range: RangeQuery, limit: number, bodyCap: number): Promise<EntryView[]> {
      return span('store.entries_in_range', { ...rangeAttrs(range), 'log_triage.limit': limit }, async (s) => {
        const entries = await inner.entriesInRange(range, limit, bodyCap);
        s.set({ 'log_triage.entries': entries.length });
        return entries;
      });
    },
    entryAt(source: string, line: number, bodyCap: number): Promise<EntryView | null> {
      return span('store.entry_at', { 'log_triage.source': source, 'log_triage.line': line }, async (s) => {
        const entry = await inner.entryAt(source, line, bodyCap);
        s.set({ 'log_triage.entries': entry === null ? 0 : 1 });
        return entry;
      });
    },
    countInRange(range: RangeQuery): Promise<number> {
      return span('store.count_in_range', rangeAttrs(range), async (s) => {
        const n = await inner.countInRange(range);
        s.set({ 'log_triage.entries': n });
        return n;
      });
    },
    countInRanges(query: RangeCountQuery): Promise<number[][]> {
      return span('store.count_in_ranges', edgesAttrs(query), async (s) => {
        const counts = await inner.countInRanges(query);
        s.set({ 'log_triage.entries': counts.reduce((n, series) => n + series.reduce((a, b) => a + b, 0), 0) });
        return counts;
      });
    },
    entriesInRanges(query: RangeEntriesQuery, perRange: number, bodyCap: number): Promise<EntryView[][]> {
      const attrs = { ...edgesAttrs(query), 'log_triage.tags': query.tags === null ? undefined : query.tags.join(','), 'log_triage.limit': perRange };
      return span('store.entries_in_ranges', attrs, async (s) => {
        const entries = await inner.entriesInRanges(query, perRange, bodyCap);
        s.set({ 'log_triage.entries': entries.reduce((n, e) => n + e.length, 0) });
        return entries;
      });
    },
    coverage(source?: string): Promise<Coverage> {
      return span('store.coverage', { 'log_triage.source': source }, async (s) => {
        const c = await inner.coverage(source);
        s.set(coverageAttrs(c));
        return c;
      });
    },
    status(source?: string): Promise<StoreStatus> {
      return span('store.status', { 'log_triage.source': source }, async (s) => {
        const st = await inner.status(source);
        const lags = st.sources.map((x) => x.lagMs).filter((x): x is number => x !== null);
        s.set({ 'log_triage.entries': st.index.entries, 'log_triage.sources': st.sources.length, 'log_triage.lag_ms': lags.length === 0 ? null : Math.max(...lags) });
        return st;
      });
    },
    sourceNames: () => inner.sourceNames(),
    knownTags: () => inner.knownTags(),
    close: () => inner.close(),
  };
}
