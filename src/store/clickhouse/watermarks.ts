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

/** The newest row of every source (or of those given), in name order. */
export async function readWatermarks(conn: ClickHouseConnection, tables: Tables, where = ''): Promise<Watermark[]> {
  // Aliases differ from the column names: 18.16 resolves an alias that shadows a column
  // inside the other aggregates ("aggregate function found inside another").
  const select = FIELDS.map((f) => `argMax(${f}, updated_ms) AS w_${f}`).join(', ');
  const rows = await conn.rows<Record<string, unknown>>(
    `SELECT source, ${select}, max(updated_ms) AS w_updated_ms FROM ${tables.sources} ${where === '' ? '' : `WHERE ${where}`} GROUP BY source ORDER BY source`,
  );
  return rows.map((r) => {
    const get = <K extends keyof Row>(k: K): Row[K] => r[`w_${k}`] as Row[K];
    const state = get('state') as SourceState;
    return {
      source: r.source as string,
      host: get('host'),
      path: get('path'),
      format: get('format'),
      agent: get('agent'),
      seq: Number(get('seq')),
      entries: Number(get('entries')),
      firstTs: Number(get('first_ts')),
      lastTs: Number(get('last_ts')),
      tags: get('tags'),
      state: STATES.includes(state) ? state : 'stalled',
      bytesRead: Number(get('bytes_read')),
      fileBytes: Number(get('file_bytes')),
      linesRead: Number(get('lines_read')),
      parseErrors: Number(get('parse_errors')),
      rotations: Number(get('rotations')),
      linesPerSec: Number(get('lines_per_sec')),
      error: get('error'),
      updatedMs: Number(r.w_updated_ms),
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
