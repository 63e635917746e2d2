/**
 * In-process datasets: the generator's seed format (40/40/15/5 % TRACE/INFO/WARN/ERROR)
 * parsed by the real parser and indexed by the real store, with 0.01 % of entries re-tagged
 * FATAL (a deterministic choice) to measure a rare tag. Bodies are not kept: the query bench
 * never reads them, and 42M bodies would only measure the page cache.
 */
import { LogGenerator } from '../../src/generate/index.js';
import type { SourceIndex } from '../../src/index/index.js';
import { parseIsoBracketChunk } from '../../src/parse/iso-bracket.js';
import { TAG_FATAL } from '../../src/parse/levels.js';
import { TAG_MASK } from '../../src/parse/meta.js';
import type { BodyStore } from '../../src/index/index.js';
import { EmbeddedStore } from '../../src/store/embedded-store.js';

export const BENCH_START_MS = Date.UTC(2024, 0, 15, 10, 0, 0);
const RARE_SHARE = 0.0001;

const noBodies: BodyStore = { read: () => new Uint8Array(0), firstPos: 0, bytes: 0 };

export interface Dataset {
  store: EmbeddedStore;
  sources: readonly SourceIndex[];
  entries: number;
  firstUs: number;
  lastUs: number;
  /** Every timestamp in order, for the reference searches. */
  timestamps: Float64Array;
  levels: Uint8Array;
}

/** xorshift32 for the rare-tag choice: independent of the generator's own stream. */
function chooser(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function buildDataset(entries: number, seed = 1): Dataset {
  const gen = new LogGenerator({ seed, start: BENCH_START_MS });
  const store = new EmbeddedStore({ sources: ['bench'], bodies: noBodies });
  const timestamps = new Float64Array(entries);
  const levels = new Uint8Array(entries);
  const rare = chooser(seed * 7919);
  const buf = Buffer.allocUnsafe(8 << 20);
  let done = 0;
  let line = 1;
  let base = 0;
  while (done < entries) {
    const r = gen.fill(buf, { maxEntries: Math.min(entries - done, 50_000) });
    const parsed = parseIsoBracketChunk(buf.subarray(0, r.bytes), { timezone: 'UTC' });
    for (let i = 0; i < parsed.count; i++) {
      if (rare() < RARE_SHARE) parsed.meta[i] = (parsed.meta[i]! & ~TAG_MASK) | TAG_FATAL;
      timestamps[done + i] = parsed.ts[i]!;
      levels[done + i] = parsed.meta[i]! & TAG_MASK;
    }
    store.indexChunk('bench', parsed, line, base);
    done += parsed.count;
    line += parsed.lines;
    base += r.bytes;
  }
  const sources = store.sourceIndexes();
  return { store, sources, entries, firstUs: timestamps[0]!, lastUs: timestamps[entries - 1]!, timestamps, levels };
}

/** Random query times spread over the dataset's range (seeded). */
export function randomTimes(d: Dataset, n: number, seed = 42): Float64Array {
  const next = chooser(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(d.firstUs + next() * (d.lastUs - d.firstUs));
  return out;
}
