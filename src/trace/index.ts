/**
 * Tracing: OpenTelemetry spans for MCP requests, store queries, ingest batches, WAL fsyncs
 * and checkpoints, exported over OTLP/HTTP. Off by default; the standard OTEL_* variables
 * switch it on (config.ts says which and how).
 *
 * This front door is all the rest of the code imports, and it imports nothing at run time:
 * the default `tracing()` is a no-op whose span() just calls the function, so a run without
 * tracing loads no OpenTelemetry module and pays one closure per ingest batch. startTracing()
 * loads the implementation (otel.ts, with the SDK and exporter) with a dynamic import only
 * when the environment asks for it.
 *
 *   code at a boundary --> tracing().span(name, attrs, fn) --> no-op (default) | otel.ts
 *   serve / ingest     --> startTracing(env, logger)        --> loads otel.ts when on
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Logger } from '../log.js';
import { type TraceSettings, traceSettings } from './config.js';

export { TraceConfigError, traceSettings, type TraceSettings } from './config.js';

export type AttrValue = string | number | boolean;
/** Span attributes; null and undefined values are left out. */
export type Attrs = Record<string, AttrValue | null | undefined>;

/** What code inside a span may do with it. */
export interface SpanHandle {
  /** Adds attributes (e.g. results known only at the end: entries, status). */
  set(attrs: Attrs): void;
}

export interface SpanOptions {
  /**
   * Start a new trace instead of a child of the current span: for background work (an fsync
   * covering many batches, a checkpoint on a timer) that no single request caused.
   */
  root?: boolean;
}

/** How an MCP server's connection is carried, for the network.* attributes of its spans. */
export type McpTransportKind = 'stdio' | 'http' | 'sse';

export interface Tracing {
  readonly enabled: boolean;
  /**
   * Runs fn inside a span named `name` (a child of the current span unless options.root).
   * A throw ends the span with status ERROR and error.type, and is rethrown.
   */
  span<T>(name: string, attrs: Attrs, fn: (span: SpanHandle) => Promise<T>, options?: SpanOptions): Promise<T>;
  /**
   * Makes `server` trace every MCP message on the transports it connects to (SERVER spans per
   * request, following the OpenTelemetry MCP conventions). Returns the same server.
   */
  traceServer(server: McpServer, kind: McpTransportKind): McpServer;
  /** Exports what is buffered and stops; later spans are dropped. */
  shutdown(): Promise<void>;
}

const NOOP_SPAN: SpanHandle = { set: () => undefined };

export const NOOP_TRACING: Tracing = {
  enabled: false,
  span: (_name, _attrs, fn) => fn(NOOP_SPAN),
  traceServer: (server) => server,
  shutdown: () => Promise.resolve(),
};

let current: Tracing = NOOP_TRACING;

/** The process's tracing: the no-op until startTracing() turned it on. */
export function tracing(): Tracing {
  return current;
}

/**
 * Turns tracing on when the environment asks for it (see config.ts) and returns it; else
 * returns the no-op without loading anything. Throws TraceConfigError (a start-up error:
 * one line, exit code 2) for settings it cannot honour, such as OTLP over gRPC.
 */
export async function startTracing(env: NodeJS.ProcessEnv, logger: Logger): Promise<Tracing> {
  const settings: TraceSettings | null = traceSettings(env);
  if (settings === null || current.enabled) return current;
  const { openTelemetryTracing } = await import('./otel.js');
  current = await openTelemetryTracing(settings, logger);
  logger.info({ endpoint: settings.endpoint, protocol: settings.protocol, service: settings.serviceName }, 'OpenTelemetry tracing on');
  return current;
}
export { batchAttrs, type BatchFacts } from './attrs.js';
