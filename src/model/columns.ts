/**
 * Entries as columns, one element per entry i < count: what a parse worker fills, the WAL
 * writes and the index takes in one batch (parse/parsed-chunk.ts, wal/types.ts WalBatch,
 * index/chunk-columns.ts ColumnBatch each add what their step needs).
 */
export interface EntryColumns {
  /** Number of entries; only the first `count` elements of each column are used. */
  count: number;
  /** Epoch microseconds per entry. */
  ts: Float64Array;
  /** Packed tag id and precision per entry (parse/meta.ts). */
  meta: Uint8Array;
  /** 0-based line index of each entry's first line within its chunk. */
  line: Uint32Array;
  /** Body byte range within the chunk: [bodyStart, bodyEnd). Continuation lines extend it. */
  bodyStart: Uint32Array;
  bodyEnd: Uint32Array;
}
