/**
 * The shapes a chunk (time-chunk.ts) is handed and hands out: a parsed batch as columns
 * (ingest), the five per-entry columns and the search structures of a sealed chunk
 * (checkpoints), and a restored chunk's tag lists, checkpointed or rebuilt from its meta column.
 */
import type { EntryColumns } from '../model/index.js';
import { TAG_COUNT, TAG_MASK } from '../parse/index.js';
import type { TimeModel } from './time-model.js';

/**
 * A sealed chunk's search structures: per-tag entry lists, the time model (null: too small)
 * and the keyed lists of its rarer tags.
 */
export interface ChunkSearch {
  tags: (Uint16Array | undefined)[];
  model: TimeModel | null;
  keyed: (Uint32Array | undefined)[];
  /** Unit of exact keys (tag-keys.ts exactKeyUnit), 0 when the keys are scaled. */
  keyUnit: number;
  /** Keyed run starts (exact keys only; undefined when not kept). */
  runs: Uint32Array | undefined;
}

/** The five per-entry columns of a chunk (checkpoints write and read these). */
export interface ChunkColumns {
  ts: Float64Array;
  meta: Uint8Array;
  lineDelta: Uint32Array;
  bodyDelta: Uint32Array;
  bodyLen: Uint16Array;
}
/**
 * Entries of one parsed batch as columns, the way the ingest layer hands them over: entry i
 * has line `lineAdd + line[i]`, body position `bodyAdd + bodyStart[i]` and body length
 * `bodyEnd[i] - bodyStart[i]`, and its text filter is the one of its group, at
 * `filters[floor(i / FILTER_GROUP) * FILTER_WORDS ..]` (null: the batch has none).
 */
export interface ColumnBatch extends EntryColumns {
  lineAdd: number;
  bodyAdd: number;
  filters: Uint32Array | null;
}

/**
 * Rebuilds the tag lists of n restored entries from their meta column: counts per tag into
 * counts, then each tag's sorted entry indexes into tags.
 */
export function fillTagLists(meta: Uint8Array, n: number, tags: (Uint16Array | undefined)[], counts: Uint32Array): void {
  for (let i = 0; i < n; i++) counts[meta[i]! & TAG_MASK]!++;
  for (let tag = 0; tag < TAG_COUNT; tag++) if (counts[tag]! > 0) tags[tag] = new Uint16Array(counts[tag]!);
  const fill = new Uint32Array(TAG_COUNT);
  for (let i = 0; i < n; i++) {
    const tag = meta[i]! & TAG_MASK;
    tags[tag]![fill[tag]!++] = i;
  }
}

/** Takes a restored chunk's checkpointed tag lists (used in place) and their counts. */
export function adoptTagLists(from: readonly (Uint16Array | undefined)[], tags: (Uint16Array | undefined)[], counts: Uint32Array): void {
  for (let tag = 0; tag < TAG_COUNT; tag++) {
    const list = from[tag];
    if (list === undefined || list.length === 0) continue;
    tags[tag] = list;
    counts[tag] = list.length;
  }
}
