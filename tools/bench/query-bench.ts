/**
 * Nearest-entry queries in process, random timestamps, at growing sizes: ours unfiltered,
 * ERROR (5 %) and a rare tag (0.01 %), beside the plain Float64Array lower bound and the
 * original's design, all on the same data in the same run. Also index bytes per entry and
 * the cost of a 1,000-entry batch insert.
 */
import { findNearest } from '../../src/index/index.js';
import { TAG_ERROR, TAG_FATAL } from '../../src/parse/levels.js';
import { type Dataset, buildDataset, randomTimes } from './dataset.js';
import { OriginalDesign, plainNearest } from './reference.js';
import { count, log, median, ns, ratio, table } from './table.js';

const BATCH = 1000;

/** Median over batches of the mean time per query, in ns. */
function timeQueries(times: Float64Array, run: (t: number) => unknown): number {
  let sink = 0;
  // Warm-up pass so the JIT has optimized the path before it is timed.
  for (let i = 0; i < Math.min(times.length, 20_000); i++) sink += run(times[i]!) === undefined ? 0 : 1;
  const perQuery: number[] = [];
  for (let start = 0; start + BATCH <= times.length; start += BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = start; i < start + BATCH; i++) sink += run(times[i]!) === undefined ? 0 : 1;
    perQuery.push(Number(process.hrtime.bigint() - t0) / BATCH);
  }
  if (sink < 0) log('impossible');
  return median(perQuery);
}

function ours(d: Dataset, tags: number[] | null): (t: number) => unknown {
  const sources = d.sources;
  return (t) => findNearest(sources, { t, tags, count: 1, direction: 'nearest', maxDistance: Infinity })[0];
}

export interface QueryRow {
  entries: number;
  all: number;
  error: number;
  rare: number;
  plain: number;
  original: number | null;
  originalError: number | null;
  bytesPerEntry: number;
  insertOurs: number;
  insertOriginal: number | null;
  originalHeapPerEntry: number | null;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

export function runQueryBench(sizes: number[], originalSizes: Set<number>, queries: number): QueryRow[] {
  const rows: QueryRow[] = [];
  for (const n of sizes) {
    log(`query bench: building ${count(n)} entries`);
    const d = buildDataset(n);
    const times = randomTimes(d, queries);
    const row: QueryRow = {
      entries: n,
      all: timeQueries(times, ours(d, null)),
      error: timeQueries(times, ours(d, [TAG_ERROR])),
      rare: timeQueries(times, ours(d, [TAG_FATAL])),
      plain: timeQueries(times, (t) => plainNearest(d.timestamps, t)),
      original: null,
      originalError: null,
      bytesPerEntry: 0,
      insertOurs: 0,
      insertOriginal: null,
      originalHeapPerEntry: null,
    };
    let memory = 0;
    for (const s of d.sources) memory += s.memoryBytes();
    row.bytesPerEntry = memory / n;
    // A 1,000-entry batch arriving in order at the end.
    const source = d.sources[0]!;
    const last = d.lastUs;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) source.append(last + i, 2, n + i + 1, n * 100 + i, 80);
    row.insertOurs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (originalSizes.has(n)) {
      log(`query bench: original design at ${count(n)}`);
      const before = heapUsed();
      const original = new OriginalDesign(d.timestamps, d.levels, n);
      row.originalHeapPerEntry = (heapUsed() - before) / n;
      row.original = timeQueries(times, (t) => original.nearest(t));
      const sample = times.subarray(0, Math.min(times.length, 20_000));
      row.originalError = timeQueries(sample, (t) => original.nearestWithLevel(t, 'ERROR'));
      const batch = Array.from({ length: 1000 }, (_, i) => ({ ts: last - 500_000 + i * 1000, level: 'INFO', message: 'late batch' }));
      const t1 = process.hrtime.bigint();
      original.insertBatch(batch);
      row.insertOriginal = Number(process.hrtime.bigint() - t1) / 1e6;
    }
    rows.push(row);
  }
  return rows;
}

export function queryTable(rows: QueryRow[]): string {
  return table(
    'Nearest query in process, random timestamps (median per query)',
    ['entries', 'ours', 'ours ERROR 5%', 'ours rare 0.01%', 'filtered/unfiltered', 'plain Float64Array', 'ours/plain', 'original design', 'original ERROR', 'original/ours'],
    rows.map((r) => [
      count(r.entries), ns(r.all), ns(r.error), ns(r.rare),
      `${ratio(r.error / r.all)} / ${ratio(r.rare / r.all)}`,
      ns(r.plain), ratio(r.all / r.plain),
      r.original === null ? '-' : ns(r.original),
      r.originalError === null ? '-' : ns(r.originalError),
      r.original === null ? '-' : ratio(r.original / r.all),
    ]),
  );
}

export function memoryTable(rows: QueryRow[]): string {
  return table(
    'Index memory and batch insert',
    ['entries', 'index bytes/entry (bodies excluded)', 'original heap bytes/entry', '1,000-entry insert, ours', '1,000-entry insert, original (append + re-sort)'],
    rows.map((r) => [
      count(r.entries), r.bytesPerEntry.toFixed(1),
      r.originalHeapPerEntry === null ? '-' : r.originalHeapPerEntry.toFixed(0),
      `${r.insertOurs.toFixed(3)} ms`,
      r.insertOriginal === null ? '-' : `${r.insertOriginal.toFixed(1)} ms`,
    ]),
  );
}
