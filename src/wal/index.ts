/**
 * The write-ahead log module: segmented, CRC32C-framed records of parsed batches (columns +
 * raw source bytes), source registrations and positions, body reads by logical position,
 * replay, retention, and the checkpoint container the index persists itself in.
 *
 * Owns the bytes under the WAL directory and the checkpoint files it is asked to write;
 * the on-disk format is in FORMAT.md. One process writes a directory; others may open it with
 * `readOnly: true` (the query and status commands while serve runs), which reads a snapshot up
 * to the last valid record and never touches a file. One file per concern:
 *   wal.ts            the Wal class (open, append, readBody, replay, retention, close)
 *   open.ts           opening: recovery, then the active segment created or reopened
 *   segment-writer.ts writes at the end of the active segment, partial-record cleanup, cutting
 *   drop-behind.ts    asks the kernel to drop sealed, synced segments' cached pages (GNU dd)
 *   recovery.ts       open-time header checks, trailer reads, torn-tail and corruption repair
 *                     (or, read-only, the same checks in memory)
 *   scanner.ts        block reads and the record scan with resynchronization
 *   syncer.ts         fsync policies and group commit
 *   record-codec.ts   batch / source / seal records; frame.ts the 32-byte frame
 *   segment-file.ts   segment header, names, atomic creation; segment-list.ts the segments in memory
 *   options.ts        option defaults and validation
 *   retention.ts      deleting sealed segments; sources.ts the source registry
 *   checkpoint.ts     checkpoint files; io.ts the file operations (injectable); errors.ts WalError
 */
export { Wal, type WalState } from './wal.js';
export { DEFAULT_SEGMENT_BYTES, type WalOptions } from './options.js';
export type { RecoveryReport, TornTail, UnreadTail, CorruptRecordReport } from './recovery.js';
export type { ReplayOptions, ReplayStats, CorruptFound } from './replay.js';
export type { SegmentInfo } from './segment-list.js';
export type {
  BatchRecord, FileIdentity, FsyncPolicy, SourceFile, SourcePosition, SourceReason, SourceRecord, WalBatch, WalRecord, WalSource,
} from './types.js';
export { WalError, type WalErrorCode, type WalLogger } from './errors.js';
export { nodeIo, type WalIo } from './io.js';
export { WAL_FORMAT_VERSION, segmentName, parseSegmentName } from './segment-file.js';
export {
  CHECKPOINT_FORMAT_VERSION, checkpointSection, listCheckpoints, loadLatestCheckpoint, parseCheckpoint, pruneCheckpoints, readCheckpoint,
  writeCheckpoint, type Checkpoint, type CheckpointArray, type CheckpointInput, type CheckpointOptions,
} from './checkpoint.js';
export { crc32c } from './crc32c.js';
