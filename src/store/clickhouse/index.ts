/**
 * ClickHouse as the store (--store clickhouse): the front door of this folder.
 *
 *   connection.ts   the official client, formats and settings both old and new servers take
 *   sql.ts          literals (no query parameters on 18.16)
 *   schema.ts       tables created on first use (SCHEMA.md)
 *   clickhouse-store.ts, nearest.ts, rows.ts, watermarks.ts   the Store
 *   uploader.ts, row-binary.ts, upload-state.ts               the ingest agent
 *
 * Without sources the process only queries the cluster. With sources it is also an agent:
 * batches go to the local data dir (WAL, index, resume points: the embedded store's, unchanged)
 * and the uploader ships the WAL to ClickHouse under host-qualified source names.
 */
import { hostname } from 'node:os';
import type { Config } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { IngestSink } from '../../ingest/index.js';
import type { Logger } from '../../log.js';
import type { Backend, BackendOptions } from '../backend.js';
import { openDurable } from '../durable/open.js';
import { ClickHouseStore, type LocalView } from './clickhouse-store.js';
import { ClickHouseConnection, ClickHouseError } from './connection.js';
import { ensureSchema, tablesOf } from './schema.js';
import { UploadState } from './upload-state.js';
import { Uploader } from './uploader.js';

export { ClickHouseStore } from './clickhouse-store.js';
export { ClickHouseConnection, ClickHouseError } from './connection.js';
export { ensureSchema, tablesOf, type Tables } from './schema.js';

/** The host-qualified name of a local source: AGENT/NAME. */
export function qualifiedName(agent: string, source: string): string {
  return `${agent}/${source}`;
}

/** Start-up failures become one line and exit code 2. */
function startupError(err: unknown): never {
  if (err instanceof ClickHouseError) throw new ConfigError(`--clickhouse-url: ${err.message}`);
  if (err instanceof Error && !(err instanceof ConfigError) && /must be letters, digits/.test(err.message)) throw new ConfigError(err.message);
  throw err;
}

export async function openClickHouseBackend(config: Config, logger: Logger, options: BackendOptions): Promise<Backend> {
  const agentMode = config.sources.length > 0 && options.readOnly !== true;
  if (agentMode && config.ephemeral) {
    throw new ConfigError('--ephemeral cannot be used with --store clickhouse and --source: an agent keeps batches in its data dir until ClickHouse acknowledges them');
  }
  let conn: ClickHouseConnection;
  try {
    conn = await ClickHouseConnection.open({ url: config.clickhouseUrl, logger });
  } catch (err) {
    startupError(err);
  }
  try {
    const tables = tablesOf(config.clickhouseDatabase, config.clickhouseCluster);
    await ensureSchema(conn, tables, logger);
    logger.info({ url: conn.where, version: conn.version.join('.'), database: tables.database, cluster: tables.cluster }, 'ClickHouse store');
    if (!agentMode) {
      const store = new ClickHouseStore({ conn, tables });
      await store.watermarks(true);
      return {
        store, sink: null, resume: new Map(), durable: null,
        maintain: async () => undefined,
        flushed: async () => undefined,
        close: () => conn.close(),
      };
    }
    const agent = config.agentName ?? hostname();
    const qualify = (name: string): string => qualifiedName(agent, name);
    let uploader: Uploader | null = null;
    const durable = await openDurable(config, {
      ingestStatus: options.ingestStatus,
      logger,
      walIo: options.walIo,
      prefetched: options.prefetched,
      // Retention never deletes what ClickHouse has not acknowledged.
      keepFrom: () => uploader?.cursor ?? 0,
    });
    const state = UploadState.load(config.dataDir, `${conn.where}|${tables.database}|${tables.cluster ?? ''}`);
    const roundBytes = Number(process.env.LOG_TRIAGE_CLICKHOUSE_INSERT_BYTES ?? '');
    uploader = new Uploader({
      conn, tables, wal: durable.wal, state, qualify, agent, host: hostname(), ingestStatus: options.ingestStatus, logger,
      // Raw WAL bytes per insert (default 64 MiB); smaller inserts trade throughput for latency.
      ...(Number.isSafeInteger(roundBytes) && roundBytes > 0 ? { maxRoundBytes: roundBytes } : {}),
    });
    const up = uploader;
    try {
      await up.start();
    } catch (err) {
      await durable.close();
      throw err;
    }
    const local: LocalView = {
      sources: () =>
        options.ingestStatus().map((s) => ({ ...s, name: qualify(s.name), entries: 0, lastEntryTs: null, lagMs: null })),
      wal: () => durable.wal.status(),
      upload: () => up.status(),
    };
    const store = new ClickHouseStore({ conn, tables, local });
    await store.watermarks(true);
    const sink: IngestSink = {
      apply: async (batch) => {
        await durable.sink.apply(batch);
        up.notify(batch.parsed.count);
      },
    };
    return {
      store,
      sink,
      resume: durable.resume,
      durable,
      maintain: () => durable.maintain(),
      flushed: () => up.flushed(),
      close: async () => {
        await up.close();
        await durable.close();
        await durable.store.close();
        await conn.close();
      },
    };
  } catch (err) {
    await conn.close().catch(() => undefined);
    startupError(err);
  }
}
