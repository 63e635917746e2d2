/**
 * The 64 KiB response budget (the README, MCP tools: a whole response stays under 64 KiB), through a
 * real MCP client and server over an in-memory transport: find_nearest_log shrinks in the
 * documented order (bodies, then context, then count) and only as far as it must, keeping the
 * nearest entries in order; triage_confidence drops its log-derived extras first and never
 * its decision, reasons or runbook steps (issue 18: only the size and "some note" were checked).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../../src/mcp/server.js';
import { MAX_RESPONSE_BYTES, resultBytes } from '../../src/mcp/response-budget.js';
import { parseIsoBracketChunk } from '../../src/parse/iso-bracket.js';
import { FileBodyStore } from '../../src/store/file-body-store.js';
import { EmbeddedStore } from '../../src/store/embedded-store.js';
import { parseRunbookCatalog, type RunbookCatalog } from '../../src/triage/index.js';
import { MAX_STEPS_BYTES } from '../../src/triage/runbooks.js';

const BASE = Date.UTC(2024, 0, 15, 10);
const iso = (ms: number): string => new Date(ms).toISOString();

/** One entry every `stepMs` from BASE, bodies from body(i). */
function storeOf(n: number, body: (i: number) => string, tag: (i: number) => string = () => 'INFO', stepMs = 1000): EmbeddedStore {
  let text = '';
  for (let i = 0; i < n; i++) text += `${iso(BASE + i * stepMs)} [${tag(i)}] ${body(i)}\n`;
  const buf = Buffer.from(text);
  const store = new EmbeddedStore({ sources: ['app'], bodies: new FileBodyStore() });
  store.indexChunk('app', parseIsoBracketChunk(buf, { timezone: 'UTC' }), 1, (store.bodies as FileBodyStore).appendBytes(buf));
  return store;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function connect(store: EmbeddedStore, options: { bodyCap?: number; runbooks?: RunbookCatalog } = {}): Promise<Client> {
  const { server } = createServer({ store, ...options });
  const client = new Client({ name: 'budget-test', version: '1.0.0' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  await client.connect(a);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  return client;
}

interface Entry { body: string; truncated: boolean; timestamp: string; context_before?: unknown[]; context_after?: unknown[] }
interface Nearest { status: string; entries: Entry[]; notes?: string[] }

async function nearest(client: Client, args: Record<string, unknown>): Promise<{ s: Nearest; bytes: number }> {
  const r = (await client.callTool({ name: 'find_nearest_log', arguments: { timestamp: iso(BASE), ...args } })) as CallToolResult;
  expect(r.isError ?? false, JSON.stringify(r.content)).toBe(false);
  // The JSON-RPC response as the client received it, envelope included, is what must fit.
  return { s: r.structuredContent as unknown as Nearest, bytes: resultBytes({ jsonrpc: '2.0', id: 1, result: r }) };
}

describe('find_nearest_log under the 64 KiB budget', () => {
  it('cuts bodies first, to the largest cap that fits, and keeps every entry and all context', async () => {
    const store = storeOf(60, (i) => `entry ${i} ${'a'.repeat(2000)}`);
    const client = await connect(store);
    const { s, bytes } = await nearest(client, { count: 60 });
    expect(bytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(s.entries).toHaveLength(60);
    expect(s.notes).toEqual(['bodies cut at 256 bytes to keep the response under 64 KiB']);
    expect(s.entries.every((e) => e.truncated && Buffer.byteLength(e.body) <= 256)).toBe(true);
    expect(s.entries.every((e, i) => e.body.startsWith(`entry ${i} a`))).toBe(true);
    // Only as far as needed: at the cap before (512 bytes) the answer did not fit.
    const at512 = await nearest(await connect(store, { bodyCap: 512 }), { count: 60 });
    expect(at512.s.notes).toEqual(['bodies cut at 256 bytes to keep the response under 64 KiB']);
    const at256 = await nearest(await connect(store, { bodyCap: 256 }), { count: 60 });
    expect(at256.s.notes).toBeUndefined();
  });

  it('then reduces context, keeping the count', async () => {
    const store = storeOf(400, (i) => `entry ${i} ${'b'.repeat(2000)}`);
    const client = await connect(store);
    const { s, bytes } = await nearest(client, { timestamp: iso(BASE + 200_000), count: 10, context: 50 });
    expect(bytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(s.entries).toHaveLength(10);
    const context = Math.max(...s.entries.map((e) => e.context_before?.length ?? 0));
    expect(context).toBeGreaterThan(0);
    expect(context).toBeLessThan(50);
    expect(s.notes).toEqual([
      'bodies cut at 256 bytes to keep the response under 64 KiB',
      `context reduced to ${context} lines to keep the response under 64 KiB`,
    ]);
    // The nearest ten, nearest first (ties: the earlier one).
    const order = [200, 199, 201, 198, 202, 197, 203, 196, 204, 195];
    expect(s.entries.map((e) => e.timestamp)).toEqual(order.map((i) => iso(BASE + i * 1000)));
  });

  it('then reduces the count, keeping the nearest entries in order', async () => {
    // Control characters escape to six bytes each: 256 of them are ~1.5 KiB per body, twice.
    const store = storeOf(200, (i) => `entry ${i} ${'\u0001'.repeat(600)}`);
    const client = await connect(store);
    const { s, bytes } = await nearest(client, { timestamp: iso(BASE + 100_000), count: 100 });
    expect(bytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const n = s.entries.length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(100);
    expect(s.notes).toEqual([
      'bodies cut at 256 bytes to keep the response under 64 KiB',
      `count reduced to ${n} to keep the response under 64 KiB`,
    ]);
    const full = await store.findNearest({ t: (BASE + 100_000) * 1000, tags: null, count: 100, direction: 'nearest', context: 0, bodyCap: 16 });
    expect(s.entries.map((e) => e.timestamp)).toEqual(full.entries.slice(0, n).map((e) => iso(e.ts / 1000)));
  });
});

describe('triage_confidence under the 64 KiB budget', () => {
  const T = BASE + 90 * 60_000;

  /** An hour of quiet INFO, then a database-timeout burst at T with long bodies. */
  function incident(): EmbeddedStore {
    const n = 100 * 60 + 600;
    return storeOf(
      n,
      (i) => (i >= 5_300 && i % 2 === 0 ? `database query exceeded ${3 + (i % 5)}s threshold on shard ${i % 7} ${'\u0001'.repeat(1200)}` : `GET /api/items/${i} 200`),
      (i) => (i >= 5_300 && i % 2 === 0 ? 'ERROR' : 'INFO'),
      1000,
    );
  }

  function catalog(steps: string[]): RunbookCatalog {
    return parseRunbookCatalog(JSON.stringify({
      runbooks: [{ id: 'db-timeout', title: 'Database query timeouts', match: { pattern: 'database query exceeded \\d+s threshold' }, steps, auto_execute: true }],
    }), { origin: 'budget-test.json' });
  }

  async function triage(client: Client): Promise<{ out: { decision: string; reasons: string[]; runbook: { steps: string[] } | null; notes?: string[] }; bytes: number }> {
    const r = (await client.callTool({ name: 'triage_confidence', arguments: { timestamp: iso(T) } })) as CallToolResult;
    expect(r.isError ?? false, JSON.stringify(r.content)).toBe(false);
    return { out: r.structuredContent as never, bytes: resultBytes({ jsonrpc: '2.0', id: 1, result: r }) };
  }

  it('keeps the decision, reasons and every step of the largest runbook the catalog accepts, leaving out the signature list first', async () => {
    // The catalog's limits at their worst: 8 KiB of steps, all of it characters JSON escapes
    // to two bytes; bodies of control characters (six bytes each) in the evidence.
    const steps = Array.from({ length: 8 }, (_, i) => `${i}: ${'"\\'.repeat(1020)}`.slice(0, 1024));
    expect(steps.reduce((n, x) => n + Buffer.byteLength(x), 0)).toBe(MAX_STEPS_BYTES);
    const client = await connect(incident(), { runbooks: catalog(steps) });
    const { out, bytes } = await triage(client);
    expect(bytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(out.notes).toEqual(['signature list and examples left out to keep the response under 64 KiB']);
    expect(out.decision).toBe('auto_execute');
    expect(out.reasons.length).toBeGreaterThan(0);
    expect(out.runbook?.steps).toEqual(steps);
  });

  it('a runbook whose steps could not fit is refused when the catalog loads, naming the field', () => {
    const steps = Array.from({ length: 100 }, (_, i) => `step ${i}: ${'check the replica and fail over the pool; '.repeat(48)}`.slice(0, 2000));
    expect(() => catalog(steps)).toThrow(/runbook 'db-timeout' \(runbooks\[0\]\): steps: must total at most 8,192 bytes/);
    expect(() => catalog(['restart the pool\u001b[2J'])).toThrow(/\(runbooks\[0\]\): steps\[0\]: must not contain control characters/);
  });
});
