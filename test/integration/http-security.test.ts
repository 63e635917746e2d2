/**
 * Safe by default: bearer token (401), DNS-rebinding Host and Origin checks (403), the bind
 * refusal without a token (exit 2), the body cap (413), and CORS only for a named origin.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIALIZE_BODY, type ServeProcess, connectHttp, rawRequest, runCli, startServe, waitLive, writeSecondsLog } from '../helpers/cli.js';

const TOKEN = 'test-token-0123456789abcdef0123456789';
const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
const APP_ORIGIN = 'https://app.example.com';

const dir = mkdtempSync(join(tmpdir(), 'ltm-sec-'));
const file = join(dir, 'app.log');
writeSecondsLog(file, 200);

describe('with --auth-token (here from LOG_TRIAGE_AUTH_TOKEN)', () => {
  let srv: ServeProcess;
  beforeAll(async () => {
    srv = await startServe(['--transport', 'http', '--source', `app=${file}`, '--ephemeral'], { LOG_TRIAGE_AUTH_TOKEN: TOKEN });
  });
  afterAll(async () => srv?.stop());

  it('answers 401 with WWW-Authenticate to a request without the token', async () => {
    const r = await fetch(srv.url, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE_BODY });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/Authorization: Bearer/);
    expect((await fetch(`${srv.base}/healthz`)).status).toBe(401);
    expect((await fetch(`${srv.base}/metrics`)).status).toBe(401);
  });

  it('answers 401 to a wrong token, whatever its length, and to another scheme', async () => {
    for (const auth of [`Bearer ${TOKEN.slice(0, -1)}x`, 'Bearer short', `Bearer ${TOKEN}${TOKEN}`, `Basic ${TOKEN}`, TOKEN]) {
      const r = await fetch(srv.url, { method: 'POST', headers: { ...MCP_HEADERS, Authorization: auth }, body: INITIALIZE_BODY });
      expect(r.status, auth).toBe(401);
    }
  });

  it('checks the token before reading the body', async () => {
    const r = await rawRequest(srv.base, { method: 'POST', path: '/mcp', headers: { ...MCP_HEADERS, 'Content-Length': String(8 << 20) }, body: Buffer.alloc(64) });
    expect(r.status).toBe(401);
  });

  it('serves the SDK client that sends the token', async () => {
    const client = await connectHttp(srv.url, { token: TOKEN });
    await waitLive(client);
    const r = await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: '2024-01-15T10:00:05Z' } });
    expect((r.structuredContent as { entries: { body: string }[] }).entries[0]!.body).toBe('event 5');
    const health = await fetch(`${srv.base}/healthz`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(health.status).toBe(200);
    await client.close();
  });
});

describe('on loopback without a token', () => {
  let srv: ServeProcess;
  beforeAll(async () => {
    srv = await startServe(['--transport', 'http', '--source', `app=${file}`, '--ephemeral', '--cors-origin', APP_ORIGIN, '--max-body-bytes', '256KiB']);
  });
  afterAll(async () => srv?.stop());

  it('answers 403 to a foreign Host (DNS rebinding) and accepts the loopback names', async () => {
    const evil = await rawRequest(srv.base, { method: 'POST', path: '/mcp', headers: { ...MCP_HEADERS, Host: `evil.example.com:${srv.port}` }, body: INITIALIZE_BODY });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.message).toMatch(/Host 'evil\.example\.com:\d+' is not this server/);
    const wrongPort = await rawRequest(srv.base, { path: '/healthz', headers: { Host: '127.0.0.1:1' } });
    expect(wrongPort.status).toBe(403);
    for (const host of [`localhost:${srv.port}`, `127.0.0.1:${srv.port}`, `[::1]:${srv.port}`]) {
      const ok = await rawRequest(srv.base, { path: '/healthz', headers: { Host: host } });
      expect([200, 503], host).toContain(ok.status);
    }
  });

  it('answers 403 to a foreign Origin, and to a look-alike of the server itself', async () => {
    for (const origin of ['http://evil.example.com', `http://localhost.evil.example.com:${srv.port}`, `http://127.0.0.1:${srv.port + 1}`, 'null']) {
      const r = await fetch(srv.url, { method: 'POST', headers: { ...MCP_HEADERS, Origin: origin }, body: INITIALIZE_BODY });
      expect(r.status, origin).toBe(403);
    }
    const same = await fetch(srv.url, { method: 'POST', headers: { ...MCP_HEADERS, Origin: `http://localhost:${srv.port}` }, body: INITIALIZE_BODY });
    expect(same.status).toBe(200);
    // Same-origin needs no CORS headers, and none are sent.
    expect(same.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends CORS headers only to the --cors-origin', async () => {
    const preflight = await fetch(srv.url, { method: 'OPTIONS', headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(preflight.headers.get('access-control-expose-headers')).toMatch(/Mcp-Session-Id/);
    const r = await fetch(srv.url, { method: 'POST', headers: { ...MCP_HEADERS, Origin: APP_ORIGIN }, body: INITIALIZE_BODY });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    const other = await fetch(srv.url, { method: 'OPTIONS', headers: { Origin: `http://localhost:${srv.port}` } });
    expect(other.status).toBe(405);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 413 to a body over --max-body-bytes, declared or streamed', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(300 * 1024) } });
    const declared = await rawRequest(srv.base, { method: 'POST', path: '/mcp', headers: MCP_HEADERS, body: big });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error.message).toMatch(/larger than 262144 bytes \(--max-body-bytes\)/);
    const chunked = await rawRequest(srv.base, { method: 'POST', path: '/mcp', headers: { ...MCP_HEADERS, 'Transfer-Encoding': 'chunked' }, body: big });
    expect(chunked.status).toBe(413);
    // A body under the cap still works.
    const small = await fetch(srv.url, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE_BODY });
    expect(small.status).toBe(200);
  });
});

describe('startup refusals', () => {
  it('refuses to bind 0.0.0.0 without a token: one line, exit code 2', async () => {
    const r = await runCli(['serve', '--transport', 'http', '--host', '0.0.0.0', '--port', '0', '--source', file, '--ephemeral'], { LOG_TRIAGE_AUTH_TOKEN: '' });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^log-triage-mcp: --host 0\.0\.0\.0 is reachable from other machines; set --auth-token TOKEN/);
    expect(r.stdout).toBe('');
  });

  it('refuses a wildcard --cors-origin', async () => {
    const r = await runCli(['serve', '--transport', 'http', '--cors-origin', '*', '--source', file, '--ephemeral']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^log-triage-mcp: --cors-origin '\*' is not allowed/);
  });
});
