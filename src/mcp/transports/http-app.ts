/**
 * The HTTP front: one node:http server, and the order every request goes through
 *
 *   Host check -> Origin check -> CORS -> [/ and /ui: the incident view page] -> bearer auth -> route
 *     /mcp (http) or /sse + /messages (sse)   MCP sessions
 *     /healthz, /metrics                        operations
 *
 * Plain node:http rather than Express: five routes, and the checks must run before a body
 * byte is read (Express's JSON parser would read first).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/index.js';
import type { CallTracker } from './call-tracker.js';
import type { Readiness } from './health.js';
import { HttpError, sendError } from './http-util.js';
import { serveIncidentPage } from './incident-page.js';
import type { Gate } from './limits.js';
import { type Metrics, ROUTES, type Route } from './metrics.js';
import { RequestGuard, type SecurityOptions } from './security.js';
import type { SessionHost } from './session-host.js';

export interface HttpAppDeps {
  security: SecurityOptions;
  sessions: SessionHost;
  gate: Gate;
  tracker: CallTracker;
  metrics: Metrics;
  readiness: Readiness;
  store: Store;
  logger: Logger;
}

export class HttpApp {
  private readonly server: Server;
  private guard: RequestGuard | null = null;

  constructor(private readonly deps: HttpAppDeps) {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    // A client that sends headers slowly holds a socket; 10 s is plenty for a local client.
    this.server.headersTimeout = 10_000;
  }

  /** Listens and returns the bound address (the real port when asked for port 0). */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        this.guard = new RequestGuard(this.deps.security, address.port);
        resolve(address);
      });
    });
  }

  /**
   * Graceful stop: refuse new work (503), let calls in flight finish (up to `graceMs`), then
   * close every session and connection. The socket keeps listening while calls finish: a call
   * may still need its client's reply (a sampling answer arrives as a new POST), and that POST
   * may need a new connection.
   */
  async close(graceMs: number): Promise<void> {
    const { gate, tracker, sessions, logger } = this.deps;
    gate.draining = true;
    this.deps.readiness.markStopping();
    const idle = await tracker.waitIdle(graceMs);
    if (!idle) logger.warn({ inflight: tracker.inflight, grace_ms: graceMs }, 'calls still in flight after the grace period; closing anyway');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await sessions.closeAll();
    this.server.closeAllConnections();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = process.hrtime.bigint();
    const path = pathOf(req.url);
    const route: Route = (ROUTES as readonly string[]).includes(path) ? (path as Route) : 'other';
    res.once('close', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const status = res.headersSent ? res.statusCode : 499;
      this.deps.metrics.observeRequest(route, req.method ?? '', status);
      const line = { method: req.method, route, status, ms: Math.round(ms * 1000) / 1000 };
      // Refusals are worth seeing at the default level; routine traffic only at debug.
      if (status >= 400 && status !== 499) this.deps.logger.info(line, 'http request');
      else this.deps.logger.debug(line, 'http request');
    });
    try {
      await this.route(req, res, path, route);
    } catch (err) {
      if (err instanceof HttpError) {
        sendError(res, err);
        return;
      }
      this.deps.logger.error({ err: (err as Error).message, route }, 'request failed');
      sendError(res, new HttpError(500, 'internal server error'));
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string, route: Route): Promise<void> {
    const guard = this.guard;
    if (guard === null) throw new HttpError(503, 'not listening yet');
    const { metrics } = this.deps;
    // Security: DNS rebinding. A browser tricked into calling 127.0.0.1 still sends the
    // attacker's name in Host and Origin; refuse before doing anything else.
    const badHost = guard.checkHost(req);
    if (badHost !== null) {
      metrics.reject('host');
      throw new HttpError(403, `Forbidden: ${badHost}`);
    }
    const badOrigin = guard.checkOrigin(req);
    if (badOrigin !== null) {
      metrics.reject('origin');
      throw new HttpError(403, `Forbidden: ${badOrigin}`);
    }
    const cors = guard.corsHeaders(req);
    for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      // A CORS preflight carries no credentials; answer it only for a --cors-origin.
      res.writeHead(Object.keys(cors).length > 0 ? 204 : 405, { Allow: 'GET, POST, DELETE' }).end();
      return;
    }
    if (route === '/' || route === '/ui') {
      if (this.deps.sessions.kind !== 'http') throw new HttpError(404, 'the incident view page needs --transport http (it talks to /mcp)');
      // Security: before the token check on purpose; see incident-page.ts (the page holds no data).
      return serveIncidentPage(req, res);
    }
    if (!guard.checkAuth(req)) {
      metrics.reject('auth');
      throw new HttpError(401, 'Unauthorized: send Authorization: Bearer <token> (the server was started with --auth-token)', {
        'WWW-Authenticate': 'Bearer realm="log-triage-mcp"',
      });
    }
    const { sessions } = this.deps;
    if (route === '/healthz' || route === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${path} answers GET only`, { Allow: 'GET' });
      if (route === '/healthz') return this.deps.readiness.respond(res, this.deps.store);
      metrics.updateFromStatus(await this.deps.store.status());
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
      return;
    }
    if (sessions.kind === 'http' && route === '/mcp') return this.withBodyErrors(sessions.handle(req, res, path));
    if (sessions.kind === 'sse' && (route === '/sse' || route === '/messages')) return this.withBodyErrors(sessions.handle(req, res, path));
    const where = sessions.kind === 'http' ? '/mcp' : '/sse';
    throw new HttpError(404, `Not found: ${path.slice(0, 100)}; MCP is served at ${where}, plus /healthz and /metrics${sessions.kind === 'http' ? ', and the incident view at /' : ''}`);
  }

  private async withBodyErrors(p: Promise<void>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (err instanceof HttpError && err.status === 413) this.deps.metrics.reject('body_too_large');
      throw err;
    }
  }
}

function pathOf(url: string | undefined): string {
  const q = (url ?? '/').indexOf('?');
  return q === -1 ? (url ?? '/') : (url ?? '/').slice(0, q);
}
