/**
 * Index snapshots for checkpoints: the columns of every live chunk and of the late store,
 * as named typed arrays plus a small JSON description. Sealed chunks are immutable, so the
 * snapshot references them without copying and can be written while ingestion goes on; only
 * the unsealed chunk and the late store are copied. On restore the sealed columns are used
 * in place (views of the checkpoint file's buffer), and so are the search structures (tag
 * lists, time model) when their layout is this build's; otherwise they are rebuilt from the
 * columns, which are the authority (src/wal/FORMAT.md, "Index sections").
 */
import { LateRun } from './late-store.js';
import { SourceIndex } from './source-index.js';
import { FILTER_BLOCK, FILTER_WORDS } from '../text/index.js';
import { type ChunkColumns, type ChunkFilters, type ChunkSearch, TimeChunk } from './time-chunk.js';

/**
 * Layout of the search sections (tag lists and time model). 1, unnamed in old checkpoints,
 * was a radix table; 2 is the time model and keyed tag lists; 3 adds exact keys and keyed run starts. A snapshot of another layout has its search
 * structures rebuilt from the columns (about 180 ms at 10M entries, once).
 */
export const SEARCH_LAYOUT = 3;

/**
 * Layout of the text filter sections (src/text/ngram-filter.ts: trigram, one bit, 2^15 bits
 * per FILTER_BLOCK entries). A snapshot without them, or of another layout, restores chunks
 * with no filters: correct (every block is read by a text search), only slower, until the
 * data ages out. Bump it whenever the hashing, the filter size or the block size changes.
 */
export const FILTER_LAYOUT = 1;

export interface ChunkMeta {
  count: number;
  lineBase: number;
  bodyBase: number;
  maxBodyPos: number;
  /** Sealed chunks: which tags have a list section. */
  tags?: number[];
  /** Sealed chunks: the time model's origin and scale (its knots are a section), null if none. */
  model?: { min: number; scale: number } | null;
  /** Sealed chunks: which tags have a keyed-list section. */
  keyed?: number[];
  /** Sealed chunks: the unit of exact keys (0: scaled) and whether a `runs` section holds run starts. */
  keyUnit?: number;
  runs?: boolean;
  /** Whether the chunk has `filters` and `filterKnown` sections. */
  filters?: boolean;
}

export interface SourceSnapshot {
  name: string;
  chunks: ChunkMeta[];
  late: number;
  /** SEARCH_LAYOUT of the chunks' search sections (absent: layout 1). */
  searchLayout?: number;
  /** FILTER_LAYOUT of the chunks' filter sections (absent: none written). */
  filterLayout?: number;
}

export interface IndexSnapshot {
  sources: SourceSnapshot[];
  sections: Record<string, ArrayBufferView>;
}

const COLUMNS = ['ts', 'meta', 'lineDelta', 'bodyDelta', 'bodyLen'] as const;

/** Takes a consistent snapshot. Call it between batches: it reads the index synchronously. */
export function snapshotIndex(indexes: readonly SourceIndex[]): IndexSnapshot {
  const sections: Record<string, ArrayBufferView> = {};
  const sources = indexes.map((index, s) => {
    const chunks: ChunkMeta[] = [];
    index.main.liveChunks().forEach((chunk, k) => {
      const cols = chunk.columns();
      for (const name of COLUMNS) sections[`${s}.${k}.${name}`] = chunk.sealed ? cols[name] : cols[name].slice();
      const meta: ChunkMeta = { count: chunk.count, lineBase: chunk.lineBase, bodyBase: chunk.bodyBase, maxBodyPos: chunk.maxBodyPos };
      const filters = chunk.filters();
      if (filters !== null) {
        sections[`${s}.${k}.filters`] = chunk.sealed ? filters.words : filters.words.slice();
        sections[`${s}.${k}.filterKnown`] = chunk.sealed ? filters.known : filters.known.slice();
        meta.filters = true;
      }
      if (chunk.sealed) {
        // Sealed chunks also carry their tag lists and time model: restarts use them as read.
        const search = chunk.search();
        meta.tags = [];
        search.tags.forEach((list, tag) => {
          if (list === undefined) return;
          sections[`${s}.${k}.tag${tag}`] = list;
          meta.tags!.push(tag);
        });
        meta.model = search.model === null ? null : { min: search.model.min, scale: search.model.scale };
        if (search.model !== null) sections[`${s}.${k}.model`] = search.model.knots;
        meta.keyed = [];
        search.keyed.forEach((list, tag) => {
          if (list === undefined) return;
          sections[`${s}.${k}.keyed${tag}`] = list;
          meta.keyed!.push(tag);
        });
        meta.keyUnit = search.keyUnit;
        meta.runs = search.runs !== undefined;
        if (search.runs !== undefined) sections[`${s}.${k}.runs`] = search.runs;
      }
      chunks.push(meta);
    });
    const late = index.late.snapshot();
    sections[`${s}.late.ts`] = late.ts.subarray(0, late.count);
    sections[`${s}.late.meta`] = late.meta.subarray(0, late.count);
    sections[`${s}.late.line`] = late.line.subarray(0, late.count);
    sections[`${s}.late.bodyPos`] = late.bodyPos.subarray(0, late.count);
    sections[`${s}.late.bodyLen`] = late.bodyLen.subarray(0, late.count);
    return { name: index.name, chunks, late: late.count, searchLayout: SEARCH_LAYOUT, filterLayout: FILTER_LAYOUT };
  });
  return { sources, sections };
}

type SectionReader = <T extends ArrayBufferView>(name: string, type: new (...args: never[]) => T) => T;

/**
 * Rebuilds source indexes from a snapshot. `names` gives the sources to build, in rank order;
 * a snapshot source missing from it is ignored, a name missing from the snapshot starts empty.
 */
export function restoreIndex(snapshot: SourceSnapshot[], read: SectionReader, names: readonly string[], chunkCapacity?: number): SourceIndex[] {
  return names.map((name, rank) => {
    const index = new SourceIndex(name, rank, chunkCapacity);
    const s = snapshot.findIndex((src) => src.name === name);
    if (s < 0) return index;
    const src = snapshot[s]!;
    src.chunks.forEach((meta, k) => {
      if (meta.count === 0) return;
      const cols: ChunkColumns = {
        ts: read(`${s}.${k}.ts`, Float64Array),
        meta: read(`${s}.${k}.meta`, Uint8Array),
        lineDelta: read(`${s}.${k}.lineDelta`, Uint32Array),
        bodyDelta: read(`${s}.${k}.bodyDelta`, Uint32Array),
        bodyLen: read(`${s}.${k}.bodyLen`, Uint16Array),
      };
      for (const c of COLUMNS) {
        if (cols[c].length !== meta.count) throw new Error(`checkpoint chunk ${name}#${k} column ${c} has ${cols[c].length} entries, expected ${meta.count}`);
      }
      let search: ChunkSearch | undefined;
      if (src.searchLayout === SEARCH_LAYOUT && meta.tags !== undefined && meta.model !== undefined && meta.keyed !== undefined && meta.keyUnit !== undefined) {
        const tags: (Uint16Array | undefined)[] = [];
        for (const tag of meta.tags) tags[tag] = read(`${s}.${k}.tag${tag}`, Uint16Array);
        const keyed: (Uint32Array | undefined)[] = [];
        for (const tag of meta.keyed) keyed[tag] = read(`${s}.${k}.keyed${tag}`, Uint32Array);
        const model = meta.model;
        const runs = meta.runs === true ? read(`${s}.${k}.runs`, Uint32Array) : undefined;
        const knots = model === null ? null : { knots: read(`${s}.${k}.model`, Uint16Array), min: model.min, scale: model.scale };
        search = { tags, keyed, model: knots, keyUnit: meta.keyUnit, runs };
      }
      let filters: ChunkFilters | undefined;
      if (src.filterLayout === FILTER_LAYOUT && meta.filters === true) {
        filters = { words: read(`${s}.${k}.filters`, Uint32Array), known: read(`${s}.${k}.filterKnown`, Uint8Array) };
        const blocks = Math.ceil(meta.count / FILTER_BLOCK);
        if (filters.known.length < blocks || filters.words.length < blocks * FILTER_WORDS) {
          throw new Error(`checkpoint chunk ${name}#${k} has filters for ${filters.known.length} blocks, expected ${blocks}`);
        }
      }
      index.main.restoreChunk(TimeChunk.restoreSealed(meta.lineBase, meta.bodyBase, meta.maxBodyPos, cols, search, filters));
    });
    if (src.late > 0) {
      const [ts, meta, line, bodyPos, bodyLen] = [
        read(`${s}.late.ts`, Float64Array), read(`${s}.late.meta`, Uint8Array), read(`${s}.late.line`, Float64Array),
        read(`${s}.late.bodyPos`, Float64Array), read(`${s}.late.bodyLen`, Uint16Array),
      ];
      index.late.restore(LateRun.fromColumns(ts, meta, line, bodyPos, bodyLen));
    }
    return index;
  });
}
