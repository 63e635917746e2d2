/**
 * The engine: store, parse pool and ingestor built from a Config, and torn down in order.
 * Every command that reads logs (serve, ingest, query, status, demo) starts here.
 *
 * With a data dir (the default) batches go through the WAL and the index is restored from
 * the newest checkpoint plus the WAL tail; with --ephemeral everything stays in memory.
 */
import { statSync } from 'node:fs';
import type { Config, SourceSpec } from './config.js';
import { Ingestor } from './ingest/ingestor.js';
import { ParsePool } from './ingest/parse-pool.js';
import type { IngestSink } from './ingest/source-pipeline.js';
import type { Logger } from './log.js';
import { MemoryBodyStore } from './store/body-store.js';
import type { PrefetchedCheckpoint } from './store/checkpoint-prefetch.js';
import { type Durable, openDurable } from './store/durable.js';
import { EmbeddedStore } from './store/embedded-store.js';
import { EphemeralSink } from './store/ephemeral-sink.js';
import type { WalIo } from './wal/index.js';

/** How often checkpoint and retention policies are checked. */
const MAINTENANCE_MS = 1000;

/**
 * With this much to catch up the parse workers are started while the rest of start-up runs
 * (server modules loading, the first reads); below it they start only if a big chunk comes
 * (parse-pool.ts). 16 MiB parse inline in about 40 ms, less than starting the workers costs.
 */
const EAGER_POOL_BYTES = 16 << 20;

export interface Engine {
  store: EmbeddedStore;
  ingestor: Ingestor;
  /** The data dir side (WAL, checkpoints), absent with --ephemeral. */
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
  const ingestStatus = () => ingestor?.statuses() ?? [];
  let store: EmbeddedStore;
  let sink: IngestSink;
  let durable: Durable | null = null;
  const pool = new ParsePool({
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    onStartError: (err) => logger.warn({ err: err.message }, 'parse workers did not start; parsing on the main thread'),
  });
  // Before anything is awaited: the workers boot while the rest of start-up runs (`serve`
  // loads the MCP server's modules meanwhile).
  const startPoolFor = (resume?: Durable['resume']): void => {
    if (!options.readOnly && catchUpBytes(config.sources, resume) >= EAGER_POOL_BYTES) pool.start();
  };
  if (config.ephemeral) {
    startPoolFor();
    const bodies = new MemoryBodyStore();
    store = new EmbeddedStore({ sources: config.sources.map((s) => s.name), bodies, ingestStatus });
    sink = new EphemeralSink(store, bodies);
  } else {
    try {
      durable = await openDurable(config, { ingestStatus, logger, readOnly: options.readOnly === true, walIo: options.walIo, prefetched: options.prefetched });
    } catch (err) {
      await pool.close();
      throw err;
    }
    startPoolFor(durable.resume);
    store = durable.store;
    sink = durable.sink;
  }
  ingestor = new Ingestor({
    sources: config.sources,
    format: config.format,
    timezone: config.timezone,
    pool,
    sink,
    logger,
    maxLineBytes: config.maxLineBytes,
    ...(durable === null ? {} : { resume: durable.resume }),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });
  const ing = ingestor;
  const d = durable;
  let timer: NodeJS.Timeout | null = null;
  if (d !== null) {
    let running = false;
    timer = setInterval(() => {
      if (running) return;
      running = true;
      d.maintain()
        .catch((err: Error) => logger.warn({ err: err.message }, 'maintenance failed'))
        .finally(() => (running = false));
    }, MAINTENANCE_MS);
    timer.unref();
  }
  let closing: Promise<void> | null = null;
  return {
    store,
    ingestor: ing,
    durable: d,
    close() {
      closing ??= (async () => {
        if (timer !== null) clearInterval(timer);
        await ing.stop();
        await d?.close();
        await pool.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** Bytes the sources hold beyond where ingestion resumes: an estimate (rotations aside). */
function catchUpBytes(sources: readonly SourceSpec[], resume: Durable['resume'] | undefined): number {
  let total = 0;
  for (const s of sources) {
    const st = statSync(s.path, { throwIfNoEntry: false });
    if (st === undefined) continue;
    // Where the file now at the path was left, if it is one the source has been through.
    const known = resume?.get(s.name)?.files.find((f) => f.file.dev === st.dev && f.file.ino === st.ino);
    total += Math.max(0, st.size - (known?.offset ?? 0));
  }
  return total;
}
