/**
 * The columnar time index: per source, chunks of timestamps in Float64Arrays with levels,
 * lines and body positions in parallel typed arrays, per-tag position lists, and a small
 * late store for out-of-order lines. Bodies live elsewhere (a BodyStore): never one object
 * per line.
 */
export { SourceIndex } from './source-index.js';
export { findNearest, Hit, neighbours, type Direction, type NearestSpec } from './nearest.js';
export { CHUNK_CAPACITY } from './time-chunk.js';
export { MAX_BODY_LEN } from './segment.js';
export { LATE_WINDOW } from './main-run.js';
export type { Segment, SortedSeq } from './segment.js';
export { countInRange, countSeq } from './count.js';
export { ALL_TAGS } from './cursor.js';
export { entryAtLine } from './source-index.js';
export { DEFAULT_SCAN_BUDGET, scanNearest, type ScanBudget, type Searched } from './text-scan.js';
export type { BodyStore } from './body-store.js';
export { FilterBackfill, buildBlockFilter } from './filter-backfill.js';
export { restoreIndex, snapshotIndex, type SourceSnapshot } from './persist.js';
