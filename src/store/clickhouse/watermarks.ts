/**
 * Per-source watermarks (SCHEMA.md, log_sources): what each agent has had acknowledged and
 * how its sources are doing. Coverage, lag, not_yet_ingested, known tags and tail_status on a
 * query server all come from here, never from a scan of the entries.
 */
import type { SourceState } from '../store.js';
import type { ClickHouseConnection } from './connection.js';
import type { Tables } from './schema.js';

export interface Watermark {
  source: string;
  host: string;
  path: string;
  format: string;
  agent: string;
  seq: number;
  entries: number;
  firstTs: number;
  lastTs: number;
  tags: string[];
  state: SourceState;
  bytesRead: number;
  fileBytes: number;
  linesRead: number;
  parseErrors: number;
  rotations: number;
  linesPerSec: number;
  error: string;
  updatedMs: number;
}

interface Row {
  source: string;
  host: string;
  path: string;
  format: string;
  agent: string;
  seq: number;
  entries: number;
  first_ts: number;
  last_ts: number;
  tags: string[];
  state: string;
  bytes_read: number;
  file_bytes: number;
  lines_read: number;
  parse_errors: number;
  rotations: number;
  lines_per_sec: number;
  error: string;
  updated_ms: number;
}

const FIELDS = ['host', 'path', 'format', 'agent', 'seq', 'entries', 'first_ts', 'last_ts', 'tags', 'state', 'bytes_read', 'file_bytes', 'lines_read', 'parse_errors', 'rotations', 'lines_per_sec', 'error'] as const;

const STATES: readonly SourceState[] = ['catching_up', 'live', 'stalled', 'missing', 'error'];

/**
 * The newest row of every source (or of those given), in name order.
 *
 * `ORDER BY source, updated_ms DESC LIMIT 1 BY source` rather than an argMax per column: the
 * same row, without 18 aggregate states built on each shard and merged on the initiator. This
 * read runs every MARKS_TTL_MS beside the queries (clickhouse-store.ts), so its cost shows in
 * their tail. Measured 2026-12-02 on the 2-shard 18.16 bench cluster (500 reads each,
 * interleaved, load average 9-10): argMax p50 19.3 ms, p99 64.6; LIMIT 1 BY p50 15.2, p99 64.7;
 * with max_threads=1 (a handful of rows needs no second thread) p50 13.8, p99 43.7.
 * Both 18.16 and current servers run LIMIT BY; with sharding by source a source's rows are on
 * one shard, and the initiator's LIMIT BY over the merged order would be right even if not.
 */
export async function readWatermarks(conn: ClickHouseConnection, tables: Tables, where = ''): Promise<Watermark[]> {
  const rows = await conn.rows<Row>(
    `SELECT source, ${FIELDS.join(', ')}, updated_ms FROM ${tables.sources} ${where === '' ? '' : `WHERE ${where} `}` +
      'ORDER BY source, updated_ms DESC, seq DESC LIMIT 1 BY source',
    { max_threads: 1 },
  );
  return rows.map((r) => {
    const state = r.state as SourceState;
    return {
      source: r.source,
      host: r.host,
      path: r.path,
      format: r.format,
      agent: r.agent,
      seq: Number(r.seq),
      entries: Number(r.entries),
      firstTs: Number(r.first_ts),
      lastTs: Number(r.last_ts),
      tags: r.tags,
      state: STATES.includes(state) ? state : 'stalled',
      bytesRead: Number(r.bytes_read),
      fileBytes: Number(r.file_bytes),
      linesRead: Number(r.lines_read),
      parseErrors: Number(r.parse_errors),
      rotations: Number(r.rotations),
      linesPerSec: Number(r.lines_per_sec),
      error: r.error,
      updatedMs: Number(r.updated_ms),
    };
  });
}

export function watermarkRow(w: Watermark): Row {
  return {
    source: w.source, host: w.host, path: w.path, format: w.format, agent: w.agent, seq: w.seq, entries: w.entries,
    first_ts: w.firstTs, last_ts: w.lastTs, tags: w.tags, state: w.state, bytes_read: w.bytesRead, file_bytes: w.fileBytes,
    lines_read: w.linesRead, parse_errors: w.parseErrors, rotations: w.rotations, lines_per_sec: w.linesPerSec, error: w.error,
    updated_ms: w.updatedMs,
  };
}
