/**
 * The sink for --ephemeral: raw chunks are kept in memory as the body store and indexed.
 * Nothing is written to disk.
 */
import type { IngestBatch, IngestSink } from '../ingest/index.js';
import type { MemoryBodyStore } from './body-store.js';
import type { EmbeddedStore } from './embedded-store.js';

export class EphemeralSink implements IngestSink {
  constructor(
    private readonly store: EmbeddedStore,
    private readonly bodies: MemoryBodyStore,
  ) {}

  async apply(batch: IngestBatch): Promise<void> {
    const base = this.bodies.appendChunk(batch.chunk);
    this.store.indexChunk(batch.source, batch.parsed, batch.firstLine, base);
  }
}
