/**
 * The sink for --ephemeral: nothing is written to disk. Each batch is indexed with its bodies
 * in the body store: read back from the source file when the batch is a verbatim copy of a
 * plain file's range, kept in memory otherwise (src/store/file-body-store.ts says when).
 */
import { type IngestBatch, type IngestSink, type KnownFile, releaseChunk } from '../ingest/index.js';
import type { EmbeddedStore } from './embedded-store.js';
import { readdirSync, fstatSync } from 'node:fs';
import type { FileIdentity } from '../model/index.js';
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
    const kept = base === null;
    base ??= this.bodies.appendBytes(chunk);
    this.store.indexChunk(batch.source, batch.parsed, batch.firstLine, base);
    // Its bodies are read back from the file: the buffer goes back to the reader's pool
    // (src/ingest/chunk-pool.ts). One kept in memory is never released (left to the GC).
    if (!kept) releaseChunk(chunk);
  }

  /**
   * The follower's list: a file it now reads from a position before what was recorded of it
   * was rewritten in place (copytruncate; src/ingest/rotation.ts checkTruncation). The files
   * of the list already read that far are the candidates for its copy: the follower goes on
   * reading the copy at the same offsets, under the copy's identity, and its descriptor is
   * still open (the store checks the copy's first bytes and length before using it).
   */
  async files(_source: string, files: KnownFile[]): Promise<void> {
    for (const f of files) {
      const end = this.bodies.recordedEnd(f.file);
      if (end === null || f.gzip || f.offset >= end) continue;
      const copies = files.filter((c) => !c.gzip && c.offset >= end && (c.file.dev !== f.file.dev || c.file.ino !== f.file.ino)).map((c) => c.file);
      this.bodies.rewritten(f.file, copies, openOpenFile);
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

/** Our own descriptor of a file this process has open (Linux: found through /proc/self/fd). */
function openOpenFile(id: FileIdentity): number | null {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  for (const n of fds) {
    try {
      const st = fstatSync(Number(n));
      if (st.dev === id.dev && st.ino === id.ino && st.isFile()) return openQuietly(`/proc/self/fd/${n}`);
    } catch {
      // closed meanwhile (the directory's own descriptor too)
    }
  }
  return null;
}
