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
import { formatTimestamp } from '../parse/timestamp.js';
import type { Coverage, EntryView, RangeQuery, Store } from '../store/store.js';
import { robustBaseline, sampleRange, sampleSlices, sliceCount } from './baseline.js';
import { type Runbook, type RunbookCatalog, runbookMatches } from './runbooks.js';
import { type Signature, SignatureMiner } from './signatures.js';

/** Tags that count as errors for triage. */
export const ERROR_TAGS: readonly string[] = ['ERROR', 'FATAL'];
/** The window reaches this far past T: errors keep arriving while an alert fires. */
export const WINDOW_AFTER_S = 60;
export const DEFAULT_WINDOW_S = 300;
export const DEFAULT_BASELINE_S = 3600;

const US = 1_000_000;
const PROFILE_BUCKETS = 12;
/** Ratio of dominant lines a runbook must match to count as matching the signature. */
export const RUNBOOK_MIN_FIT = 0.5;
/** Dominant lines tested against each runbook: enough for a fraction, bounded in cost. */
const FIT_LINES = 200;
const TOP_SIGNATURES = 8;
/**
 * Standard deviations of noise a count must clear before it is evidence:
 * - a signature's excess (its part of the burst) counts only beyond NOISE_SD of noise. Without
 *   it the positive part of the noise of every steady background signature (Poisson, plus the
 *   sampling of a busy window) counted as burst: measured with tools/triage-eval (240
 *   scenarios, seed 1), 13-20 steady signatures took 25-45 % of the "burst" from clear
 *   incidents at 0.2-0.35x the background error rate, which then read as a weak dominance or
 *   competing signatures; and a handful of new lines in a busy service was escalated as
 *   "competing signatures" rather than as "too few lines".
 * - countLow, the line count the volume check reads, is the estimate less NOISE_SD sampling
 *   deviations (never below the lines actually read): in a busy window 5 lines of a new
 *   signature read at the sampling weight of ~7 are estimated at 37, enough to pass for a
 *   burst (test/unit/triage-evidence.test.ts).
 */
export const NOISE_SD = 2;

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

export interface SignatureEvidence {
  id: string;
  template: string;
  /** Lines of this signature in the window sample. */
  sampled: number;
  /** Estimated lines in the whole window (sampled share times errors_in_window). */
  estimated: number;
  /** Lines in the window we are sure of: the estimate less NOISE_SD sampling deviations, at least `sampled`. */
  countLow: number;
  /** Share of the window's errors. */
  share: number;
  /**
   * Estimated lines of this signature in its baseline: the baseline less any run of slices
   * just before the window where it already ran high (see baseline.ts).
   */
  baselineEstimated: number;
  /** Seconds its baseline rate is measured over, and seconds left out as the burst already under way. */
  baselineSpanS: number;
  baselineExcludedS: number;
  /**
   * Lines above what its baseline rate predicts for the window, beyond NOISE_SD standard
   * deviations of noise: its part of the burst. Steady signatures get ~0 rather than their noise.
   */
  excess: number;
  /** Share of all signatures' excess (the burst), or of the window's errors when there is no excess. */
  burstShare: number;
  /** Its rate in the window over its (smoothed) rate in the baseline. */
  burstRatio: number;
  /** Standard deviations its window count sits above what its baseline rate predicts. */
  burstZ: number;
  /** Signed distance from T to its nearest line seen, milliseconds. */
  nearestMs: number | null;
  examples: readonly string[];
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

/**
 * Rate ratio with add-one smoothing on the baseline: a quiet baseline (0 errors in an hour)
 * reads as "one error in the span" instead of dividing by zero, and a short baseline (data
 * started recently) can only support a modest ratio. Spans under a minute count as a minute.
 */
export function burstRatio(windowCount: number, windowS: number, baselineCount: number, baselineS: number): number {
  const windowRate = windowCount / (windowS / 60);
  const baselineRate = (baselineCount + 1) / (Math.max(baselineS, 60) / 60);
  return windowRate / baselineRate;
}

/**
 * How many standard deviations the window's error count sits above what the baseline rate
 * predicts (Poisson: the variance equals the mean; same add-one smoothing as burstRatio).
 * Unlike the ratio it is not diluted by steady background noise: 60 new errors/min on top of
 * 60 routine ones is a 2x ratio but z = 19, while 18 errors where 12 were expected is z = 1.7.
 * Per signature it is sharper still: a new signature has an expected count near 0, so even
 * 12/min of it stands out from 60/min of routine errors that hide it in the total.
 */
export function burstSignificance(windowCount: number, windowS: number, baselineCount: number, baselineS: number): number {
  const expected = ((baselineCount + 1) * windowS) / Math.max(baselineS, 60);
  return (windowCount - expected) / Math.sqrt(expected + 1);
}

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

/** Gathers the evidence for an incident at options.t. Throws QueryError for an unknown source. */
export async function gatherEvidence(store: Store, options: EvidenceOptions): Promise<Evidence> {
  const { t, source, catalog } = options;
  const windowS = options.windowS ?? DEFAULT_WINDOW_S;
  const baselineS = options.baselineS ?? DEFAULT_BASELINE_S;
  const bodyCap = options.bodyCap ?? 1024;
  const from = t - windowS * US;
  const to = t + WINDOW_AFTER_S * US;
  const spanS = windowS + WINDOW_AFTER_S;
  const errorRange: RangeQuery = { from, to: to + 1, tags: ERROR_TAGS, ...(source === undefined ? {} : { source }) };

  const coverage = await store.coverage(source);
  const coverageProblems = await checkCoverage(store, source, coverage, from, to);

  // Baseline: the span before the window that data actually exists for.
  const baselineFrom = Math.max(from - baselineS * US, coverage.firstTs ?? from, coverage.retentionHorizon ?? -Infinity);
  const baselineFromClamped = Math.min(baselineFrom, from);
  const baselineSpanS = (from - baselineFromClamped) / US;
  const baselineRange: RangeQuery = { ...errorRange, from: baselineFromClamped, to: from };
  const [[errorsInWindow]] = (await store.countInRanges({ edges: [from, to + 1], series: [ERROR_TAGS], ...(source === undefined ? {} : { source }) })) as [[number]];

  // Mine the window's errors.
  const miner = new SignatureMiner();
  const sample = await sampleRange(store, errorRange, errorsInWindow, options.sampleLimit ?? 2000, bodyCap);
  const assigned: Array<{ entry: EntryView; weight: number; sig: Signature | null }> = sample.map(({ entry, weight }) => ({
    entry,
    weight,
    sig: miner.add(entry.body),
  }));
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

  // Baseline occurrences of each signature per slice (match only: the baseline must not
  // reshape them), with the sampling variance of each estimate (sum of w (w - 1)).
  const slices = baselineSpanS > 0 ? await sampleSlices(store, baselineRange, sliceCount(from - baselineFromClamped), options.baselineSampleLimit ?? 2400, bodyCap) : [];
  const baselineErrors = slices.reduce((a, s) => a + s.count, 0);
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
  const sliceWeights = slices.map((s) => s.weight);
  const allErrors = robustBaseline(slices.map((s) => s.count), slices.map(() => 1), [], slices);
  const noBaseline = { count: 0, samplingVar: 0, spanS: baselineSpanS, excludedS: 0 };

  // The errors nearest T, for nearest_error and for how close each signature comes to T.
  const near = await store.findNearest({
    t, tags: ERROR_TAGS, count: 20, direction: 'nearest', context: 0, bodyCap, ...(source === undefined ? {} : { source }),
  });
  const nearestBySig = new Map<string, number>();
  const noteNearest = (id: string, ts: number): void => {
    const d = (ts - t) / 1000;
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
      nearestError = { ts, precision, tag, body, truncated, source: src, line, distanceMs: (ts - t) / 1000, signature: sig?.id ?? null };
    }
  }

  const windowMin = spanS / 60;
  const totalWeight = Math.max(1e-9, assigned.reduce((a, s) => a + s.weight, 0));
  // Two clusters can generalize into the same template, hence the same id: report it once.
  const seenIds = new Set<string>();
  const unique = miner.signatures().filter((sig) => !seenIds.has(sig.id) && seenIds.add(sig.id) !== undefined);
  const signatures: SignatureEvidence[] = unique.map((sig) => {
    const share = (windowWeight.get(sig.id) ?? 0) / totalWeight;
    const estimated = share * errorsInWindow;
    const series = perSlice.get(sig.id);
    const base = series === undefined ? noBaseline : robustBaseline(series.values, sliceWeights, series.vars, slices);
    const baselineEstimated = base.count;
    const scale = base.spanS > 0 ? spanS / base.spanS : 0;
    const expected = baselineEstimated * scale;
    // How far the window estimate may stray from `expected` with no change at all: Poisson
    // noise of the window count, the baseline estimate's own uncertainty (Poisson plus
    // sampling), window sampling.
    const noiseSd = Math.sqrt(expected + scale * scale * (baselineEstimated + base.samplingVar) + (windowSamplingVar.get(sig.id) ?? 0));
    const sampled = assigned.reduce((n, a) => n + (a.sig?.id === sig.id ? 1 : 0), 0);
    return {
      id: sig.id,
      template: sig.template,
      sampled,
      estimated,
      countLow: Math.max(sampled, estimated - NOISE_SD * Math.sqrt(windowSamplingVar.get(sig.id) ?? 0)),
      share,
      baselineEstimated,
      baselineSpanS: base.spanS,
      baselineExcludedS: base.excludedS,
      excess: Math.max(0, estimated - expected - NOISE_SD * noiseSd),
      burstShare: 0,
      burstRatio: burstRatio(estimated, spanS, baselineEstimated, base.spanS),
      burstZ: burstSignificance(estimated, spanS, baselineEstimated, base.spanS),
      nearestMs: nearestBySig.get(sig.id) ?? null,
      examples: sig.examples,
    };
  });
  // Rank by contribution to the burst; with less than one line of excess in all there is no
  // burst to apportion, and plain shares stand in (weak_burst then blocks anyway).
  const totalExcess = signatures.reduce((a, s) => a + s.excess, 0);
  for (const sig of signatures) sig.burstShare = totalExcess >= 1 ? sig.excess / totalExcess : sig.share;
  signatures.sort((a, b) => b.burstShare - a.burstShare || b.sampled - a.sampled);
  const dominant = signatures[0] ?? null;

  // Which runbooks describe the dominant signature: tested on its actual lines, not on the
  // masked template, since patterns are written against real messages (\d+s, ids...).
  const runbookFits: RunbookFit[] = [];
  if (dominant !== null && catalog.size > 0) {
    const lines = assigned.filter((a) => a.sig?.id === dominant.id).slice(0, FIT_LINES);
    for (const runbook of catalog.runbooks) {
      let matched = 0;
      for (const { entry } of lines) if (runbookMatches(runbook, entry.tag, entry.body)) matched++;
      const fit = lines.length === 0 ? 0 : matched / lines.length;
      if (fit >= RUNBOOK_MIN_FIT) runbookFits.push({ runbook, matched, tested: lines.length, fit });
    }
    // Stable: best fit first, catalog order on ties.
    runbookFits.sort((a, b) => b.fit - a.fit);
  }

  // Error profile over the window: where the burst sits relative to T.
  const bucketUs = Math.ceil((to + 1 - from) / PROFILE_BUCKETS);
  const profileEdges = Array.from({ length: PROFILE_BUCKETS + 1 }, (_, i) => Math.min(to + 1, from + i * bucketUs));
  const [counts] = (await store.countInRanges({ edges: profileEdges, series: [ERROR_TAGS], ...(source === undefined ? {} : { source }) })) as [number[]];
  let peak = -1;
  counts.forEach((c, i) => {
    if (c > 0 && (peak < 0 || c > counts[peak]!)) peak = i;
  });

  return {
    t,
    windowS,
    window: { from, to },
    baseline: {
      from: baselineFromClamped,
      to: from,
      spanS: baselineSpanS,
      sliceS: slices.length === 0 ? 0 : baselineSpanS / slices.length,
      errors: baselineErrors,
      errorsPerMin: allErrors.spanS > 0 ? allErrors.count / (allErrors.spanS / 60) : null,
      excludedS: allErrors.excludedS,
    },
    coverage,
    coverageOk: coverageProblems.length === 0,
    coverageProblems,
    nearestError,
    errorsInWindow,
    windowErrorsPerMin: errorsInWindow / windowMin,
    burstRatio: burstRatio(errorsInWindow, spanS, allErrors.count, allErrors.spanS),
    burstZ: burstSignificance(errorsInWindow, spanS, allErrors.count, allErrors.spanS),
    sampleSize: sample.length,
    sampled: sample.length < errorsInWindow,
    signatures: signatures.slice(0, TOP_SIGNATURES),
    distinctSignatures: miner.size + (miner.overflow > 0 ? 1 : 0),
    dominant,
    signatureShare: dominant?.share ?? 0,
    secondShare: signatures[1]?.share ?? 0,
    burstShare: dominant?.burstShare ?? 0,
    secondBurstShare: signatures[1]?.burstShare ?? 0,
    runbookFits,
    profile: {
      bucketS: bucketUs / US,
      counts,
      peakOffsetS: peak < 0 ? null : (from + (peak + 0.5) * bucketUs - t) / US,
    },
  };
}
