/**
 * tail_status: how fresh the index is, per source, plus the WAL and the index (README: MCP tools).
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { formatTimestamp } from '../../parse/index.js';
import type { Store, StoreStatus } from '../../store/index.js';
import { escapeLogText } from '../../text/index.js';
import { sourceInput, strictInput } from '../schemas.js';

export interface TailStatusDeps {
  store: Store;
}

const sourceOutput = z.object({
  name: z.string(),
  path: z.string(),
  format: z.string(),
  recognized_share: z.number().optional(),
  state: z.enum(['catching_up', 'live', 'stalled', 'missing', 'error']),
  bytes_read: z.number(),
  file_bytes: z.number(),
  pending_bytes: z.number(),
  lines_read: z.number(),
  entries: z.number(),
  parse_errors: z.number(),
  last_parse_error: z.object({ line: z.number(), reason: z.string(), text: z.string() }).optional(),
  lines_per_sec: z.number(),
  last_entry_timestamp: z.string().nullable(),
  lag_ms: z.number().nullable(),
  rotations: z.number(),
  long_lines: z.number(),
  long_line_bytes_skipped: z.number(),
  missed_bytes: z.number(),
  missed_files: z.number(),
  error: z.string().optional(),
});

const outputSchema = {
  sources: z.array(sourceOutput),
  wal: z.object({
    enabled: z.boolean(),
    segments: z.number(),
    bytes: z.number(),
    durable_entries: z.number(),
    unsynced_entries: z.number(),
    last_fsync_at: z.string().nullable(),
    fsync_policy: z.string(),
    corrupt_records: z.number(),
    repaired_records: z.number(),
    lost: z.array(z.object({ source: z.string(), from: z.string().nullable(), to: z.string().nullable(), bytes: z.number(), lines: z.number(), reason: z.string() })),
    failed: z.boolean(),
    error: z.string().optional(),
  }),
  upload: z
    .object({
      backlog_entries: z.number(),
      backlog_bytes: z.number(),
      last_ack_at: z.string().nullable(),
      uploaded_entries: z.number(),
      error: z.string().optional(),
    })
    .optional()
    .describe('An ingest agent shipping its WAL to ClickHouse: what waits for an acknowledgement, and why it waits'),
  index: z.object({
    backend: z.string().optional(),
    entries: z.number(),
    first_timestamp: z.string().nullable(),
    last_timestamp: z.string().nullable(),
    memory_bytes: z.number(),
  }),
  uptime_s: z.number(),
};

type TailStatusJson = z.infer<z.ZodObject<typeof outputSchema>>;

const iso = (us: number | null): string | null => (us === null ? null : formatTimestamp(us));

export function tailStatusJson(s: StoreStatus): TailStatusJson {
  return {
    sources: s.sources.map((src) => ({
      name: src.name,
      path: src.path,
      format: src.format,
      ...(src.formatShare === undefined ? {} : { recognized_share: Math.round(src.formatShare * 1000) / 1000 }),
      state: src.state,
      bytes_read: src.bytesRead,
      file_bytes: src.fileBytes,
      pending_bytes: src.pendingBytes,
      lines_read: src.linesRead,
      entries: src.entries,
      parse_errors: src.parseErrors,
      ...(src.lastParseError === undefined
        ? {}
        : { last_parse_error: { ...src.lastParseError, text: escapeLogText(src.lastParseError.text) } }),
      lines_per_sec: Math.round(src.linesPerSec),
      last_entry_timestamp: iso(src.lastEntryTs),
      lag_ms: src.lagMs === null ? null : Math.round(src.lagMs),
      rotations: src.rotations,
      long_lines: src.longLines,
      long_line_bytes_skipped: src.longLineBytesSkipped,
      missed_bytes: src.missedBytes ?? 0,
      missed_files: src.missedFiles ?? 0,
      ...(src.error === undefined ? {} : { error: src.error }),
    })),
    wal: {
      enabled: s.wal.enabled,
      segments: s.wal.segments,
      bytes: s.wal.bytes,
      durable_entries: s.wal.durableEntries,
      unsynced_entries: s.wal.unsyncedEntries,
      last_fsync_at: s.wal.lastFsyncAt === null ? null : new Date(s.wal.lastFsyncAt).toISOString(),
      fsync_policy: s.wal.fsyncPolicy,
      corrupt_records: s.wal.corruptRecords,
      repaired_records: s.repairedRecords ?? 0,
      lost: (s.lost ?? []).map((g) => ({ source: g.source, from: iso(g.fromTs), to: iso(g.toTs), bytes: g.bytes, lines: g.lines, reason: g.reason })),
      failed: s.wal.error != null,
      ...(s.wal.error == null ? {} : { error: s.wal.error }),
    },
    ...(s.upload === undefined
      ? {}
      : {
          upload: {
            backlog_entries: s.upload.backlogEntries,
            backlog_bytes: s.upload.backlogBytes,
            last_ack_at: s.upload.lastAckAt === null ? null : new Date(s.upload.lastAckAt).toISOString(),
            uploaded_entries: s.upload.uploadedEntries,
            ...(s.upload.error === undefined ? {} : { error: s.upload.error }),
          },
        }),
    index: {
      ...(s.backend === undefined ? {} : { backend: s.backend }),
      entries: s.index.entries,
      first_timestamp: iso(s.index.firstTs),
      last_timestamp: iso(s.index.lastTs),
      memory_bytes: s.index.memoryBytes,
    },
    uptime_s: s.uptimeS,
  };
}

export function renderTailStatus(j: TailStatusJson): string {
  const lines = j.sources.map((s) => {
    const lag = s.lag_ms === null ? 'n/a' : `${(s.lag_ms / 1000).toFixed(1)}s`;
    const pct = s.file_bytes > 0 ? ` ${Math.min(100, (100 * s.bytes_read) / s.file_bytes).toFixed(1)}%` : '';
    const err = s.error ? ` error: ${s.error}` : '';
    const parse = s.parse_errors > 0 ? `, ${s.parse_errors} parse errors` : '';
    const share = s.recognized_share === undefined ? '' : ` ${Math.round(s.recognized_share * 100)}% recognized`;
    const long = s.long_lines > 0 ? `, ${s.long_lines} long lines cut (${s.long_line_bytes_skipped} bytes skipped)` : '';
    const missed = s.missed_bytes > 0 || s.missed_files > 0 ? `, MISSED ${s.missed_bytes} bytes in ${s.missed_files} files (deleted or truncated before they were read)` : '';
    return `${s.name} (${s.path}, ${s.format}${share}): ${s.state}${pct}, ${s.entries} entries, ${s.lines_per_sec} lines/s, last ${s.last_entry_timestamp ?? '-'}, lag ${lag}, ${s.rotations} rotations${parse}${long}${missed}${err}`;
  });
  const w = j.wal;
  const wal = w.enabled
    ? `wal: ${w.failed ? `FAILED (${w.error ?? 'fsync error'}), ingestion stopped until restart; ` : ''}${w.segments} segments, ${w.bytes} bytes, ${w.durable_entries} durable, ${w.unsynced_entries} unsynced, fsync ${w.fsync_policy}, last fsync ${w.last_fsync_at ?? '-'}, ${w.corrupt_records} corrupt records` +
      (w.repaired_records > 0 ? `, ${w.repaired_records} re-read from the sources` : '') +
      w.lost.map((g) => `\nlost: ${g.lines} lines of ${g.source} between ${g.from ?? '-'} and ${g.to ?? '-'} (${g.reason})`).join('')
    : 'wal: off (ephemeral)';
  const ix = j.index;
  const u = j.upload;
  const upload = u === undefined ? [] : [`upload: ${u.backlog_entries} entries (${u.backlog_bytes} bytes) waiting, ${u.uploaded_entries} uploaded, last ack ${u.last_ack_at ?? '-'}${u.error === undefined ? '' : `, paused: ${u.error}`}`];
  return [...lines, wal, ...upload, `${ix.backend === 'clickhouse' ? 'clickhouse' : 'index'}: ${ix.entries} entries, ${ix.first_timestamp ?? '-'} .. ${ix.last_timestamp ?? '-'}, ${ix.memory_bytes} bytes`, `uptime ${j.uptime_s}s`].join('\n');
}

export function registerTailStatusTool(server: McpServer, deps: TailStatusDeps): void {
  server.registerTool(
    'tail_status',
    {
      title: 'How fresh the log index is',
      description:
        'Per-source ingestion state (catching_up, live, stalled, missing, error), the log format in use ' +
        '(detected per file, with the share of lines it recognized), lag behind the newest line, lines/s, ' +
        'parse errors, rotations, lines missed (files deleted or truncated before they were read), plus WAL ' +
        'durability (and whether it failed) and index size. Use it to judge whether find_nearest_log can ' +
        'already see the moment you care about.',
      inputSchema: strictInput({ source: sourceInput }),
      outputSchema,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ source }) => {
      const structured = tailStatusJson(await deps.store.status(source));
      return { content: [{ type: 'text', text: renderTailStatus(structured) }], structuredContent: structured };
    },
  );
}
