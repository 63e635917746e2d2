/**
 * The Store: the query interface the MCP tools, the CLI and triage talk to (store.ts), and the
 * backend factory that picks the store behind it (--store, backend.ts). The way in for the
 * other rooms; inside, the files import each other directly.
 *
 *   store.ts           the Store interface and its answers
 *   backend.ts         the one place the backend is chosen: embedded (durable or --ephemeral)
 *                      or ClickHouse
 *   embedded-store.ts  the embedded engine: a SourceIndex per source, tags, a BodyStore
 *   file-body-store.ts, ephemeral-sink.ts  --ephemeral: bodies read back from the source
 *                      files (in memory when they cannot be), and its sink
 *   traced-store.ts    a span around each query (loaded with import() only when tracing is on)
 *   durable/           the durability wiring: data dir, WAL sink, checkpoints, retention (its own door)
 *   clickhouse/        the ClickHouse store (its own door, loaded with import() for --store clickhouse)
 */
export * from './store.js';
export { type Backend, type BackendOptions, openBackend } from './backend.js';
