/**
 * Durability: the wiring that keeps the embedded store's data on disk, apart from the query
 * side of src/store (the Store interface, the embedded and ClickHouse stores).
 *
 *   open.ts                 openDurable: lock, open the WAL, load the newest good checkpoint, replay, resume points
 *   wal-sink.ts             where ingested batches go: the WAL first, then the index
 *   wal-gaps.ts             records lost to corruption, re-read from the source files when they still hold them
 *   data-dir.ts             <data-dir>/: the wal/ and checkpoints/ paths, the LOCK file, checkpoint names
 *   checkpointer.ts         when a checkpoint is taken, what its meta holds (CHECKPOINT_VERSION), pruning
 *   checkpoint-prefetch.ts  the newest checkpoint read ahead at start-up (imports only node:fs, so
 *                           serve imports it directly, not through this door, to start it first)
 *   retention.ts            --retention and --max-wal-bytes: which segments go, the index first
 *
 * Checkpointing has three layers, one owner each: the container file (sections, CRCs,
 * atomic write; CHECKPOINT_FORMAT_VERSION) is the WAL's, src/wal/checkpoint.ts and FORMAT.md
 * "Checkpoint file"; what the index puts in it (SEARCH_LAYOUT, FILTER_LAYOUT) is the index's,
 * src/index/persist.ts; when to write one, its meta, and loading the newest good one at open
 * are here. Retention likewise: the policy and its order (index before files) are here; the
 * WAL only deletes a prefix of sealed segments under its mutex (src/wal/retention.ts).
 */
export { type Durable, type DurableOptions, openDurable } from './open.js';
export { prefetchCheckpoint, type PrefetchedCheckpoint } from './checkpoint-prefetch.js';
export { CHECKPOINT_VERSION, type CheckpointMeta, type CheckpointPolicy, Checkpointer, DEFAULT_CHECKPOINT_POLICY } from './checkpointer.js';
export { CHECKPOINT_PREFIX, checkpointName, dataDirPaths, type DataDirPaths, lockDataDir } from './data-dir.js';
export { applyRetention, type RetentionPolicy, segmentsToDelete } from './retention.js';
