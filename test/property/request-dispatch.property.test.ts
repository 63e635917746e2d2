/**
 * dispatchRequestsFirst (src/mcp/request-dispatch.ts) asks the SDK's request check before its
 * response checks. The rule: every message gets exactly the treatment the SDK's own dispatch
 * gives it (same replies, same errors, a response still settles the request it answers), and
 * requests take the shortcut. Two servers, one with the shortcut and one without, are fed the
 * same messages, drawn around the schemas' edges (requests, notifications, responses, mixed
 * shapes with both `method` and `result`, bad ids, extra keys), and must say the same things.
 */
import fc from 'fast-check';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dispatchRequestsFirst } from '../../src/mcp/request-dispatch.js';

class MemoryTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  readonly sent: unknown[] = [];
  readonly errors: string[] = [];

  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async send(message: JSONRPCMessage): Promise<void> {
    this.sent.push(message);
  }
  deliver(message: unknown): void {
    this.onmessage?.(message as JSONRPCMessage);
  }
}

interface Side {
  transport: MemoryTransport;
  server: McpServer;
  /** Requests the server sent to the client (pings) and how they settled. */
  outcomes: string[];
  requestsTaken: number;
  /** Messages that went through the SDK's own dispatch (its zod type guards). */
  sdkDispatched: number;
}

async function side(shortcut: boolean): Promise<Side> {
  const server = new McpServer({ name: 't', version: '1' });
  server.registerTool('echo', { description: 'echo', inputSchema: { x: z.number() } }, async ({ x }) => ({ content: [{ type: 'text', text: `x=${x}` }] }));
  const protocol = server.server as unknown as { _onrequest: (...a: unknown[]) => void; connect: (t: Transport) => Promise<void> };
  const s: Side = { transport: new MemoryTransport(), server, outcomes: [], requestsTaken: 0, sdkDispatched: 0 };
  // Counts what reaches the handler the SDK's connect installs (wrapped before the shortcut is).
  const connect = protocol.connect.bind(protocol);
  protocol.connect = async (t: Transport) => {
    await connect(t);
    const sdk = t.onmessage!;
    t.onmessage = (m, extra) => {
      s.sdkDispatched++;
      sdk(m, extra);
    };
  };
  if (shortcut) dispatchRequestsFirst(server);
  const onrequest = protocol._onrequest.bind(protocol);
  protocol._onrequest = (...a: unknown[]) => {
    s.requestsTaken++;
    onrequest(...a);
  };
  await server.connect(s.transport);
  s.transport.onerror = (e) => s.transport.errors.push(e.message);
  return s;
}

/** Lets promise chains and setImmediate-deferred work on both sides finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

const MISSING = Symbol('missing');
const id = fc.constantFrom<unknown>(0, 1, 7, 'a', 1.5, null, MISSING);
const method = fc.constantFrom<unknown>('ping', 'tools/list', 'tools/call', 'notifications/initialized', 'notifications/cancelled', 'nope/none', 3, MISSING);
const params = fc.constantFrom<unknown>(MISSING, {}, { name: 'echo', arguments: { x: 2 } }, { name: 'echo', arguments: { x: 'no' } }, { name: 'missing' }, [], null, { _meta: { progressToken: 1 } });
const result = fc.constantFrom<unknown>(MISSING, MISSING, {}, { ok: 1 }, 5);
const error = fc.constantFrom<unknown>(MISSING, MISSING, { code: -1, message: 'm' }, { code: 'x' });
const extra = fc.constantFrom<Record<string, unknown>>({}, {}, {}, { foo: 1 });
const jsonrpc = fc.constantFrom<unknown>('2.0', '2.0', '2.0', '1.0', MISSING);

const anyShape = fc.record({ jsonrpc, id, method, params, result, error, extra }).map(({ extra: more, ...fields }) => {
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== MISSING) m[k] = v;
  return { ...m, ...more };
});
// Well-formed requests, so the shortcut is taken often (tools/call answers included).
const request = fc.record({ id: fc.oneof(fc.nat(9), fc.constantFrom('r')), method: fc.constantFrom('ping', 'tools/list', 'tools/call', 'nope/none'), params }).map(({ id: i, method: mth, params: p }) => ({
  jsonrpc: '2.0', id: i, method: mth, ...(p === MISSING ? {} : { params: p }),
}));
const message = fc.oneof(anyShape, request);

describe('dispatchRequestsFirst', () => {
  it('treats every message as the SDK dispatch does, and sends requests past the response checks', async () => {
    let requests = 0;
    let others = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (messages) => {
        const plain = await side(false);
        const fast = await side(true);
        expect(fast.transport.onmessage).not.toBe(plain.transport.onmessage);
        // A request from the server to the client: its answer must still reach it.
        for (const s of [plain, fast]) {
          void s.server.server.ping().then(
            () => s.outcomes.push('ping ok'),
            (e: Error) => s.outcomes.push(`ping failed: ${e.message}`),
          );
        }
        await settle();
        const pingId = (fast.transport.sent[0] as { id: number }).id;
        expect((plain.transport.sent[0] as { id: number }).id).toBe(pingId);
        for (const m of [...messages, { jsonrpc: '2.0', id: pingId, result: {} }]) {
          plain.transport.deliver(structuredClone(m));
          fast.transport.deliver(structuredClone(m));
          await settle();
        }
        expect(fast.transport.sent).toEqual(plain.transport.sent);
        expect(fast.transport.errors).toEqual(plain.transport.errors);
        expect(fast.outcomes).toEqual(plain.outcomes);
        // The ping was settled: by the closing result, or by a drawn error response to its id.
        expect(fast.outcomes).toHaveLength(1);
        expect(fast.requestsTaken).toBe(plain.requestsTaken);
        // Every message went through the SDK's dispatch without the shortcut; with it, all but the requests.
        expect(plain.sdkDispatched).toBe(messages.length + 1);
        expect(fast.sdkDispatched).toBe(messages.length + 1 - fast.requestsTaken);
        requests += fast.requestsTaken;
        others += messages.length - fast.requestsTaken;
        await plain.server.close();
        await fast.server.close();
      }),
      { numRuns: 150, endOnFailure: true },
    );
    // Both kinds of message were reached.
    expect(requests).toBeGreaterThan(20);
    expect(others).toBeGreaterThan(20);
  });

  it('keeps the SDK dispatch when the transport had its own onmessage before connect', async () => {
    const server = new McpServer({ name: 't', version: '1' });
    dispatchRequestsFirst(server);
    const t = new MemoryTransport();
    const seen: unknown[] = [];
    t.onmessage = (m) => void seen.push(m);
    await server.connect(t);
    t.deliver({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await settle();
    expect(seen).toHaveLength(1);
    expect(t.sent).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
  });
});
