/**
 * Caps and graceful shutdown: 503 past --max-sessions, 429 past --max-inflight (both with
 * Retry-After), and SIGTERM that refuses new work but lets the call in flight finish before the
 * process exits 0 with the WAL flushed. A call is held in flight by a client whose sampling handler waits: the
 * server's triage_confidence(use_llm) call cannot answer until the client's model does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { INITIALIZE_BODY, type ServeProcess, connectHttp, runCli, startServe, waitLive, writeSecondsLog } from '../helpers/cli.js';

const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Protocol-Version': '2025-06-18' };

describe('session and in-flight caps, graceful SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltm-limits-'));
  const file = join(dir, 'app.log');
  let srv: ServeProcess;
  let slow: Client;
  let other: Client;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let samplingStarted!: () => void;
  const started = new Promise<void>((r) => (samplingStarted = r));
  let heldCall: Promise<unknown> | null = null;
  /**
   * A triage_confidence(use_llm) call held in flight until release(): started by whichever
   * test needs it first, so each test also runs alone (issue 18: the shutdown test took the
   * call from the previous test through globalThis and crashed without it).
   */
  async function holdCall(): Promise<{ call: Promise<unknown> }> {
    heldCall ??= slow.callTool({ name: 'triage_confidence', arguments: { timestamp: '2024-01-15T10:01:00Z', use_llm: true } });
    await started;
    // Wrapped: an async function returning the call itself would wait for it to finish.
    return { call: heldCall };
  }

  beforeAll(async () => {
    writeSecondsLog(file);
    srv = await startServe(['--transport', 'http', '--source', `app=${file}`, '--data-dir', join(dir, 'data'), '--max-sessions', '2', '--max-inflight', '1']);
    slow = new Client({ name: 'slow-model', version: '1.0.0' }, { capabilities: { sampling: {} } });
    slow.setRequestHandler(CreateMessageRequestSchema, async () => {
      samplingStarted();
      await held;
      return { role: 'assistant', model: 'test', content: { type: 'text', text: '{"score": 0.4, "veto": false, "rationale": "held by the test"}' } };
    });
    await connectHttp(srv.url, { client: slow });
    other = await connectHttp(srv.url);
    await waitLive(other);
    await slow.ping();
  });
  afterAll(async () => {
    release();
    await srv?.stop('SIGKILL');
  });

  it('answers 503 with Retry-After past --max-sessions while both sessions are in use', async () => {
    const r = await fetch(srv.url, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE_BODY });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/session limit reached: 2 sessions .*--max-sessions/);
  });

  it('answers 429 with Retry-After past --max-inflight, and lets replies through', async () => {
    await holdCall();
    const sid = (other.transport as StreamableHTTPClientTransport).sessionId!;
    const r = await fetch(srv.url, { method: 'POST', headers: { ...MCP_HEADERS, 'Mcp-Session-Id': sid }, body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }) });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/too many requests in flight: the limit is 1 \(--max-inflight\)/);
    // The SDK client surfaces the refusal as an error carrying the server's message.
    await expect(other.callTool({ name: 'find_nearest_log', arguments: { timestamp: 0 } })).rejects.toThrow(/too many requests in flight/);
  });

  it('on SIGTERM refuses new work, finishes the call in flight, then exits 0', async () => {
    const { call } = await holdCall();
    srv.child.kill('SIGTERM');
    await waitFor(() => srv.stderr().includes('"reason":"SIGTERM"'));
    const health = await fetch(`${srv.base}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { status: string }).status).toBe('stopping');
    const fresh = await fetch(srv.url, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE_BODY });
    expect(fresh.status).toBe(503);
    expect(await fresh.text()).toMatch(/shutting down/);
    expect(srv.child.exitCode).toBeNull();
    release();
    const result = (await call) as { isError?: boolean; structuredContent: { decision: string; llm?: { used: boolean } } };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.llm?.used).toBe(true);
    expect(await srv.exited).toBe(0);
    expect(srv.stderr()).toContain('"msg":"stopped"');
    expect(srv.stderr()).not.toContain('still in flight');
    // The engine closed last: everything ingested is durable in the WAL.
    const status = await runCli(['status', '--data-dir', join(dir, 'data'), '--json']);
    expect(status.code, status.stderr).toBe(0);
    const wal = (JSON.parse(status.stdout) as { wal: { durable_entries: number; unsynced_entries: number } }).wal;
    expect(wal).toMatchObject({ durable_entries: 2000, unsynced_entries: 0 });
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
