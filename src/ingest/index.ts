/**
 * Ingestion: follows each source's files through growth, rotation and truncation, cuts their
 * bytes into chunks of whole entries, parses them in a piscina pool, and hands the batches to a
 * sink (the store's) in order. The way in for the other rooms; inside, the files import each
 * other directly.
 *
 *   ingestor.ts         a follower and a pipeline per source, one parse pool, one sink
 *   source-follower.ts  scheduling: when to read, the drain queue, caught-up waiters
 *   rotation.ts         a position per file, copies, copytruncate, gzip (file-bytes.ts,
 *                       file-match.ts, siblings.ts, tracked-file.ts)
 *   entry-reader.ts     big reads at known offsets, chunks of whole entries (chunk-cut.ts),
 *                       over-long lines (long-lines.ts)
 *   source-pipeline.ts  parse (possibly out of order) then apply in order; IngestSink
 *   parse-pool.ts       the piscina pool; parse-worker.ts its entry (pure parsers only, loaded
 *                       by file name, never through this door), column-codec.ts its bytes
 *   batch.ts, filters.ts, file-format.ts, source-tracker.ts  the batch, its text filters,
 *                       the format per file, the status tail_status reports
 */
export { Ingestor, type IngestorOptions } from './ingestor.js';
export { ParsePool, type ParsePoolOptions } from './parse-pool.js';
export type { IngestBatch } from './batch.js';
export { type IngestSink, SinkHaltedError } from './source-pipeline.js';
export type { KnownFile, SourceResume } from './tracked-file.js';
export { DEFAULT_MAX_LINE_BYTES, LineLimiter } from './long-lines.js';
export { releaseChunk } from './chunk-pool.js';
