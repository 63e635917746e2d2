/**
 * Counts MCP requests in flight across every session, by watching messages cross each
 * session's Transport: a request arriving opens an entry, the response with its id closes it.
 * That one place gives the in-flight cap (429), the graceful-shutdown wait, and per-tool call
 * counts and latency for /metrics, whatever the transport (Streamable HTTP answers on the
 * POST, legacy SSE answers on the GET stream, so HTTP requests alone could not tell).
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { CallOutcome, Metrics } from './metrics.js';

interface Pending {
  start: bigint;
  /** The tool name for tools/call, else null (only tool calls are timed). */
  tool: string | null;
}

export class CallTracker {
  private count = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly metrics: Metrics) {}

  /** Requests received and not yet answered, over all sessions. */
  get inflight(): number {
    return this.count;
  }

  /**
   * Watches a connected transport (call after McpServer.connect, which installs the handlers
   * this wraps). `onClosed` runs once when the transport closes.
   */
  attach(transport: Transport, onClosed: () => void): void {
    const pending = new Map<string, Pending>();
    const onmessage = transport.onmessage;
    const onclose = transport.onclose;
    const send = transport.send.bind(transport);
    transport.onmessage = (message, extra) => {
      const m = message as Record<string, unknown>;
      if (typeof m.method === 'string' && m.id !== undefined && m.id !== null) {
        const params = m.params as { name?: unknown } | undefined;
        pending.set(key(m.id), { start: process.hrtime.bigint(), tool: m.method === 'tools/call' ? String(params?.name ?? '') : null });
        this.add(1);
      } else if (m.method === 'notifications/cancelled') {
        // The SDK answers nothing to a cancelled request, so the entry is closed here.
        const id = (m.params as { requestId?: unknown } | undefined)?.requestId;
        if (id !== undefined) this.finish(pending, key(id), 'cancelled');
      }
      onmessage?.(message, extra);
    };
    transport.send = async (message: JSONRPCMessage, options) => {
      const m = message as Record<string, unknown>;
      if (m.method === undefined && m.id !== undefined && m.id !== null) {
        const outcome: CallOutcome = 'error' in m ? 'protocol_error' : (m.result as { isError?: unknown } | undefined)?.isError === true ? 'tool_error' : 'ok';
        try {
          return await send(message, options);
        } finally {
          this.finish(pending, key(m.id), outcome);
        }
      }
      return send(message, options);
    };
    let closed = false;
    transport.onclose = () => {
      if (!closed) {
        closed = true;
        for (const id of [...pending.keys()]) this.finish(pending, id, 'aborted');
        onClosed();
      }
      onclose?.();
    };
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (false then). */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  private finish(pending: Map<string, Pending>, id: string, outcome: CallOutcome): void {
    const p = pending.get(id);
    if (p === undefined) return;
    pending.delete(id);
    this.add(-1);
    if (p.tool !== null) this.metrics.observeCall(p.tool, outcome, Number(process.hrtime.bigint() - p.start) / 1e9);
  }

  private add(n: number): void {
    this.count += n;
    this.metrics.inflight.set(this.count);
    if (this.count === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

function key(id: unknown): string {
  return typeof id === 'string' ? `s:${id}` : `n:${String(id)}`;
}
