/**
 * src/mcp/transports: serving MCP over HTTP. Owns the Streamable HTTP sessions (/mcp), the
 * legacy SSE transport (/sse + /messages), the security checks (bind, bearer token, Host and
 * Origin, CORS), the caps (body size, sessions, requests in flight), /healthz, /metrics and
 * graceful shutdown. Stdio stays in src/commands/serve.ts: it needs none of this.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/index.js';
import { CallTracker } from './call-tracker.js';
import { Readiness } from './health.js';
import { HttpApp } from './http-app.js';
import { DEFAULT_SESSION_IDLE_MS, Gate, type Limits } from './limits.js';
import { SseSessions } from './legacy-sse.js';
import { Metrics } from './metrics.js';
import { type SecurityOptions, checkSecurityOptions, urlHost } from './security.js';
import type { McpFactory } from './session-host.js';
import { StreamableSessions } from './streamable-http.js';

export { isLoopback } from './security.js';
export type { McpFactory } from './session-host.js';

export interface HttpTransportOptions extends SecurityOptions {
  transport: 'http' | 'sse';
  port: number;
  maxSessions: number;
  maxInflight: number;
  maxBodyBytes: number;
  sessionIdleMs?: number;
  store: Store;
  factory: McpFactory;
  logger: Logger;
}

export interface HttpTransportHandle {
  /** The MCP endpoint clients connect to, e.g. http://127.0.0.1:8765/mcp. */
  url: string;
  host: string;
  port: number;
  readiness: Readiness;
  /** Refuse new work, finish calls in flight (up to graceMs), close sessions and sockets. */
  close(graceMs: number): Promise<void>;
}

/**
 * Startup checks of the HTTP options, before anything is opened: a ConfigError becomes one line
 * on stderr and exit code 2.
 */
export function checkHttpOptions(o: SecurityOptions & { maxBodyBytes: number }): void {
  checkSecurityOptions(o);
  // Below this an initialize request with client info no longer fits.
  if (o.maxBodyBytes < 4096) throw new ConfigError(`--max-body-bytes ${o.maxBodyBytes} is too small; use at least 4KiB (default 1MiB)`);
}

/** Validates the options, listens, and serves until close(). */
export async function startHttpTransport(o: HttpTransportOptions): Promise<HttpTransportHandle> {
  checkHttpOptions(o);
  const metrics = new Metrics(await listToolNames(o.factory));
  const tracker = new CallTracker(metrics);
  const limits: Limits = {
    maxSessions: o.maxSessions,
    maxInflight: o.maxInflight,
    maxBodyBytes: o.maxBodyBytes,
    sessionIdleMs: o.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
  };
  const gate = new Gate(limits, tracker, metrics);
  const logger = o.logger.child({ transport: o.transport });
  const onCount = (n: number): void => metrics.sessions.set({ transport: o.transport }, n);
  const sessions = o.transport === 'http'
    ? new StreamableSessions(o.factory, gate, tracker, logger, onCount)
    : new SseSessions(o.factory, gate, tracker, logger, onCount);
  const readiness = new Readiness();
  const app = new HttpApp({ security: o, sessions, gate, tracker, metrics, readiness, store: o.store, logger });
  const address = await app.listen(o.host, o.port);
  const url = `http://${urlHost(address.address)}:${address.port}${o.transport === 'http' ? '/mcp' : '/sse'}`;
  return { url, host: address.address, port: address.port, readiness, close: (graceMs) => app.close(graceMs) };
}

/** The registered tool names, asked of a throwaway server: the label values /metrics allows. */
async function listToolNames(factory: McpFactory): Promise<string[]> {
  const { server, close } = factory();
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'log-triage-mcp-probe', version: '0' });
  try {
    await server.connect(a);
    await client.connect(b);
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close().catch(() => undefined);
    await close().catch(() => undefined);
  }
}
