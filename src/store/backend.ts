/**
 * The one place the storage backend is chosen (--store): a factory returning the Store that
 * tools query, the sink ingestion writes to, where each source resumes, and how to close it.
 * Commands and the engine see only this shape, never which backend is behind it.
 *
 *   embedded, --ephemeral   memory only: index + bodies read back from the sources
 *   embedded                data dir: WAL + checkpoints + index (durable/open.ts)
 *   clickhouse              the cluster answers queries; with --source, the data dir is the
 *                           agent's buffer and an uploader ships it (clickhouse/index.ts)
 */
import type { Config } from '../config.js';
import type { IngestSink, SourceResume } from '../ingest/index.js';
import type { Logger } from '../log.js';
import type { WalIo } from '../wal/index.js';
import type { PrefetchedCheckpoint } from './durable/checkpoint-prefetch.js';
import { type Durable, openDurable } from './durable/open.js';
import { EmbeddedStore, type IngestStatus } from './embedded-store.js';
import { EphemeralSink } from './ephemeral-sink.js';
import { FileBodyStore } from './file-body-store.js';
import type { Store } from './store.js';

export interface Backend {
  store: Store;
  /** Where parsed batches go; null for a process that only queries. */
  sink: IngestSink | null;
  /** Per source name: the files it has been through and where each was left (WAL format 2). */
  resume: ReadonlyMap<string, SourceResume>;
  /** The data dir side (WAL, checkpoints) when this process has one. */
  durable: Durable | null;
  /** Periodic upkeep (checkpoints, retention); run on a timer. */
  maintain(): Promise<void>;
  /** Resolves once everything applied so far is queryable in the store (uploaded, for a remote one). */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Tail status of the local sources, from the ingest layer. */
  ingestStatus: () => IngestStatus[];
  /** Read the data dir beside a running serve (query, status): no lock, no writes. */
  readOnly?: boolean;
  walIo?: WalIo;
  prefetched?: Promise<PrefetchedCheckpoint | null>;
}

export async function openBackend(config: Config, logger: Logger, options: BackendOptions): Promise<Backend> {
  if (config.store === 'clickhouse') {
    // Loaded only with --store clickhouse: the client library costs start-up time otherwise.
    const { openClickHouseBackend } = await import('./clickhouse/index.js');
    return openClickHouseBackend(config, logger, options);
  }
  if (config.ephemeral) {
    const bodies = new FileBodyStore();
    const store = new EmbeddedStore({ sources: config.sources.map((s) => s.name), bodies, ingestStatus: options.ingestStatus });
    return {
      store,
      sink: new EphemeralSink(store, bodies, new Map(config.sources.map((s) => [s.name, s.path]))),
      resume: new Map(),
      durable: null,
      maintain: async () => undefined,
      flushed: async () => undefined,
      close: async () => {
        await store.close();
        bodies.close();
      },
    };
  }
  const durable = await openDurable(config, {
    ingestStatus: options.ingestStatus,
    logger,
    readOnly: options.readOnly === true,
    walIo: options.walIo,
    prefetched: options.prefetched,
  });
  return embeddedDurableBackend(durable);
}

/** The data dir as a backend: its store answers queries, its WAL sink takes batches. */
export function embeddedDurableBackend(durable: Durable): Backend {
  return {
    store: durable.store,
    sink: durable.sink,
    resume: durable.resume,
    durable,
    maintain: () => durable.maintain(),
    flushed: async () => undefined,
    close: async () => {
      await durable.close();
      await durable.store.close();
    },
  };
}
