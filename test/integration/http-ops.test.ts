/**
 * Operations: /healthz (503 with the reason until the sources are read, 200 after, 503 while
 * stopping), /metrics in Prometheus text with tool calls by outcome, latency, index, ingestion
 * and WAL numbers, and one log line per refused request.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/mcp/server.js';
import { startHttpTransport } from '../../src/mcp/transports/index.js';
import { silentLogger } from '../../src/log.js';
import type { SourceStatus, Store, StoreStatus } from '../../src/store/store.js';
import { type ServeProcess, connectHttp, startServe, waitLive, writeSecondsLog } from '../helpers/cli.js';
import { waitFor } from '../helpers/ingest-stack.js';

describe('/healthz readiness (in process, with a store that is still catching up)', () => {
  const source: SourceStatus = {
    name: 'app', path: '/var/log/app.log', format: 'iso-bracket', state: 'catching_up', bytesRead: 250, fileBytes: 1000, pendingBytes: 0,
    linesRead: 10, entries: 10, parseErrors: 0, linesPerSec: 0, lastEntryTs: null, lagMs: null, rotations: 0, longLines: 0, longLineBytesSkipped: 0,
  };
  const status: StoreStatus = {
    sources: [source],
    wal: { enabled: false, segments: 0, bytes: 0, durableEntries: 0, unsyncedEntries: 0, lastFsyncAt: null, fsyncPolicy: 'off', corruptRecords: 0 },
    index: { entries: 10, firstTs: null, lastTs: null, memoryBytes: 0 },
    uptimeS: 1,
  };
  const store = { status: async () => status, sourceNames: () => ['app'], knownTags: () => [] } as unknown as Store;

  it('says why it is not ready, then turns ready, then stopping', async () => {
    const http = await startHttpTransport({
      transport: 'http', host: '127.0.0.1', port: 0, authToken: null, allowedHosts: [], corsOrigins: [],
      maxSessions: 4, maxInflight: 4, maxBodyBytes: 1 << 20, store, factory: () => createServer({ store }), logger: silentLogger,
    });
    const base = `http://127.0.0.1:${http.port}`;
    try {
      const before = await fetch(`${base}/healthz`);
      expect(before.status).toBe(503);
      expect(before.headers.get('retry-after')).toBe('1');
      const body = (await before.json()) as { status: string; reason: string; sources: { name: string; state: string }[] };
      expect(body.status).toBe('starting');
      expect(body.reason).toBe('catching up with the sources: app 25%');
      expect(body.sources).toEqual([expect.objectContaining({ name: 'app', state: 'catching_up', bytes_read: 250, file_bytes: 1000 })]);
      http.readiness.markReady();
      const after = await fetch(`${base}/healthz`);
      expect(after.status).toBe(200);
      expect(((await after.json()) as { status: string }).status).toBe('ready');
      http.readiness.markStopping();
      const stopping = await fetch(`${base}/healthz`);
      expect(stopping.status).toBe(503);
      expect(((await stopping.json()) as { status: string }).status).toBe('stopping');
    } finally {
      await http.close(1000);
    }
  });
});

describe('/healthz and /metrics of a real server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-ops-'));
  const file = join(dir, 'app.log');
  let srv: ServeProcess;

  beforeAll(async () => {
    writeSecondsLog(file);
    srv = await startServe(['--transport', 'http', '--source', `app=${file}`, '--data-dir', join(dir, 'data')]);
  });
  afterAll(async () => srv?.stop());

  it('turns ready once the source is read', async () => {
    let r = await fetch(`${srv.base}/healthz`);
    await waitFor(async () => {
      if (r.status === 200) return true;
      expect(r.status).toBe(503);
      r = await fetch(`${srv.base}/healthz`);
      return false;
    });
    const body = (await r.json()) as { status: string; sources: { name: string; state: string; file_bytes: number; bytes_read: number }[]; index: { entries: number } };
    expect(body.status).toBe('ready');
    expect(body.sources[0]).toMatchObject({ name: 'app', state: 'live' });
    expect(body.sources[0]!.bytes_read).toBe(body.sources[0]!.file_bytes);
    // Ready means caught up, the last entry included (it is held only until the file is quiet).
    expect(body.index.entries).toBe(2000);
  });

  it('exports calls by tool and outcome, latency, index, ingestion, lag and WAL numbers', async () => {
    const client = await connectHttp(srv.url);
    await waitLive(client);
    for (const ts of ['2024-01-15T10:00:01Z', '2024-01-15T10:00:02Z']) await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: ts } });
    const bad = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: 'yesterday' } });
    expect(bad.isError).toBe(true);
    await client.close();
    const r = await fetch(`${srv.base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '));
      if (line === undefined) throw new Error(`no series ${series} in /metrics`);
      return Number(line.slice(series.length + 1));
    };
    expect(value('log_triage_tool_calls_total{tool="find_nearest_log",outcome="ok"}')).toBe(2);
    expect(value('log_triage_tool_calls_total{tool="find_nearest_log",outcome="tool_error"}')).toBe(1);
    expect(value('log_triage_tool_calls_total{tool="tail_status",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value('log_triage_tool_call_duration_seconds_count{tool="find_nearest_log"}')).toBe(3);
    expect(value('log_triage_tool_call_duration_seconds_bucket{le="60",tool="find_nearest_log"}')).toBe(3);
    expect(value('log_triage_index_entries')).toBe(2000);
    expect(value('log_triage_source_lines_read_total{source="app"}')).toBe(2000);
    expect(value('log_triage_source_entries{source="app"}')).toBe(2000);
    expect(value('log_triage_source_parse_errors_total{source="app"}')).toBe(0);
    expect(value('log_triage_source_lag_seconds{source="app"}')).toBeGreaterThan(0);
    expect(value('log_triage_source_state{source="app",state="live"}')).toBe(1);
    expect(value('log_triage_wal_enabled')).toBe(1);
    expect(value('log_triage_wal_bytes')).toBeGreaterThan(0);
    expect(value('log_triage_wal_segments')).toBeGreaterThanOrEqual(1);
    expect(value('log_triage_wal_durable_entries') + value('log_triage_wal_unsynced_entries')).toBe(2000);
    expect(value('log_triage_inflight_requests')).toBe(0);
    // fsync latency: sum and count (batch policy: at least one fsync within 500 ms of the data).
    let metrics = text;
    await waitFor(async () => {
      if (/^log_triage_wal_fsyncs_total [1-9]/m.test(metrics)) return true;
      metrics = await (await fetch(`${srv.base}/metrics`)).text();
      return false;
    });
    expect(metrics).toMatch(/^log_triage_wal_fsyncs_total [1-9]\d*$/m);
    expect(Number(/^log_triage_wal_fsync_seconds_total (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^log_triage_wal_last_fsync_duration_seconds \S+$/m);
    expect(text).toMatch(/^# TYPE log_triage_tool_call_duration_seconds histogram$/m);
    expect(text).toMatch(/^log_triage_http_requests_total\{route="\/mcp",method="POST",status="200"\} \d+$/m);
  });

  it('logs one line per refused request with status and latency', async () => {
    const r = await fetch(`${srv.base}/nowhere?secret=1`);
    expect(r.status).toBe(404);
    const find = (): string | undefined => srv.stderr().split('\n').find((l) => l.includes('"msg":"http request"') && l.includes('"status":404'));
    // pino writes asynchronously: wait for the line to reach stderr.
    await waitFor(() => find() !== undefined, undefined, () => srv.stderr().slice(-2000));
    const line = find();
    expect(line).toBeDefined();
    const entry = JSON.parse(line!) as { route: string; method: string; ms: number; level: number };
    expect(entry).toMatchObject({ route: 'other', method: 'GET', level: 30 });
    expect(entry.ms).toBeGreaterThanOrEqual(0);
    expect(line).not.toContain('secret');
  });
});
