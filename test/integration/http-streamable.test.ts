/**
 * `serve --transport http`: the SDK's Client over Streamable HTTP against a real process, on a
 * port picked by the test (the --port path; other suites use --port 0).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { INITIALIZE_BODY, type ServeProcess, connectHttp, freePort, startServe, waitLive, writeSecondsLog } from '../helpers/cli.js';

const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

describe('serve --transport http (Streamable HTTP)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-http-'));
  const file = join(dir, 'app.log');
  let srv: ServeProcess;
  let port: number;
  const clients: Client[] = [];

  beforeAll(async () => {
    writeSecondsLog(file);
    port = await freePort();
    srv = await startServe(['--transport', 'http', '--port', String(port), '--source', `app=${file}`, '--ephemeral']);
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await srv?.stop();
  });

  it('binds 127.0.0.1 on the requested port and logs the address', () => {
    expect(srv.port).toBe(port);
    expect(srv.url).toBe(`http://127.0.0.1:${port}/mcp`);
  });

  it('answers find_nearest_log and tail_status through the SDK client', async () => {
    const client = await connectHttp(srv.url);
    clients.push(client);
    await waitLive(client);
    const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:00:10.400Z', count: 2 } });
    const s = r.structuredContent as { status: string; entries: { body: string; distance_ms: number; line: number }[] };
    expect(s.status).toBe('ok');
    expect(s.entries.map((e) => e.body)).toEqual(['event 10', 'event 11']);
    expect(s.entries[0]!.distance_ms).toBeCloseTo(-400, 6);
    expect(s.entries[0]!.line).toBe(11);
    const t = await client.callTool({ name: 'tail_status', arguments: {} });
    const ts = t.structuredContent as { sources: { name: string; state: string; entries: number }[]; index: { entries: number } };
    expect(ts.sources).toEqual([expect.objectContaining({ name: 'app', state: 'live', entries: 2000 })]);
    expect(ts.index.entries).toBe(2000);
  });

  it('serves several sessions at once from the one engine', async () => {
    const more = await Promise.all([connectHttp(srv.url), connectHttp(srv.url), connectHttp(srv.url)]);
    clients.push(...more);
    const answers = await Promise.all(
      more.map((c, i) => c.callTool({ name: 'find_nearest_log', arguments: { timestamp: `2024-01-15T10:0${i + 1}:00Z`, tag: 'ERROR' } })),
    );
    expect(answers.map((a) => (a.structuredContent as { entries: { body: string }[] }).entries[0]!.body)).toEqual(['event 60', 'event 120', 'event 180']);
    const ids = more.map((c) => (c.transport as StreamableHTTPClientTransport).sessionId);
    expect(new Set(ids).size).toBe(3);
  });

  it('opens the GET stream of a session (one per session) and ends the session on DELETE', async () => {
    // A raw session: the SDK client would open its own GET stream at a moment of its choosing,
    // and the test could only accept 200 or 409 (issue 18).
    const init = await fetch(srv.url, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE_BODY });
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id')!;
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);
    await init.text();
    const session = { ...MCP_HEADERS, 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' };
    const initialized = await fetch(srv.url, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    expect(initialized.status).toBe(202);
    const ac = new AbortController();
    const stream = await fetch(srv.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' }, signal: ac.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const second = await fetch(srv.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' } });
    expect(second.status).toBe(409);
    await second.text();
    ac.abort();
    const del = await fetch(srv.url, { method: 'DELETE', headers: session });
    expect(del.status).toBe(200);
    const after = await fetch(srv.url, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(after.status).toBe(404);
    expect(((await after.json()) as { error: { message: string } }).error.message).toMatch(/Session not found/);
  });

  it('ends an SDK client session on DELETE', async () => {
    const client = await connectHttp(srv.url);
    const transport = client.transport as StreamableHTTPClientTransport;
    const sid = transport.sessionId!;
    await transport.terminateSession();
    const after = await fetch(srv.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    await client.close();
  });

  it('explains requests that are not MCP', async () => {
    const noSession = await fetch(srv.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(noSession.status).toBe(400);
    expect(await noSession.text()).toMatch(/initialize/);
    const getNoSession = await fetch(srv.url, { headers: { Accept: 'text/event-stream' } });
    expect(getNoSession.status).toBe(400);
    const put = await fetch(srv.url, { method: 'PUT', headers: MCP_HEADERS, body: INITIALIZE_BODY });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
    const notJson = await fetch(srv.url, { method: 'POST', headers: MCP_HEADERS, body: '{"jsonrpc":' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const noAccept = await fetch(srv.url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: INITIALIZE_BODY });
    expect(noAccept.status).toBe(406);
    const text = await fetch(srv.url, { method: 'POST', headers: { ...MCP_HEADERS, 'Content-Type': 'text/plain' }, body: INITIALIZE_BODY });
    expect(text.status).toBe(415);
    const client = await connectHttp(srv.url);
    const sid = (client.transport as StreamableHTTPClientTransport).sessionId!;
    const oldVersion = await fetch(srv.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '1999-01-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }),
    });
    expect(oldVersion.status).toBe(400);
    expect(await oldVersion.text()).toMatch(/Unsupported protocol version: 1999-01-01/);
    const again = await fetch(srv.url, { method: 'POST', headers: { ...MCP_HEADERS, 'Mcp-Session-Id': sid }, body: INITIALIZE_BODY });
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/already initialized/);
    await client.close();
    const legacy = await fetch(`${srv.base}/sse`);
    expect(legacy.status).toBe(404);
  });
});
