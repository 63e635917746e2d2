/**
 * What ingestion, the WAL and the stores report about themselves: per source, and for the
 * local write-ahead log. The Store interface returns them (src/store/store.ts re-exports
 * them); src/ingest fills the ingest part, src/wal the WAL part.
 */

export type SourceState = 'catching_up' | 'live' | 'stalled' | 'missing' | 'error';

export interface SourceStatus {
  name: string;
  path: string;
  /** The format in use: forced, or detected from the current file's first lines ('auto' until then). */
  format: string;
  /** Share (0..1) of the first lines the detected format recognized; absent when forced. */
  formatShare?: number;
  state: SourceState;
  bytesRead: number;
  fileBytes: number;
  /** Bytes read but not indexed yet: the last entry, held until it is complete. */
  pendingBytes: number;
  linesRead: number;
  entries: number;
  parseErrors: number;
  lastParseError?: { line: number; reason: string; text: string };
  linesPerSec: number;
  lastEntryTs: number | null;
  lagMs: number | null;
  rotations: number;
  /** Lines longer than the line limit (kept up to it), and the bytes skipped past it. */
  longLines: number;
  longLineBytesSkipped: number;
  /**
   * Lines that could not be read any more (deleted or truncated before they were read): bytes
   * when known, and whole files lost. Absent = 0.
   */
  missedBytes?: number;
  missedFiles?: number;
  error?: string;
}

/**
 * The local write-ahead log of this process: the embedded store's storage, and an ingest
 * agent's buffer in front of a remote store. `enabled: false` when the process has none.
 */
export interface WalStatus {
  enabled: boolean;
  segments: number;
  bytes: number;
  durableEntries: number;
  unsyncedEntries: number;
  lastFsyncAt: number | null;
  fsyncPolicy: string;
  corruptRecords: number;
  /** fdatasync calls, their total and latest duration in seconds (absent without a WAL). */
  fsyncs?: number;
  fsyncSeconds?: number;
  lastFsyncSeconds?: number | null;
  /**
   * Set once an fsync failed: the WAL refuses appends until the process restarts (by design:
   * a retried fsync can report success for data the kernel dropped). Absent or null = fine.
   */
  error?: string | null;
}

/** Runtime status the ingest layer keeps per source; the store adds the index's numbers. */
export type IngestStatus = Omit<SourceStatus, 'entries' | 'lastEntryTs' | 'lagMs'>;
