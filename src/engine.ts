/**
 * The engine: store, parse pool and ingestor built from a Config, and torn down in order.
 * Every command that reads logs (serve, ingest, query, demo) starts here.
 */
import type { Config } from './config.js';
import { Ingestor } from './ingest/ingestor.js';
import { ParsePool } from './ingest/parse-pool.js';
import type { Logger } from './log.js';
import { MemoryBodyStore } from './store/body-store.js';
import { EmbeddedStore } from './store/embedded-store.js';
import { EphemeralSink } from './store/ephemeral-sink.js';

export interface Engine {
  store: EmbeddedStore;
  ingestor: Ingestor;
  close(): Promise<void>;
}

export interface EngineOptions {
  pollMs?: number;
  threads?: number;
}

export async function openEngine(config: Config, logger: Logger, options: EngineOptions = {}): Promise<Engine> {
  const pool = new ParsePool(options.threads === undefined ? {} : { threads: options.threads });
  const bodies = new MemoryBodyStore();
  let ingestor: Ingestor | null = null;
  const store = new EmbeddedStore({
    sources: config.sources.map((s) => s.name),
    bodies,
    ingestStatus: () => ingestor?.statuses() ?? [],
  });
  ingestor = new Ingestor({
    sources: config.sources,
    format: config.format,
    timezone: config.timezone,
    pool,
    sink: new EphemeralSink(store, bodies),
    logger,
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });
  const ing = ingestor;
  let closed = false;
  return {
    store,
    ingestor: ing,
    async close() {
      if (closed) return;
      closed = true;
      await ing.stop();
      await pool.close();
      await store.close();
    },
  };
}
