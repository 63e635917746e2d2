/**
 * The engine: backend (store + sink), parse pool and ingestor built from a Config, and torn
 * down in order. Every command that reads logs (serve, ingest, query, status, demo) starts
 * here; which store answers (embedded or ClickHouse) is decided in store/backend.ts alone.
 */
import type { Config } from './config.js';
import { Ingestor } from './ingest/ingestor.js';
import { ParsePool } from './ingest/parse-pool.js';
import type { Logger } from './log.js';
import { type Backend, openBackend } from './store/backend.js';
import type { PrefetchedCheckpoint } from './store/checkpoint-prefetch.js';
import type { Durable } from './store/durable.js';
import type { Store } from './store/store.js';
import type { WalIo } from './wal/index.js';

/** How often checkpoint and retention policies are checked. */
const MAINTENANCE_MS = 1000;

export interface Engine {
  store: Store;
  ingestor: Ingestor;
  backend: Backend;
  /** The data dir side (WAL, checkpoints), absent with --ephemeral or a query-only ClickHouse. */
  durable: Durable | null;
  close(): Promise<void>;
}

export interface EngineOptions {
  pollMs?: number;
  threads?: number;
  /** Read the data dir beside a running serve (query, status): no lock, no writes, no sources. */
  readOnly?: boolean;
  /** For tests only: the WAL's file operations, to inject faults such as ENOSPC. */
  walIo?: WalIo;
  /** The newest checkpoint, read ahead while modules load (serve). */
  prefetched?: Promise<PrefetchedCheckpoint | null>;
}

export async function openEngine(config: Config, logger: Logger, options: EngineOptions = {}): Promise<Engine> {
  let ingestor: Ingestor | null = null;
  const backend = await openBackend(config, logger, {
    ingestStatus: () => ingestor?.statuses() ?? [],
    ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
    ...(options.walIo === undefined ? {} : { walIo: options.walIo }),
    ...(options.prefetched === undefined ? {} : { prefetched: options.prefetched }),
  });
  const sink = backend.sink;
  const sources = sink === null ? [] : config.sources;
  const pool = new ParsePool(options.threads === undefined ? {} : { threads: options.threads });
  ingestor = new Ingestor({
    sources,
    format: config.format,
    timezone: config.timezone,
    pool,
    sink: sink ?? { apply: async () => undefined },
    logger,
    maxLineBytes: config.maxLineBytes,
    resume: backend.resume,
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });
  const ing = ingestor;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    backend
      .maintain()
      .catch((err: Error) => logger.warn({ err: err.message }, 'maintenance failed'))
      .finally(() => (running = false));
  }, MAINTENANCE_MS);
  timer.unref();
  let closing: Promise<void> | null = null;
  return {
    store: backend.store,
    ingestor: ing,
    backend,
    durable: backend.durable,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await ing.stop();
        await backend.close();
        await pool.close();
      })();
      return closing;
    },
  };
}
