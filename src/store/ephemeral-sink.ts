/**
 * The sink for --ephemeral: nothing is written to disk. Each batch is indexed with its bodies
 * in the body store: read back from the source file when the batch is a verbatim copy of a
 * plain file's range, kept in memory otherwise (src/store/file-body-store.ts says when).
 */
import type { IngestBatch, IngestSink, KnownFile } from '../ingest/index.js';
import type { EmbeddedStore } from './embedded-store.js';
import { type FileBodyStore, openQuietly } from './file-body-store.js';

export class EphemeralSink implements IngestSink {
  constructor(
    private readonly store: EmbeddedStore,
    private readonly bodies: FileBodyStore,
    /** Per source name, its path: where a file is opened when /proc/self/fd is not there. */
    private readonly paths: ReadonlyMap<string, string> = new Map(),
  ) {}

  async apply(batch: IngestBatch): Promise<void> {
    const { chunk, fd } = batch;
    let base: number | null = null;
    // Verbatim: not gzip (no fd), no over-long line cut (src/store/durable/wal-sink.ts verbatimTail).
    if (fd !== undefined && chunk.length === batch.byteEnd - batch.byteStart) {
      base = this.bodies.appendFileRange(`${batch.source}\0${batch.fileKey}`, batch.file, batch.byteStart, chunk, () => this.open(fd, batch.source));
    }
    base ??= this.bodies.appendBytes(chunk);
    this.store.indexChunk(batch.source, batch.parsed, batch.firstLine, base);
  }

  /**
   * The follower's list: a file it now reads from a position before what was recorded of it
   * was rewritten in place (copytruncate; src/ingest/rotation.ts checkTruncation).
   */
  async files(_source: string, files: KnownFile[]): Promise<void> {
    for (const f of files) {
      const end = this.bodies.recordedEnd(f.file);
      if (end !== null && !f.gzip && f.offset < end) this.bodies.markRewritten(f.file);
    }
  }

  /**
   * A descriptor of the file the follower read: its own reopened through /proc (a renamed or
   * deleted file too), else the source's path. The follower's may be closed, and its number
   * reused, by now: the store checks the identity of whatever this opens.
   */
  private open(fd: number, source: string): number | null {
    if (process.platform === 'linux') {
      const own = openQuietly(`/proc/self/fd/${fd}`);
      if (own !== null) return own;
    }
    const path = this.paths.get(source);
    return path === undefined ? null : openQuietly(path);
  }
}
