/**
 * Evidence for a triage decision, read from the Store interface only, so it works the same
 * on the embedded index, with live ingestion, and on ClickHouse.
 *
 * Every part is a binary search or a bounded scan: counts come from countInRanges (binary
 * searches per chunk, never a walk over entries), bodies from entriesInRange(s) with a limit.
 * Each part is one call for all its ranges, so on a remote store a whole pass is about ten
 * queries, not hundreds.
 * A window with more errors than the sample limit is sampled in equal time slices, so the
 * signature shares describe the whole window rather than its first seconds.
 *
 *      baseline (default 1 h)                   incident window
 *   |----------------------------------|==========================|
 *   T - window_s - baseline_s      T - window_s        T       T + 60 s
 *
 * The baseline is read in one-minute slices (baseline.ts) so that a burst which began before
 * the window (a late alert) is left out of its own baseline rate.
 */
import { formatTimestamp } from '../parse/index.js';
import type { Coverage, EntryView, RangeQuery, Store } from '../store/index.js';
import { robustBaseline, sampleRange, sampleSlices, sliceCount } from './baseline.js';
import { type Runbook, type RunbookCatalog, runbookMatches } from './runbooks.js';
import { burstRatio, burstSignificance, rankSignatures, type SignatureEvidence } from './burst.js';
import { type Signature, SignatureMiner } from './signatures.js';

export { burstRatio, burstSignificance, NOISE_SD, type SignatureEvidence } from './burst.js';

/** Tags that count as errors for triage. */
export const ERROR_TAGS: readonly string[] = ['ERROR', 'FATAL'];
/** The window reaches this far past T: errors keep arriving while an alert fires. */
export const WINDOW_AFTER_S = 60;
import { DEFAULT_BASELINE_S, DEFAULT_WINDOW_S } from './limits.js';

export { DEFAULT_BASELINE_S, DEFAULT_WINDOW_S };

const US = 1_000_000;
const PROFILE_BUCKETS = 12;
/** Ratio of dominant lines a runbook must match to count as matching the signature. */
export const RUNBOOK_MIN_FIT = 0.5;
/** Dominant lines tested against each runbook: enough for a fraction, bounded in cost. */
const FIT_LINES = 200;
const TOP_SIGNATURES = 8;

export interface EvidenceOptions {
  /** Incident time, epoch microseconds. */
  t: number;
  windowS?: number;
  baselineS?: number;
  source?: string;
  catalog: RunbookCatalog;
  /** Window errors read for signature mining (default 2,000). */
  sampleLimit?: number;
  /**
   * Baseline errors read to tell recurring signatures from new ones and where each ran high
   * (default 2,400: 40 a slice over the default hour's 60 slices, enough to see a burst at
   * 0.2x the background error rate in every slice it covers).
   */
  baselineSampleLimit?: number;
  /** Body bytes read per sampled entry (default 1,024). */
  bodyCap?: number;
}

export interface RunbookFit {
  runbook: Runbook;
  /** Dominant lines tested and matched (tags and pattern). */
  matched: number;
  tested: number;
  fit: number;
}

export interface NearestError extends EntryView {
  distanceMs: number;
  signature: string | null;
}

export interface Evidence {
  t: number;
  windowS: number;
  /** [from, to] inclusive, epoch microseconds. */
  window: { from: number; to: number };
  /**
   * errors: all ERROR/FATAL entries in [from, to). errorsPerMin: the rate the burst is measured
   * against, over the slices kept (excludedS at the end left out: errors already ran high there).
   */
  baseline: { from: number; to: number; spanS: number; sliceS: number; errors: number; errorsPerMin: number | null; excludedS: number };
  coverage: Coverage;
  coverageOk: boolean;
  /** Why coverage is not ok, in plain words. */
  coverageProblems: string[];
  nearestError: NearestError | null;
  errorsInWindow: number;
  windowErrorsPerMin: number;
  /** Window error rate over the baseline rate, smoothed by one error (see burstRatio()). */
  burstRatio: number;
  /** Standard deviations above the baseline's prediction (see burstSignificance()). */
  burstZ: number;
  /** Window errors read for mining, and whether that was a sample of more. */
  sampleSize: number;
  sampled: boolean;
  signatures: SignatureEvidence[];
  distinctSignatures: number;
  /** The signature contributing most to the burst (most lines above its own baseline rate). */
  dominant: SignatureEvidence | null;
  /** The dominant signature's share of the window's errors, and the runner-up's. */
  signatureShare: number;
  secondShare: number;
  /**
   * The dominant signature's share of the burst (errors above the baseline rate), and the
   * runner-up's. Steady background noise cancels out here, so a clear incident in a noisy
   * service still reads as dominant; with a quiet baseline these equal the plain shares.
   */
  burstShare: number;
  secondBurstShare: number;
  /** Runbooks matching at least half the dominant lines, best fit first. */
  runbookFits: RunbookFit[];
  /** Error counts in equal slices of the window, and where the peak is relative to T. */
  profile: { bucketS: number; counts: number[]; peakOffsetS: number | null };
}

const iso = (us: number): string => formatTimestamp(us, 3);

async function checkCoverage(store: Store, source: string | undefined, coverage: Coverage, from: number, to: number): Promise<string[]> {
  const problems: string[] = [];
  if (coverage.entries === 0 || coverage.lastTs === null || coverage.firstTs === null) {
    return ['nothing has been ingested yet'];
  }
  if (coverage.lastTs < to) {
    const short = (to - coverage.lastTs) / US;
    problems.push(`ingestion has reached ${iso(coverage.lastTs)}, ${short.toFixed(1)} s short of the window end ${iso(to)} (T + ${WINDOW_AFTER_S} s)`);
  }
  if (coverage.retentionHorizon !== null && from < coverage.retentionHorizon) {
    problems.push(`the window starts at ${iso(from)}, before the retention horizon ${iso(coverage.retentionHorizon)}: older entries were dropped`);
  } else if (from < coverage.firstTs) {
    problems.push(`the window starts at ${iso(from)}, before the earliest ingested entry ${iso(coverage.firstTs)}`);
  }
  if (problems.length === 0) {
    // One source far behind the others leaves a hole the global coverage hides.
    const status = await store.status(source);
    for (const s of status.sources) {
      const behind = s.state === 'catching_up' || s.state === 'stalled' || s.state === 'error';
      if (behind && s.entries > 0 && (s.lastEntryTs ?? -Infinity) < to) {
        problems.push(`source '${s.name}' is ${s.state} and has reached only ${s.lastEntryTs === null ? 'nothing' : iso(s.lastEntryTs)}`);
      }
    }
  }
  return problems;
}

/** The incident window and the error ranges every phase reads. */
interface Frame {
  t: number;
  windowS: number;
  bodyCap: number;
  /** Window [from, to], epoch microseconds; spanS is its length in seconds. */
  from: number;
  to: number;
  spanS: number;
  /** The window's errors, as a range query (`to` exclusive). */
  errorRange: RangeQuery;
  /** `{ source }` when the query names one, spread into every store call. */
  sourceFilter: { source?: string };
}

function frameOf(options: EvidenceOptions): Frame {
  const { t, source } = options;
  const windowS = options.windowS ?? DEFAULT_WINDOW_S;
  const from = t - windowS * US;
  const to = t + WINDOW_AFTER_S * US;
  const sourceFilter = source === undefined ? {} : { source };
  return {
    t, windowS, bodyCap: options.bodyCap ?? 1024, from, to, spanS: windowS + WINDOW_AFTER_S,
    errorRange: { from, to: to + 1, tags: ERROR_TAGS, ...sourceFilter }, sourceFilter,
  };
}

/** One sampled window error and the signature it was mined into. */
interface Assigned {
  entry: EntryView;
  weight: number;
  sig: Signature | null;
}

/** The window's errors, sampled and mined into signatures, with per-signature weights. */
async function mineWindow(store: Store, f: Frame, errorsInWindow: number, sampleLimit: number) {
  const miner = new SignatureMiner();
  const sample = await sampleRange(store, f.errorRange, errorsInWindow, sampleLimit, f.bodyCap);
  const assigned: Assigned[] = sample.map(({ entry, weight }) => ({ entry, weight, sig: miner.add(entry.body) }));
  // Estimated window lines per signature. Ids are read after mining: templates (and so ids)
  // can still generalize while lines are added.
  const windowWeight = new Map<string, number>();
  // Sampling variance of each estimate: sum of w (w - 1) over its sampled lines (0 when read whole).
  const windowSamplingVar = new Map<string, number>();
  for (const { sig, weight } of assigned) {
    if (sig === null) continue;
    windowWeight.set(sig.id, (windowWeight.get(sig.id) ?? 0) + weight);
    windowSamplingVar.set(sig.id, (windowSamplingVar.get(sig.id) ?? 0) + weight * (weight - 1));
  }
  return { miner, sampleSize: sample.length, assigned, windowWeight, windowSamplingVar };
}

/**
 * The baseline before the window, in slices: all errors, and each signature's occurrences
 * per slice (match only: the baseline must not reshape them) with the sampling variance of
 * each estimate (sum of w (w - 1)).
 */
async function readBaseline(store: Store, miner: SignatureMiner, range: RangeQuery, spanS: number, sampleLimit: number, bodyCap: number) {
  const slices = spanS > 0 ? await sampleSlices(store, range, sliceCount(range.to - range.from), sampleLimit, bodyCap) : [];
  const perSlice = new Map<string, { values: number[]; vars: number[] }>();
  slices.forEach((slice, i) => {
    for (const { entry, weight } of slice.sample) {
      const sig = miner.match(entry.body);
      if (sig === null) continue;
      let series = perSlice.get(sig.id);
      if (series === undefined) perSlice.set(sig.id, (series = { values: slices.map(() => 0), vars: slices.map(() => 0) }));
      series.values[i]! += weight;
      series.vars[i]! += weight * (weight - 1);
    }
  });
  return {
    slices,
    errors: slices.reduce((a, s) => a + s.count, 0),
    perSlice,
    sliceWeights: slices.map((s) => s.weight),
    allErrors: robustBaseline(slices.map((s) => s.count), slices.map(() => 1), [], slices),
  };
}

/** The errors nearest T: nearest_error, and how close each signature comes to T. */
async function nearestErrors(store: Store, f: Frame, miner: SignatureMiner, assigned: readonly Assigned[]) {
  const near = await store.findNearest({
    t: f.t, tags: ERROR_TAGS, count: 20, direction: 'nearest', context: 0, bodyCap: f.bodyCap, ...f.sourceFilter,
  });
  const nearestBySig = new Map<string, number>();
  const noteNearest = (id: string, ts: number): void => {
    const d = (ts - f.t) / 1000;
    const prev = nearestBySig.get(id);
    if (prev === undefined || Math.abs(d) < Math.abs(prev)) nearestBySig.set(id, d);
  };
  for (const { entry, sig } of assigned) if (sig !== null) noteNearest(sig.id, entry.ts);
  let nearestError: NearestError | null = null;
  for (const entry of near.entries) {
    const sig = miner.match(entry.body);
    if (sig !== null) noteNearest(sig.id, entry.ts);
    if (nearestError === null) {
      const { ts, precision, tag, body, truncated, source: src, line } = entry;
      nearestError = { ts, precision, tag, body, truncated, source: src, line, distanceMs: (ts - f.t) / 1000, signature: sig?.id ?? null };
    }
  }
  return { nearestError, nearestBySig };
}

/**
 * Which runbooks describe the dominant signature: tested on its actual lines, not on the
 * masked template, since patterns are written against real messages (\d+s, ids...).
 */
function fitRunbooks(catalog: RunbookCatalog, dominant: SignatureEvidence | null, assigned: readonly Assigned[]): RunbookFit[] {
  const runbookFits: RunbookFit[] = [];
  if (dominant === null || catalog.size === 0) return runbookFits;
  const lines = assigned.filter((a) => a.sig?.id === dominant.id).slice(0, FIT_LINES);
  for (const runbook of catalog.runbooks) {
    let matched = 0;
    for (const { entry } of lines) if (runbookMatches(runbook, entry.tag, entry.body)) matched++;
    const fit = lines.length === 0 ? 0 : matched / lines.length;
    if (fit >= RUNBOOK_MIN_FIT) runbookFits.push({ runbook, matched, tested: lines.length, fit });
  }
  // Stable: best fit first, catalog order on ties.
  runbookFits.sort((a, b) => b.fit - a.fit);
  return runbookFits;
}

/** Error profile over the window: where the burst sits relative to T. */
async function errorProfile(store: Store, f: Frame): Promise<Evidence['profile']> {
  const { from, to, t } = f;
  const bucketUs = Math.ceil((to + 1 - from) / PROFILE_BUCKETS);
  const profileEdges = Array.from({ length: PROFILE_BUCKETS + 1 }, (_, i) => Math.min(to + 1, from + i * bucketUs));
  const [counts] = (await store.countInRanges({ edges: profileEdges, series: [ERROR_TAGS], ...f.sourceFilter })) as [number[]];
  let peak = -1;
  counts.forEach((c, i) => {
    if (c > 0 && (peak < 0 || c > counts[peak]!)) peak = i;
  });
  return { bucketS: bucketUs / US, counts, peakOffsetS: peak < 0 ? null : (from + (peak + 0.5) * bucketUs - t) / US };
}

/**
 * Gathers the evidence for an incident at options.t. Throws QueryError for an unknown source.
 * The phases, in the order they query the store: coverage, the window's error count, the
 * window's signatures, the baseline, the nearest errors, then (in memory) the ranking and
 * the runbook fits, and last the error profile.
 */
export async function gatherEvidence(store: Store, options: EvidenceOptions): Promise<Evidence> {
  const f = frameOf(options);
  const { t, from, to, spanS } = f;
  const baselineS = options.baselineS ?? DEFAULT_BASELINE_S;

  const coverage = await store.coverage(options.source);
  const coverageProblems = await checkCoverage(store, options.source, coverage, from, to);

  // Baseline: the span before the window that data actually exists for.
  const baselineFrom = Math.min(from, Math.max(from - baselineS * US, coverage.firstTs ?? from, coverage.retentionHorizon ?? -Infinity));
  const baselineSpanS = (from - baselineFrom) / US;
  const [[errorsInWindow]] = (await store.countInRanges({ edges: [from, to + 1], series: [ERROR_TAGS], ...f.sourceFilter })) as [[number]];

  const window = await mineWindow(store, f, errorsInWindow, options.sampleLimit ?? 2000);
  const baseline = await readBaseline(
    store, window.miner, { ...f.errorRange, from: baselineFrom, to: from }, baselineSpanS, options.baselineSampleLimit ?? 2400, f.bodyCap,
  );
  const { allErrors } = baseline;
  const { nearestError, nearestBySig } = await nearestErrors(store, f, window.miner, window.assigned);
  const signatures = rankSignatures(spanS, errorsInWindow, window, baseline, nearestBySig, baselineSpanS);
  const dominant = signatures[0] ?? null;
  const runbookFits = fitRunbooks(options.catalog, dominant, window.assigned);
  const profile = await errorProfile(store, f);

  return {
    t,
    windowS: f.windowS,
    window: { from, to },
    baseline: {
      from: baselineFrom,
      to: from,
      spanS: baselineSpanS,
      sliceS: baseline.slices.length === 0 ? 0 : baselineSpanS / baseline.slices.length,
      errors: baseline.errors,
      errorsPerMin: allErrors.spanS > 0 ? allErrors.count / (allErrors.spanS / 60) : null,
      excludedS: allErrors.excludedS,
    },
    coverage,
    coverageOk: coverageProblems.length === 0,
    coverageProblems,
    nearestError,
    errorsInWindow,
    windowErrorsPerMin: errorsInWindow / (spanS / 60),
    burstRatio: burstRatio(errorsInWindow, spanS, allErrors.count, allErrors.spanS),
    burstZ: burstSignificance(errorsInWindow, spanS, allErrors.count, allErrors.spanS),
    sampleSize: window.sampleSize,
    sampled: window.sampleSize < errorsInWindow,
    signatures: signatures.slice(0, TOP_SIGNATURES),
    distinctSignatures: window.miner.size + (window.miner.overflow > 0 ? 1 : 0),
    dominant,
    signatureShare: dominant?.share ?? 0,
    secondShare: signatures[1]?.share ?? 0,
    burstShare: dominant?.burstShare ?? 0,
    secondBurstShare: signatures[1]?.burstShare ?? 0,
    runbookFits,
    profile,
  };
}
