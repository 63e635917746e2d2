/** `serve --transport sse`: the legacy HTTP+SSE transport with the SDK's SSEClientTransport. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type ServeProcess, connectHttp, startServe, waitLive, writeSecondsLog } from '../helpers/cli.js';

describe('serve --transport sse (legacy HTTP+SSE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-sse-'));
  const file = join(dir, 'app.log');
  let srv: ServeProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    writeSecondsLog(file);
    srv = await startServe(['--transport', 'sse', '--source', `app=${file}`, '--ephemeral']);
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await srv?.stop();
  });

  it('listens on a real port for --port 0 and logs the /sse URL', () => {
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/sse`);
  });

  it('answers find_nearest_log and tail_status through SSEClientTransport', async () => {
    const client = await connectHttp(srv.url);
    clients.push(client);
    await waitLive(client);
    const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:00:41Z', tag: 'error', direction: 'before' } });
    const s = r.structuredContent as { status: string; entries: { body: string; tag: string; distance_ms: number }[] };
    expect(s.status).toBe('ok');
    expect(s.entries[0]).toMatchObject({ body: 'event 40', tag: 'ERROR', distance_ms: -1000 });
    const t = await client.callTool({ name: 'tail_status', arguments: { source: 'app' } });
    expect((t.structuredContent as { sources: { name: string; state: string }[] }).sources).toEqual([expect.objectContaining({ name: 'app', state: 'live' })]);
  });

  it('keeps concurrent streams apart', async () => {
    const more = await Promise.all([connectHttp(srv.url), connectHttp(srv.url)]);
    clients.push(...more);
    const [a, b] = await Promise.all(more.map((c, i) => c.callTool({ name: 'find_nearest_log', arguments: { timestamp: Date.parse('2024-01-15T10:10:00Z') + i * 1000 } })));
    expect((a!.structuredContent as { entries: { body: string }[] }).entries[0]!.body).toBe('event 600');
    expect((b!.structuredContent as { entries: { body: string }[] }).entries[0]!.body).toBe('event 601');
  });

  it('refuses unknown sessions and the Streamable HTTP route', async () => {
    const post = (q: string): Promise<Response> =>
      fetch(`${srv.base}/messages${q}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
    expect((await post('?sessionId=nope')).status).toBe(404);
    expect((await post('')).status).toBe(400);
    const mcp = await fetch(`${srv.base}/mcp`, { method: 'POST' });
    expect(mcp.status).toBe(404);
    expect(await mcp.text()).toMatch(/served at \/sse/);
    // The incident view page talks to /mcp, so it is not served here (issue 14).
    const page = await fetch(`${srv.base}/`);
    expect(page.status).toBe(404);
    expect(await page.text()).toMatch(/needs --transport http/);
  });
});
