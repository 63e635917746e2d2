/**
 * The engine: backend (store + sink), parse pool and ingestor built from a Config, and torn
 * down in order. Every command that reads logs (serve, ingest, query, status, demo) starts
 * here; which store answers (embedded or ClickHouse) is decided in store/backend.ts alone.
 */
import { statSync } from 'node:fs';
import type { Config, SourceSpec } from './config.js';
import { Ingestor, ParsePool } from './ingest/index.js';
import type { Logger } from './log.js';
import { type Backend, openBackend, type Store } from './store/index.js';
import type { PrefetchedCheckpoint, Durable } from './store/durable/index.js';
import type { WalIo } from './wal/index.js';

/** How often checkpoint and retention policies are checked. */
const MAINTENANCE_MS = 1000;
/** Text filters are built once this long has passed without catch-up or a query (filter-backfill.ts). */
const BACKFILL_QUIET_MS = 200;

/**
 * With this much to catch up the parse workers are started while the rest of start-up runs
 * (server modules loading, the first reads); below it they start only if a big chunk comes
 * (parse-pool.ts). 16 MiB parse inline in about 40 ms, less than starting the workers costs.
 */
const EAGER_POOL_BYTES = 16 << 20;

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
  /**
   * Build the text filters ingestion leaves out, in the background once no source is catching
   * up (src/index/filter-backfill.ts): long-running commands (serve, demo). One-shot commands
   * exit without them; a later serve fills in what their checkpoint lacks.
   */
  backfillFilters?: boolean;
}

export async function openEngine(config: Config, logger: Logger, options: EngineOptions = {}): Promise<Engine> {
  let ingestor: Ingestor | null = null;
  const pool = new ParsePool({
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    onStartError: (err) => logger.warn({ err: err.message }, 'parse workers did not start; parsing on the main thread'),
  });
  // The workers boot while the rest of start-up runs (`serve` loads the MCP server's modules
  // meanwhile): with --ephemeral before anything is awaited, otherwise once the resume points
  // say how much there is to catch up.
  const startPoolFor = (resume?: Backend['resume']): void => {
    if (!options.readOnly && catchUpBytes(config.sources, resume) >= EAGER_POOL_BYTES) pool.start();
  };
  if (config.ephemeral && config.store !== 'clickhouse') startPoolFor();
  let backend: Backend;
  try {
    backend = await openBackend(config, logger, {
      ingestStatus: () => ingestor?.statuses() ?? [],
      ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
      ...(options.walIo === undefined ? {} : { walIo: options.walIo }),
      ...(options.prefetched === undefined ? {} : { prefetched: options.prefetched }),
    });
  } catch (err) {
    await pool.close();
    throw err;
  }
  const sink = backend.sink;
  const sources = sink === null ? [] : config.sources;
  if (sink !== null) startPoolFor(backend.resume);
  ingestor = new Ingestor({
    sources,
    format: config.format,
    customFormats: config.customFormats,
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
  // The embedded store's text searches stop at this budget (ClickHouse bounds its own queries).
  // (Duck-typed: importing the embedded store here would load it for ClickHouse too.)
  const embedded = backend.store as Partial<{ scanBudget: Config['scanBudget']; startFilterBackfill(isBusy: () => boolean, quietMs: number): unknown }>;
  if ('scanBudget' in embedded) embedded.scanBudget = config.scanBudget;
  if (options.backfillFilters === true && !options.readOnly && embedded.startFilterBackfill !== undefined) {
    embedded.startFilterBackfill(() => ing.statuses().some((s) => s.state === 'catching_up'), BACKFILL_QUIET_MS);
  }
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

/** Bytes the sources hold beyond where ingestion resumes: an estimate (rotations aside). */
function catchUpBytes(sources: readonly SourceSpec[], resume: Backend['resume'] | undefined): number {
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
