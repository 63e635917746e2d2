/**
 * The baseline: how often each error signature (and errors as a whole) occurred before the
 * incident window, measured so that the incident itself does not leak into it; and the
 * bounded samples of a range that evidence.ts mines (sampleRange for the window).
 *
 * An alert often fires minutes after the burst began. The burst's first minutes then sit in
 * the baseline, just before the window, and a plain mean over the baseline counts them as
 * the signature's normal rate: measured with tools/triage-eval (late-alert family, T 5-12 min
 * after the onset, 15-25 min of history), half of those incidents escalated with the
 * signature at only 3-5x "its usual rate" (16 of 36 auto-executed, seeds 1-3, before this
 * module; 36 of 36 with it, every other family's figures unchanged, 0 wrong auto_execute).
 *
 * So the baseline is cut into equal time slices (one minute each for the default hour, at
 * most MAX_SLICES), and a run of slices just before the window in which a series stands
 * above its own typical level (the median slice, plus RUN_SD standard deviations of Poisson
 * and sampling noise) is the incident already under way: it is left out, and the rate is
 * the mean of the slices before it. Why not the median alone: a signature that flaps for
 * 20 s every few minutes, or a rare one, has a median of 0 per slice, which would make every
 * flap of it read as a burst from nothing (the noisy-only family); the mean of the slices
 * before the run keeps those. The run can never cover more than half the slices (they sit
 * above the median), so half the baseline always remains.
 *
 *   baseline slices (median level ----)                 incident window
 *   | . : . . : . . : . . |##|##|##|##|    ->    rate = mean of the slices left of the run
 *                          ^ trailing run above the typical level: the burst already began
 */
import type { EntryView, RangeQuery, Store } from '../store/index.js';

/** At most this many slices, whatever the baseline's span (each costs a count and a read). */
export const MAX_SLICES = 60;
/** Slices are at least this long (microseconds): a minute of logs has enough lines to count. */
const MIN_SLICE_US = 60_000_000;
/** Standard deviations above its median slice that make a slice part of a run. */
export const RUN_SD = 3;
/**
 * A run shorter than this is not left out: one slice over the line is as likely a flap or
 * noise as a burst's onset, and a burst's first minute alone barely moves a rate over the
 * baseline (one slice of 15 or more).
 */
export const MIN_RUN = 2;

/** A sampled entry and how many entries of its slice it stands for. */
export interface Sampled {
  entry: EntryView;
  weight: number;
}

export interface Slice {
  from: number;
  /** Exclusive. */
  to: number;
  /** Entries in the slice (exact, from the store's counts). */
  count: number;
  /** Entries per line read from it (1 when read whole); each line carries its part's own weight. */
  weight: number;
  sample: Sampled[];
}

/**
 * Up to about `limit` entries of a range. When the range holds more, it is cut into equal
 * time slices, each read up to limit/slices entries and weighted by its true count (the
 * slices' counts from one countInRanges call), so a slice holding the burst counts for what
 * it holds rather than for as many lines as a quiet slice.
 */
export async function sampleRange(store: Store, range: RangeQuery, total: number, limit: number, bodyCap: number): Promise<Sampled[]> {
  if (total <= limit) return (await store.entriesInRange(range, limit, bodyCap)).map((entry) => ({ entry, weight: 1 }));
  const slices = Math.max(1, Math.min(100, Math.floor(limit / 20)));
  const per = Math.max(1, Math.floor(limit / slices));
  const span = range.to - range.from;
  const edges = Array.from({ length: slices + 1 }, (_, i) => range.from + Math.floor((span * i) / slices));
  const where = { edges, ...(range.source === undefined ? {} : { source: range.source }) };
  // Two calls for all slices (two queries on a remote store), not two per slice.
  const [[counts], entries] = await Promise.all([
    store.countInRanges({ ...where, series: [range.tags] }),
    store.entriesInRanges({ ...where, tags: range.tags }, per, bodyCap),
  ]);
  const out: Sampled[] = [];
  for (let i = 0; i < slices; i++) {
    const count = counts![i]!;
    const got = entries[i]!;
    if (count === 0 || got.length === 0) continue;
    for (const entry of got) out.push({ entry, weight: count / got.length });
  }
  return out;
}

/** Slice count for a span: one a minute, at most MAX_SLICES, at least 1. */
export function sliceCount(spanUs: number): number {
  return Math.max(1, Math.min(MAX_SLICES, Math.floor(spanUs / MIN_SLICE_US)));
}

/**
 * Reads within a slice are spread over this many equal parts: a store reads a range oldest
 * first, so 40 lines read from a one-minute slice of a busy service cover its first second
 * only, and a signature that flaps for 25 s at the half-minute was never seen in its baseline
 * (test/property/triage-baseline.property.test.ts); four reads of 10 see every 15 s.
 */
export const READS_PER_SLICE = 4;

/**
 * Cuts [range.from, range.to) into n equal slices, counts each, and reads up to about `limit`
 * entries in all: everything when the range holds no more, else an equal share spread over
 * each slice (READS_PER_SLICE parts), weighted by each part's true count so a busy part
 * counts for what it holds.
 */
export async function sampleSlices(store: Store, range: RangeQuery, n: number, limit: number, bodyCap: number): Promise<Slice[]> {
  const span = range.to - range.from;
  const parts = n * READS_PER_SLICE;
  const edges = Array.from({ length: parts + 1 }, (_, i) => range.from + Math.floor((span * i) / parts));
  const where = { edges, ...(range.source === undefined ? {} : { source: range.source }) };
  // One call counts every part (one query on a remote store).
  const [counts] = (await store.countInRanges({ ...where, series: [range.tags] })) as [number[]];
  const slices: Slice[] = Array.from({ length: n }, (_, i) => {
    let count = 0;
    for (let j = i * READS_PER_SLICE; j < (i + 1) * READS_PER_SLICE; j++) count += counts[j]!;
    return { from: edges[i * READS_PER_SLICE]!, to: edges[(i + 1) * READS_PER_SLICE]!, count, weight: 1, sample: [] };
  });
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return slices;
  if (total <= limit) {
    let i = 0;
    for (const entry of await store.entriesInRange(range, limit, bodyCap)) {
      while (i + 1 < n && entry.ts >= slices[i]!.to) i++;
      slices[i]!.sample.push({ entry, weight: 1 });
    }
    return slices;
  }
  const busy = counts.filter((c) => c > 0).length;
  const per = Math.max(1, Math.floor(limit / busy));
  // One call reads every part (empty parts cost nothing).
  const read = await store.entriesInRanges({ ...where, tags: range.tags }, per, bodyCap);
  counts.forEach((count, j) => {
    const entries = read[j] ?? [];
    if (count === 0 || entries.length === 0) return;
    const weight = count / entries.length;
    slices[Math.floor(j / READS_PER_SLICE)]!.sample.push(...entries.map((entry) => ({ entry, weight })));
  });
  // A slice's weight: entries per line read (what one sampled line of it stands for).
  for (const s of slices) s.weight = s.sample.length === 0 ? 1 : Math.max(1, s.count / s.sample.length);
  return slices;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * How many slices at the end of a series (the ones nearest the window) form a run above its
 * typical level. `weights` are the slices' sampling weights (1 = counted exactly): an estimate
 * read at weight w varies by about sqrt(level x (1 + w)), and one sampled line alone (w) is
 * never a run. Returns 0 for a run shorter than MIN_RUN.
 */
export function trailingRun(values: readonly number[], weights: readonly number[]): number {
  const level = median(values);
  let run = 0;
  for (let i = values.length - 1; i >= 0; i--) {
    const w = weights[i] ?? 1;
    const threshold = level + RUN_SD * Math.sqrt(level * (1 + w)) + w;
    if (!(values[i]! > threshold)) break;
    run++;
  }
  return run >= MIN_RUN ? run : 0;
}

/** A series' baseline once a trailing run is left out. */
export interface RobustBaseline {
  /** Entries (estimated, for a signature) in the slices kept. */
  count: number;
  /** Variance of that estimate from sampling (sum of w (w - 1) per line read; 0 when counted). */
  samplingVar: number;
  /** Seconds the kept slices span: the rate is count / spanS. */
  spanS: number;
  /** Seconds left out at the end because the series was already running high there. */
  excludedS: number;
}

/**
 * The robust baseline of one series given per-slice values (counts or estimates), the weight
 * each was read at (1 for exact counts), their sampling variances and the slices. With no
 * slices (no baseline span) everything is 0.
 */
export function robustBaseline(values: readonly number[], weights: readonly number[], samplingVars: readonly number[], slices: readonly Slice[]): RobustBaseline {
  const run = trailingRun(values, weights);
  const kept = slices.length - run;
  let count = 0;
  let samplingVar = 0;
  for (let i = 0; i < kept; i++) {
    count += values[i]!;
    samplingVar += samplingVars[i] ?? 0;
  }
  const spanUs = (s: readonly Slice[]): number => s.reduce((a, x) => a + (x.to - x.from), 0);
  return { count, samplingVar, spanS: spanUs(slices.slice(0, kept)) / 1e6, excludedS: spanUs(slices.slice(kept)) / 1e6 };
}
