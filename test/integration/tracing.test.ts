/**
 * Issue 9 item 8: OpenTelemetry traces. Real server processes export to a real OTLP/HTTP
 * receiver process (test/helpers/otlp-receiver.mjs, decoding both encodings); the spans, their
 * attributes and their parent links are read back from it:
 * - stdio, default encoding (http/protobuf), WAL on: one SERVER span per MCP message, named
 *   and attributed per the OpenTelemetry MCP conventions, parented by the traceparent the
 *   client sent in params._meta; store queries as its children; ingest batches, WAL fsyncs
 *   and the closing checkpoint as roots of their own.
 * - Streamable HTTP with OTEL_EXPORTER_OTLP_PROTOCOL=http/json: tcp/http attributes and the
 *   session id.
 * - Off by default: no OTEL_* variable, no @opentelemetry module loaded; bad settings exit 2.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuilt, runCli, startServe, waitLive } from '../helpers/cli.js';
import { KIND, type OtlpReceiver, type ReceivedSpan, startReceiver } from '../helpers/otlp.js';

const RECORD_IMPORTS = fileURLToPath(new URL('../helpers/record-imports.mjs', import.meta.url));
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
const ENTRIES = 3000;

/** One entry a second from 10:00:00, every 20th an ERROR. */
function writeFixture(path: string): void {
  const start = Date.parse('2024-01-15T10:00:00.000Z');
  const lines: string[] = [];
  for (let i = 0; i < ENTRIES; i++) lines.push(`${new Date(start + i * 1000).toISOString()} [${i % 20 === 0 ? 'ERROR' : 'INFO'}] event ${i}`);
  writeFileSync(path, lines.join('\n') + '\n');
}

/**
 * A stdio server started under record-imports.mjs, with the SDK client connected. close()
 * sends SIGTERM and waits for the exit however long the final checkpoint and span flush take
 * (the SDK's own close kills the process 4 s after closing stdin).
 */
async function stdioServer(args: string[], env: Record<string, string>): Promise<{ client: Client; stderr: () => string; close: () => Promise<void> }> {
  requireBuilt();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', RECORD_IMPORTS, CLI, 'serve', ...args],
    env: { ...(process.env as Record<string, string>), LOG_TRIAGE_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'tracing-test', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid!;
  const close = async (): Promise<void> => {
    process.kill(pid, 'SIGTERM');
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive()) await new Promise((r) => setTimeout(r, 50));
    await client.close();
  };
  return { client, stderr: () => stderr, close };
}

const named = (spans: ReceivedSpan[], name: string): ReceivedSpan[] => spans.filter((s) => s.name === name);
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
const readLines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : []);

describe('tracing over stdio, http/protobuf (the default), WAL on', () => {
  let receiver: OtlpReceiver;
  let spans: ReceivedSpan[];
  let answered: { entries: number; okCalls: number };
  const dir = mkdtempSync(join(tmpdir(), 'ltm-trace-'));
  const importLog = join(dir, 'imports.log');

  beforeAll(async () => {
    writeFixture(join(dir, 'app.log'));
    receiver = await startReceiver();
    const { client, close, stderr } = await stdioServer(['--source', `app=${join(dir, 'app.log')}`, '--data-dir', join(dir, 'data')], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.base,
      OTEL_SERVICE_NAME: 'ltm-trace-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      LTM_IMPORT_LOG: importLog,
    });
    try {
      await waitLive(client);
      const ok = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:00:10.400Z', count: 3 }, _meta: { traceparent: TRACEPARENT } });
      const bad = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:00:10' } });
      expect(bad.isError).toBe(true);
      answered = { entries: (ok.structuredContent as { entries: unknown[] }).entries.length, okCalls: 1 };
      await receiver.waitFor('traced tool call and its store query', (got) =>
        got.some((s) => s.name === 'tools/call find_nearest_log' && s.traceId === TRACE_ID) && got.some((s) => s.name === 'store.find_nearest' && s.traceId === TRACE_ID),
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nserver stderr:\n${stderr()}`);
      });
    } finally {
      await close();
    }
    // Closing writes a checkpoint and flushes the spans before the process exits.
    spans = await receiver.waitFor('checkpoint span', (got) => named(got, 'checkpoint.write').length > 0 && got.length > 0).catch((err: Error) => {
      throw new Error(`${err.message}\nserver stderr:\n${stderr()}`);
    });
  }, 150_000);
  afterAll(async () => receiver?.stop());

  it('exports OTLP/protobuf with the service name from OTEL_SERVICE_NAME', () => {
    expect(spans.length).toBeGreaterThan(5);
    for (const s of spans) {
      expect(s.encoding).toBe('protobuf');
      expect(s.resource['service.name']).toBe('ltm-trace-test');
      expect(s.scope).toBe('log-triage-mcp');
    }
  });

  it('one SERVER span per tool call, parented by the traceparent in params._meta, named and attributed per the MCP conventions', () => {
    const calls = named(spans, 'tools/call find_nearest_log');
    expect(calls).toHaveLength(2);
    const call = calls.find((s) => s.traceId === TRACE_ID)!;
    expect(call).toBeDefined();
    expect(call.parentSpanId).toBe(CLIENT_SPAN);
    expect(call.kind).toBe(KIND.server);
    expect(call.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'find_nearest_log',
      'gen_ai.operation.name': 'execute_tool',
      'network.transport': 'pipe',
      'log_triage.status': 'ok',
    });
    expect(call.attributes['jsonrpc.request.id']).toMatch(/^\d+$/);
    expect(call.attributes['mcp.protocol.version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(call.attributes['error.type']).toBeUndefined();
    expect(call.status.code).toBe(0);
    // The call without a traceparent starts its own trace, and its isError result is an error.
    const bad = calls.find((s) => s.traceId !== TRACE_ID)!;
    expect(bad.parentSpanId).toBe('');
    expect(bad.attributes['error.type']).toBe('tool_error');
    expect(bad.status.code).toBe(2);
  });

  it('every other MCP message has its span too (initialize, notifications/initialized, tools/list...)', () => {
    const init = named(spans, 'initialize');
    expect(init).toHaveLength(1);
    expect(init[0]!.kind).toBe(KIND.server);
    expect(init[0]!.attributes['mcp.method.name']).toBe('initialize');
    expect(named(spans, 'notifications/initialized')).toHaveLength(1);
    // waitLive polls tail_status: one span per call, each with its store query beneath it.
    const polls = named(spans, 'tools/call tail_status');
    expect(polls.length).toBeGreaterThan(0);
    for (const p of polls) expect(childrenOf(spans, p).map((c) => c.name)).toContain('store.status');
  });

  it("the store query is a child of the tool call's span, with the answer's status, entries and lag", () => {
    const call = named(spans, 'tools/call find_nearest_log').find((s) => s.traceId === TRACE_ID)!;
    const queries = childrenOf(spans, call).filter((s) => s.name === 'store.find_nearest');
    expect(queries).toHaveLength(1);
    const q = queries[0]!;
    expect(q.kind).toBe(KIND.internal);
    expect(q.attributes).toMatchObject({ 'log_triage.status': 'ok', 'log_triage.entries': answered.entries, 'log_triage.query.count': 3, 'log_triage.query.direction': 'nearest' });
    expect(answered.entries).toBe(3);
    expect(typeof q.attributes['log_triage.lag_ms']).toBe('number');
    expect(q.attributes['log_triage.coverage.entries']).toBe(ENTRIES);
  });

  it('ingest batches are roots carrying source, entries and lag; together they hold every entry', () => {
    const batches = named(spans, 'ingest.batch');
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) {
      expect(b.parentSpanId).toBe('');
      expect(b.attributes['log_triage.source']).toBe('app');
      expect(typeof b.attributes['log_triage.lag_ms']).toBe('number');
    }
    expect(batches.reduce((n, b) => n + (b.attributes['log_triage.entries'] as number), 0)).toBe(ENTRIES);
  });

  it('WAL fsyncs and the closing checkpoint are traced, as roots of their own', () => {
    const fsyncs = named(spans, 'wal.fsync');
    expect(fsyncs.length).toBeGreaterThan(0);
    for (const f of fsyncs) {
      expect(f.parentSpanId).toBe('');
      expect(f.attributes['log_triage.wal.fsync_policy']).toBe('batch');
      expect(f.attributes['log_triage.wal.file']).toMatch(/\.wal$/);
    }
    expect(fsyncs.reduce((n, f) => n + (f.attributes['log_triage.entries'] as number), 0)).toBeGreaterThan(0);
    const [cp] = named(spans, 'checkpoint.write');
    expect(cp!.parentSpanId).toBe('');
    expect(cp!.attributes['log_triage.bytes']).toBeGreaterThan(0);
    expect(cp!.attributes['log_triage.entries']).toBe(ENTRIES);
  });

  it('loads the protobuf exporter and not the JSON one', () => {
    const loaded = readLines(importLog);
    expect(loaded).toContain('@opentelemetry/sdk-trace-node');
    expect(loaded).toContain('@opentelemetry/exporter-trace-otlp-proto');
    expect(loaded).not.toContain('@opentelemetry/exporter-trace-otlp-http');
  });
});

describe('tracing over Streamable HTTP, http/json', () => {
  it('exports JSON with tcp/http transport attributes and the session id', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltm-trace-http-'));
    writeFixture(join(dir, 'app.log'));
    const receiver = await startReceiver();
    const serve = await startServe(['--transport', 'http', '--source', `app=${join(dir, 'app.log')}`, '--ephemeral'], {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.base}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const transport = new StreamableHTTPClientTransport(new URL(serve.url));
    const client = new Client({ name: 'tracing-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      await waitLive(client);
      await client.callTool({ name: 'tail_status', arguments: {}, _meta: { traceparent: TRACEPARENT } });
      const spans = await receiver.waitFor('traced tail_status call', (got) => got.some((s) => s.name === 'tools/call tail_status' && s.traceId === TRACE_ID));
      const call = spans.find((s) => s.name === 'tools/call tail_status' && s.traceId === TRACE_ID)!;
      expect(call.encoding).toBe('json');
      expect(call.parentSpanId).toBe(CLIENT_SPAN);
      expect(call.attributes).toMatchObject({ 'network.transport': 'tcp', 'network.protocol.name': 'http', 'mcp.session.id': transport.sessionId });
      expect(childrenOf(spans, call).map((s) => s.name)).toContain('store.status');
    } finally {
      await client.close().catch(() => undefined);
      await serve.stop();
      await receiver.stop();
    }
  });
});

describe('tracing off', () => {
  it('without OTEL_* variables no @opentelemetry module is loaded', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltm-trace-off-'));
    writeFixture(join(dir, 'app.log'));
    const importLog = join(dir, 'imports.log');
    const env: Record<string, string> = { LTM_IMPORT_LOG: importLog };
    // The variables this machine may have are cleared, so the default is what is tested.
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) env[k] = '';
    const { client, close } = await stdioServer(['--source', `app=${join(dir, 'app.log')}`, '--ephemeral'], env);
    try {
      await waitLive(client);
      const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:00:10Z' } });
      expect(r.isError).toBeFalsy();
    } finally {
      await close();
    }
    expect(readLines(importLog)).toEqual([]);
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL=grpc: .*OTLP\/HTTP only/],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER=zipkin: .*otlp or none/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: OTLP over HTTP needs an http/],
  ])('unusable settings %j exit 2 with one line naming the variable', async (env, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'ltm-trace-bad-'));
    writeFixture(join(dir, 'app.log'));
    const { code, stderr } = await runCli(['serve', '--source', join(dir, 'app.log'), '--ephemeral'], env);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});
