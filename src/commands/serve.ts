/**
 * `serve`: follow the sources and answer MCP requests until told to stop, over stdio (one
 * client, the parent process) or HTTP (--transport http|sse: any number of sessions, each with
 * its own McpServer, all sharing the one engine and its ingestion pipeline).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Engine } from '../engine.js';
import { prefetchCheckpoint } from '../store/durable/checkpoint-prefetch.js';
import { CHECKPOINT_PREFIX, dataDirPaths } from '../store/durable/data-dir.js';
import type { Logger } from '../log.js';
import type { ServerDeps } from '../mcp/index.js';
import type { HttpTransportHandle } from '../mcp/transports/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { type McpTransportKind, startTracing, tracing } from '../trace/index.js';
import { checkSources } from './preflight.js';

/**
 * The MCP modules (SDK, zod, tools) are the biggest part of start-up; loading them while the
 * data dir is read (I/O on the thread pool) takes that off restart-to-serving.
 */
const loadServer = (): Promise<typeof import('../mcp/index.js')> => import('../mcp/index.js');

/**
 * A checkpoint at least this big takes longer to read than the server's modules take to
 * evaluate (10M entries: 220 MB, 100+ ms to read; the modules ~50 ms on an idle 2-core VM).
 */
const OVERLAP_CHECKPOINT_BYTES = 32 << 20;

function bigCheckpoint(config: Config): boolean {
  if (config.ephemeral) return false;
  try {
    const dir = dataDirPaths(config.dataDir).checkpoints;
    const newest = readdirSync(dir).filter((n) => n.startsWith(CHECKPOINT_PREFIX) && !n.includes('.tmp-')).sort().pop();
    return newest !== undefined && statSync(join(dir, newest)).size >= OVERLAP_CHECKPOINT_BYTES;
  } catch {
    return false; // no data dir yet
  }
}

/** How long SIGTERM waits for calls in flight before closing sessions anyway. */
const SHUTDOWN_GRACE_MS = 10_000;
/**
 * Past this, a shutdown that is stuck (a read that never returns) exits anyway: a server that
 * logged "shutting down" and never exited held its client and data dir (issue 15, item 3).
 */
const SHUTDOWN_DEADLINE_MS = SHUTDOWN_GRACE_MS + 20_000;

function exitAfterDeadline(logger: Logger): void {
  setTimeout(() => {
    logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting without it');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
}

export async function serve(config: Config, logger: Logger): Promise<void> {
  // First of all: start reading the newest checkpoint, so the read overlaps module loading.
  const prefetched = config.ephemeral ? undefined : prefetchCheckpoint(dataDirPaths(config.dataDir).checkpoints, CHECKPOINT_PREFIX);
  // Refuse an unsafe bind before anything is opened: one line on stderr, exit code 2.
  if (config.transport !== 'stdio') {
    const { checkHttpOptions } = await import('../mcp/transports/index.js');
    checkHttpOptions({ ...securityOf(config), maxBodyBytes: config.http.maxBodyBytes });
  }
  await checkSources(config.sources);
  // OTEL_* variables: off unless set; bad ones are a start-up error like a bad flag.
  await startTracing(process.env, logger);
  // A bad catalog is a start-up error (one line, exit 2), before any file is opened.
  const runbooks = config.runbooks === null ? undefined : (await import('../triage/index.js')).loadRunbookCatalog(config.runbooks);
  const { openEngine } = await import('../engine.js');
  // The engine first: it starts the parse workers (for a big catch-up) before its first await.
  // In the bundle the server's modules evaluate in one synchronous block: while a big
  // checkpoint is read they fill the wait; otherwise they would only hold the data dir's open
  // back, so they come after it.
  const opening = openEngine(config, logger, prefetched === undefined ? { backfillFilters: true } : { prefetched, backfillFilters: true });
  const server = bigCheckpoint(config) ? loadServer() : opening.then(() => loadServer());
  server.catch(() => undefined); // awaited below, after the engine
  const engine = await opening;
  engine.ingestor.start();
  const { createServer } = await server;
  // A span around each store query when tracing is on (loaded only then).
  const store = tracing().enabled ? (await import('../store/traced-store.js')).tracedStore(engine.store, tracing().span.bind(tracing())) : engine.store;
  const deps: ServerDeps = { store, bodyCap: config.bodyCap, idFields: config.idFields, ...(runbooks === undefined ? {} : { runbooks }) };
  if (config.transport === 'stdio') return serveStdio(engine, createServer, deps, config, logger);

  const http = await serveHttp(config, config.transport, engine, deps, logger);
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    exitAfterDeadline(logger);
    logger.info({ reason }, 'shutting down: refusing new work, finishing calls in flight');
    await http.close(SHUTDOWN_GRACE_MS).catch((err: Error) => logger.error({ err: err.message }, 'closing the HTTP server failed'));
    // Last: stops the followers and flushes the WAL (when there is one).
    await engine.close();
    await tracing().shutdown();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * Serves an open engine over Streamable HTTP or legacy SSE (also used by `demo`): listens, logs
 * the bound address, and turns /healthz ready once the sources are read. On a bind failure the
 * engine is closed and a ConfigError names the option. The caller owns signals and shutdown:
 * `handle.close(graceMs)`, then `engine.close()`.
 */
export async function serveHttp(config: Config, transport: 'http' | 'sse', engine: Engine, deps: ServerDeps, logger: Logger): Promise<HttpTransportHandle> {
  const [{ startHttpTransport }, { createServer }] = await Promise.all([import('../mcp/transports/index.js'), loadServer()]);
  const http = await startHttpTransport({
    ...securityOf(config),
    ...config.http,
    transport,
    port: config.port,
    store: engine.store,
    factory: () => traced(createServer(deps), transport),
    logger,
  }).catch(async (err: NodeJS.ErrnoException) => {
    await engine.close();
    if (err.code === 'EADDRINUSE') throw new ConfigError(`--port ${config.port}: the address ${config.host}:${config.port} is already in use`);
    if (err.code === 'EACCES') throw new ConfigError(`--port ${config.port}: not permitted to bind it (ports below 1024 need privileges)`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new ConfigError(`--host ${config.host}: not an address of this machine`);
    throw err;
  });
  logger.info({ transport, url: http.url, host: http.host, port: http.port, auth: config.authToken !== null }, 'listening');
  if (config.authToken !== null && config.authToken.length < 16) logger.warn('--auth-token is shorter than 16 characters; use a long random token');
  void engine.ingestor.caughtUp().then(async () => {
    http.readiness.markReady();
    const c = await engine.store.coverage();
    logger.info({ entries: c.entries }, 'caught up with every source: ready');
  });
  return http;
}

/** A server from the factory, its MCP messages traced when tracing is on. */
function traced<T extends { server: McpServer }>(made: T, kind: McpTransportKind): T {
  tracing().traceServer(made.server, kind);
  return made;
}

function securityOf(config: Config): { host: string; authToken: string | null; allowedHosts: string[]; corsOrigins: string[] } {
  return { host: config.host, authToken: config.authToken, allowedHosts: config.http.allowedHosts, corsOrigins: config.http.corsOrigins };
}

async function serveStdio(
  engine: Engine,
  createServer: typeof import('../mcp/index.js').createServer,
  deps: ServerDeps,
  config: Config,
  logger: Logger,
): Promise<void> {
  const { LineStdioServerTransport } = await import('../mcp/stdio-transport.js');
  const { server } = traced(createServer(deps), 'stdio');
  const transport = new LineStdioServerTransport();
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    exitAfterDeadline(logger);
    logger.info({ reason }, 'shutting down');
    await server.close().catch(() => undefined);
    await engine.close();
    await tracing().shutdown();
    process.exit(0);
  };
  transport.onclose = () => void stop('client closed stdin');
  process.stdin.on('end', () => void stop('stdin ended'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await server.connect(transport);
  logger.info({ sources: config.sources.map((s) => s.path), transport: 'stdio' }, 'serving');
  void engine.ingestor.caughtUp().then(async () => {
    const c = await engine.store.coverage();
    logger.info({ entries: c.entries }, 'caught up with every source');
  });
}
