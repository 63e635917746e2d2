/**
 * /metrics: Prometheus text from prom-client, on a registry of our own (not the global one,
 * so a second server in the same process, as in tests, never collides).
 *
 * Tool calls are counted where they cross the transport (call-tracker.ts); store numbers are
 * read from Store.status() once per scrape. The WAL status carries no fsync timings, so there is
 * no fsync latency histogram; the WAL's last fsync time and unsynced entries stand in for it.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoreStatus } from '../../store/index.js';

export type CallOutcome = 'ok' | 'tool_error' | 'protocol_error' | 'cancelled' | 'aborted';
export type Rejection = 'auth' | 'host' | 'origin' | 'body_too_large' | 'sessions_full' | 'inflight_full' | 'draining' | 'bad_request';

/** Routes as labels: a fixed set, so a client cannot grow the label space with odd URLs. */
export const ROUTES = ['/mcp', '/sse', '/messages', '/healthz', '/metrics', '/', '/ui', 'other'] as const;
export type Route = (typeof ROUTES)[number];

export class Metrics {
  readonly registry = new Registry();
  private readonly known: Set<string>;
  private readonly toolCalls: Counter<'tool' | 'outcome'>;
  private readonly toolLatency: Histogram<'tool'>;
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly rejections: Counter<'reason'>;
  readonly sessions: Gauge<'transport'>;
  readonly inflight: Gauge;
  private readonly indexEntries: Gauge;
  private readonly indexMemory: Gauge;
  private readonly indexLast: Gauge;
  private readonly sourceLines: Counter<'source'>;
  private readonly sourceBytes: Counter<'source'>;
  private readonly sourceParseErrors: Counter<'source'>;
  private readonly sourceRotations: Counter<'source'>;
  private readonly sourceMissedBytes: Counter<'source'>;
  private readonly sourceMissedFiles: Counter<'source'>;
  private readonly sourceEntries: Gauge<'source'>;
  private readonly sourceLag: Gauge<'source'>;
  private readonly sourceRate: Gauge<'source'>;
  private readonly sourceState: Gauge<'source' | 'state'>;
  private readonly wal: Record<'enabled' | 'failed' | 'bytes' | 'segments' | 'durable' | 'unsynced' | 'corrupt' | 'lastFsync' | 'lastFsyncSeconds', Gauge>;
  /** fsync latency as Prometheus sum and count: rate(sum)/rate(count) is the mean latency. */
  private readonly fsyncs: Counter;
  private readonly fsyncSeconds: Counter;
  private fsyncSeen = { count: 0, seconds: 0 };
  /** Last absolute value seen per counter series: counters advance by the difference. */
  private readonly seen = new Map<string, number>();

  constructor(toolNames: readonly string[]) {
    const r = [this.registry];
    this.known = new Set(toolNames);
    collectDefaultMetrics({ register: this.registry, prefix: 'log_triage_' });
    this.toolCalls = new Counter({ name: 'log_triage_tool_calls_total', help: 'MCP tool calls by tool and outcome', labelNames: ['tool', 'outcome'], registers: r });
    for (const tool of this.known) this.toolCalls.inc({ tool, outcome: 'ok' }, 0);
    this.toolLatency = new Histogram({
      name: 'log_triage_tool_call_duration_seconds',
      help: 'Time from a tools/call request arriving to its response being sent',
      labelNames: ['tool'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: r,
    });
    this.requests = new Counter({ name: 'log_triage_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: r });
    this.rejections = new Counter({ name: 'log_triage_http_rejections_total', help: 'HTTP requests refused before reaching MCP, by reason', labelNames: ['reason'], registers: r });
    this.sessions = new Gauge({ name: 'log_triage_sessions', help: 'Open MCP sessions', labelNames: ['transport'], registers: r });
    this.inflight = new Gauge({ name: 'log_triage_inflight_requests', help: 'MCP requests received and not yet answered', registers: r });
    this.indexEntries = new Gauge({ name: 'log_triage_index_entries', help: 'Entries in the time index', registers: r });
    this.indexMemory = new Gauge({ name: 'log_triage_index_memory_bytes', help: 'Memory held by the time index', registers: r });
    this.indexLast = new Gauge({ name: 'log_triage_index_last_timestamp_seconds', help: 'Timestamp of the newest indexed entry', registers: r });
    this.sourceLines = new Counter({ name: 'log_triage_source_lines_read_total', help: 'Physical lines ingested per source', labelNames: ['source'], registers: r });
    this.sourceBytes = new Counter({ name: 'log_triage_source_bytes_read_total', help: 'Bytes ingested per source', labelNames: ['source'], registers: r });
    this.sourceParseErrors = new Counter({ name: 'log_triage_source_parse_errors_total', help: 'Lines that could not be parsed, per source', labelNames: ['source'], registers: r });
    this.sourceRotations = new Counter({ name: 'log_triage_source_rotations_total', help: 'File rotations seen per source', labelNames: ['source'], registers: r });
    this.sourceMissedBytes = new Counter({
      name: 'log_triage_source_missed_bytes_total',
      help: 'Bytes of a source that could not be read any more (deleted or truncated before they were read)',
      labelNames: ['source'], registers: r,
    });
    this.sourceMissedFiles = new Counter({
      name: 'log_triage_source_missed_files_total',
      help: 'Files of a source deleted (or unreadable) before they were read to their end',
      labelNames: ['source'], registers: r,
    });
    this.sourceEntries = new Gauge({ name: 'log_triage_source_entries', help: 'Indexed entries per source', labelNames: ['source'], registers: r });
    this.sourceLag = new Gauge({ name: 'log_triage_source_lag_seconds', help: 'Now minus the newest indexed entry, per source', labelNames: ['source'], registers: r });
    this.sourceRate = new Gauge({ name: 'log_triage_source_lines_per_second', help: 'Recent ingestion rate per source', labelNames: ['source'], registers: r });
    this.sourceState = new Gauge({ name: 'log_triage_source_state', help: '1 for the state each source is in', labelNames: ['source', 'state'], registers: r });
    const g = (name: string, help: string): Gauge => new Gauge({ name, help, registers: r });
    this.wal = {
      enabled: g('log_triage_wal_enabled', '1 when a write-ahead log is kept (0 with --ephemeral)'),
      failed: g('log_triage_wal_failed', '1 once a WAL fsync failed: ingestion is stopped until the server is restarted'),
      bytes: g('log_triage_wal_bytes', 'Bytes in WAL segments on disk'),
      segments: g('log_triage_wal_segments', 'WAL segment files'),
      durable: g('log_triage_wal_durable_entries', 'Entries fsynced to the WAL'),
      unsynced: g('log_triage_wal_unsynced_entries', 'Entries written to the WAL and not fsynced yet'),
      corrupt: g('log_triage_wal_corrupt_records', 'Corrupt WAL records found at recovery'),
      lastFsync: g('log_triage_wal_last_fsync_timestamp_seconds', 'When the WAL was last fsynced'),
      lastFsyncSeconds: g('log_triage_wal_last_fsync_duration_seconds', 'How long the latest WAL fsync took'),
    };
    this.fsyncs = new Counter({ name: 'log_triage_wal_fsyncs_total', help: 'WAL fdatasync calls', registers: r });
    this.fsyncSeconds = new Counter({ name: 'log_triage_wal_fsync_seconds_total', help: 'Time spent in WAL fdatasync', registers: r });
  }

  /** Tool names outside the registered set are counted as "unknown" (bounded label values). */
  observeCall(tool: string, outcome: CallOutcome, seconds: number): void {
    const label = this.known.has(tool) ? tool : 'unknown';
    this.toolCalls.inc({ tool: label, outcome });
    this.toolLatency.observe({ tool: label }, seconds);
  }

  observeRequest(route: Route, method: string, status: number): void {
    const m = ['GET', 'POST', 'DELETE', 'OPTIONS', 'HEAD'].includes(method) ? method : 'other';
    this.requests.inc({ route, method: m, status: String(status) });
  }

  reject(reason: Rejection): void {
    this.rejections.inc({ reason });
  }

  /** Copies one Store.status() into the gauges and counters; called once per scrape. */
  updateFromStatus(s: StoreStatus): void {
    this.indexEntries.set(s.index.entries);
    this.indexMemory.set(s.index.memoryBytes);
    if (s.index.lastTs !== null) this.indexLast.set(s.index.lastTs / 1e6);
    for (const src of s.sources) {
      const l = { source: src.name };
      this.advance(this.sourceLines, src.name, 'lines', src.linesRead);
      this.advance(this.sourceBytes, src.name, 'bytes', src.bytesRead);
      this.advance(this.sourceParseErrors, src.name, 'parse', src.parseErrors);
      this.advance(this.sourceRotations, src.name, 'rot', src.rotations);
      this.advance(this.sourceMissedBytes, src.name, 'missedBytes', src.missedBytes ?? 0);
      this.advance(this.sourceMissedFiles, src.name, 'missedFiles', src.missedFiles ?? 0);
      this.sourceEntries.set(l, src.entries);
      this.sourceRate.set(l, src.linesPerSec);
      if (src.lagMs === null) this.sourceLag.remove(l);
      else this.sourceLag.set(l, src.lagMs / 1000);
      for (const state of ['catching_up', 'live', 'stalled', 'missing', 'error'] as const) {
        this.sourceState.set({ source: src.name, state }, src.state === state ? 1 : 0);
      }
    }
    this.wal.enabled.set(s.wal.enabled ? 1 : 0);
    this.wal.failed.set(s.wal.error != null ? 1 : 0);
    this.wal.bytes.set(s.wal.bytes);
    this.wal.segments.set(s.wal.segments);
    this.wal.durable.set(s.wal.durableEntries);
    this.wal.unsynced.set(s.wal.unsyncedEntries);
    this.wal.corrupt.set(s.wal.corruptRecords);
    if (s.wal.lastFsyncAt !== null) this.wal.lastFsync.set(s.wal.lastFsyncAt / 1000);
    if (s.wal.lastFsyncSeconds != null) this.wal.lastFsyncSeconds.set(s.wal.lastFsyncSeconds);
    const count = s.wal.fsyncs ?? 0;
    const seconds = s.wal.fsyncSeconds ?? 0;
    if (count >= this.fsyncSeen.count && seconds >= this.fsyncSeen.seconds) {
      this.fsyncs.inc(count - this.fsyncSeen.count);
      this.fsyncSeconds.inc(seconds - this.fsyncSeen.seconds);
    }
    this.fsyncSeen = { count, seconds };
  }

  private advance(counter: Counter<'source'>, source: string, key: string, value: number): void {
    const id = `${key}\u0000${source}`;
    const before = this.seen.get(id) ?? 0;
    // A source whose counters restart (a reopened file) starts a new run; never go backwards.
    // inc(0) still creates the series, so a source with no parse errors shows 0, not nothing.
    counter.inc({ source }, value > before ? value - before : 0);
    this.seen.set(id, value);
  }
}
